import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goertzelPower, periodicHann, sumOfSquares } from '../../../../src/pipeline/anomalies/spectral.js';

/** |Σ x[n]·e^(−jωn)|² the slow way. */
function dftPower(x: Float64Array, start: number, len: number, omega: number): number {
  let re = 0;
  let im = 0;
  for (let n = 0; n < len; n++) {
    const v = x[start + n] as number;
    re += v * Math.cos(omega * n);
    im -= v * Math.sin(omega * n);
  }
  return re * re + im * im;
}

describe('spectral helpers', () => {
  it('Goertzel gives the DFT power at integer and non-integer bins, over a sub-range', () => {
    const x = Float64Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.31) + 0.5 * Math.cos(i * 1.7 + 0.2) + ((i * 7919) % 13) / 13);
    for (const bin of [0, 1, 2.37, 17, 63.5, 100]) {
      const omega = (2 * Math.PI * bin) / 200;
      const want = dftPower(x, 50, 200, omega);
      const got = goertzelPower(x, 50, 200, 2 * Math.cos(omega));
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, want), `bin ${bin}: ${got} vs ${want}`);
    }
  });

  it('the periodic Hann window sums to len/2 and its squares to 3·len/8', () => {
    for (const len of [8, 150, 600]) {
      const w = periodicHann(len);
      assert.equal(w[0], 0);
      assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - len / 2) < 1e-9);
      assert.ok(Math.abs(sumOfSquares(w) - (3 * len) / 8) < 1e-9);
    }
  });
});
