// Frame gaps and duplicates at the nominal rate (one tracker per stream). Frame k of a stream
// reporting at R frames/s carries time k/R, so the time step between consecutive frames says what
// happened: one period is normal, n periods is n−1 frames missing, zero is a duplicate, negative
// is out of order. Times are compared in microseconds, with half a period of tolerance for
// devices whose FRACSEC is rounded.

export type FrameVerdict = 'first' | 'next' | 'gap' | 'duplicate' | 'out-of-order';

export class FrameTracker {
  #periodUs = 0;
  #lastUs = Number.NaN;
  /** Frames missing in the last gap. */
  missing = 0;

  /** Reset for a (new) configuration: DATA_RATE frames/s, negative = seconds per frame. */
  configure(dataRate: number): void {
    this.#periodUs = dataRate > 0 ? 1_000_000 / dataRate : dataRate < 0 ? -dataRate * 1_000_000 : 0;
    this.#lastUs = Number.NaN;
  }

  get periodUs(): number {
    return this.#periodUs;
  }

  observe(timeUs: number): FrameVerdict {
    const last = this.#lastUs;
    this.missing = 0;
    if (Number.isNaN(last)) {
      this.#lastUs = timeUs;
      return 'first';
    }
    const step = timeUs - last;
    if (step === 0) return 'duplicate';
    if (step < 0) return 'out-of-order';
    this.#lastUs = timeUs;
    if (this.#periodUs === 0) return 'next';
    const periods = Math.round(step / this.#periodUs);
    if (periods <= 1) return 'next';
    this.missing = periods - 1;
    return 'gap';
  }
}
