// Spectral helpers for the oscillation monitor: the periodic Hann window and the Goertzel
// recurrence, which gives |X(ω)|² of one DFT bin in one multiply and two adds per sample. For a few
// hundred bins of a few hundred samples that beats an FFT in plain JS (no complex buffers, no
// bit reversal) and, unlike an FFT, works at a non-integer bin too (the damping segments use it at
// the refined dominant frequency). Goertzel (1958); the magnitude identity
// |X|² = s1² + s2² − 2cos(ω)·s1·s2 holds for any ω, only the phase would need the extra rotation.

/** |X(ω)|² of x[start … start+len) by the Goertzel recurrence; coeff = 2cos ω (ω in rad/sample). */
export function goertzelPower(x: Float64Array, start: number, len: number, coeff: number): number {
  let s1 = 0;
  let s2 = 0;
  const end = start + len;
  for (let i = start; i < end; i++) {
    const s0 = (x[i] as number) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** The periodic Hann window w[i] = ½(1 − cos(2πi/len)), the DFT-even form: Σw = len/2, Σw² = 3·len/8. */
export function periodicHann(len: number): Float64Array {
  const w = new Float64Array(len);
  for (let i = 0; i < len; i++) w[i] = 0.5 * (1 - Math.cos((2 * Math.PI * i) / len));
  return w;
}

export function sumOfSquares(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}
