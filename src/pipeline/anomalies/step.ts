// Step change: the value moved by at least `threshold` against where it was `lookbackUs` ago, on
// `consecutive` updates in a row. GSF's FrequencyExcursion adapter (openPDC/openECA) uses
// "estimateTriggerThreshold = .0256" Hz over "analysisWindowSize = 4 * framesPerSecond" samples
// with "consecutiveDetections = 2"; GSF tests once per second (analysisInterval = framesPerSecond),
// so two hits there span 1 s, while fed per 100 ms window here they span 100 ms.
//
// History is a ring of (t, value) pairs, sized for updates every periodUs:
//
//   slot:  0    1    2    3    …   cap−1          seq n lives in slot n mod cap
//        ┌────┬────┬────┬────┬───┬─────┐         oldest kept seq = count − cap
//   t[]  │    │    │    │    │   │     │         newest      seq = count − 1
//   v[]  │    │    │    │    │   │     │
//        └────┴────┴────┴────┴───┴─────┘
//
// The reference is the newest sample at or before t − lookbackUs. Event time only moves forward,
// so it is found with a cursor that only moves forward too (amortised O(1), no search). The ring
// holds 2·⌈lookback/period⌉ + 2 samples, so updates may arrive up to twice as often as periodUs
// before the reference could be overwritten. The reference must lie within 2·periodUs before the
// target (one missing update is tolerated whatever the alignment of lookback to the period); an
// older one (a gap in the data) or none at all (start-up) is no reference: the update is inactive
// and the run of consecutive hits restarts. A NaN value is skipped: not stored, and the state and the run
// are left as they were (missing data neither raises nor clears).

export interface StepChangeOptions {
  /** How far back (µs of event time) the value is compared against. */
  lookbackUs: number;
  /** The minimum |value − value(t − lookback)| that counts as a hit (units of the value). */
  threshold: number;
  /** Hits in a row before the condition is active. */
  consecutive: number;
  /** The expected interval between updates (µs), used to size the history. */
  periodUs: number;
}

export class StepChange {
  readonly #lookbackUs: number;
  readonly #threshold: number;
  readonly #consecutive: number;
  readonly #maxRefLagUs: number;
  readonly #cap: number;
  readonly #t: Float64Array;
  readonly #v: Float64Array;
  #count = 0;
  #ref = -1; // seq of the newest sample known to be at or before the last target; may be evicted
  #hits = 0;
  #delta = Number.NaN;
  #refUs = Number.NaN;

  constructor(options: StepChangeOptions) {
    const { lookbackUs, threshold, consecutive, periodUs } = options;
    if (!(lookbackUs > 0) || !(periodUs > 0) || !Number.isFinite(lookbackUs / periodUs)) {
      throw new RangeError(`step change needs lookbackUs > 0 and periodUs > 0 (got ${lookbackUs}, ${periodUs})`);
    }
    if (!(threshold >= 0)) throw new RangeError(`step change threshold must be ≥ 0 (got ${threshold})`);
    if (!Number.isInteger(consecutive) || consecutive < 1) {
      throw new RangeError(`step change consecutive must be an integer ≥ 1 (got ${consecutive})`);
    }
    this.#lookbackUs = lookbackUs;
    this.#threshold = threshold;
    this.#consecutive = consecutive;
    this.#maxRefLagUs = 2 * periodUs;
    this.#cap = 2 * Math.ceil(lookbackUs / periodUs) + 2;
    this.#t = new Float64Array(this.#cap);
    this.#v = new Float64Array(this.#cap);
  }

  /** Feed one value at event time tUs (non-decreasing). Returns whether the step condition holds. */
  update(tUs: number, value: number): boolean {
    if (Number.isNaN(value)) return this.active;

    const target = tUs - this.#lookbackUs;
    const oldest = this.#count - this.#cap;
    if (this.#ref < oldest - 1) this.#ref = oldest - 1;
    while (this.#ref + 1 < this.#count && this.#tAt(this.#ref + 1) <= target) this.#ref += 1;

    if (this.#ref >= oldest && this.#ref >= 0 && this.#tAt(this.#ref) >= target - this.#maxRefLagUs) {
      const slot = this.#ref % this.#cap;
      this.#refUs = this.#t[slot] ?? Number.NaN;
      this.#delta = value - (this.#v[slot] ?? Number.NaN);
      this.#hits = Math.abs(this.#delta) >= this.#threshold ? this.#hits + 1 : 0;
    } else {
      this.#refUs = Number.NaN;
      this.#delta = Number.NaN;
      this.#hits = 0;
    }

    const slot = this.#count % this.#cap;
    this.#t[slot] = tUs;
    this.#v[slot] = value;
    this.#count += 1;
    return this.active;
  }

  /** Whether the last `consecutive` evaluated updates were all hits. */
  get active(): boolean {
    return this.#hits >= this.#consecutive;
  }

  /** value − value(reference) at the last evaluated update, signed; NaN when there was no reference. */
  get delta(): number {
    return this.#delta;
  }

  /** Event time (µs) of the reference sample of the last evaluated update; NaN when there was none. */
  get referenceUs(): number {
    return this.#refUs;
  }

  /** Hits in a row so far. */
  get hits(): number {
    return this.#hits;
  }

  reset(): void {
    this.#count = 0;
    this.#ref = -1;
    this.#hits = 0;
    this.#delta = Number.NaN;
    this.#refUs = Number.NaN;
  }

  #tAt(seq: number): number {
    return this.#t[seq % this.#cap] ?? Number.NaN;
  }
}
