// A level comparator with hysteresis: the condition in front of an Alarm for "value outside the
// band [low, high]". It trips when the value leaves the band and resets only once the value is back
// inside by the hysteresis margin, so a value hovering on a threshold does not toggle each update.
// This is the relay "dropout ratio" (GE UR/F650 over-elements drop out at 97–98 % of pickup,
// under-elements at 102–103 %) and the IEC 61000-4-30 dip/swell hysteresis (the event ends when the
// voltage is back past threshold ± hysteresis, typically 2 % of the declared voltage) written in
// absolute units of the value.
//
//              value > high  or  value < low
//   ┌──────────┐ ──────────────────────────▶ ┌────────────────────────┐
//   │ INACTIVE │                             │ ACTIVE (side high/low) │
//   └──────────┘ ◀────────────────────────── └────────────────────────┘
//        low + hysteresis ≤ value ≤ high − hysteresis
//
// NaN keeps the previous state: missing data must not clear an alarm (nor raise one); staleness is
// a separate detector. An omitted side never trips. While active, the side follows the value: a
// swing from above high to below low switches side (and lastThreshold) without clearing.

export interface BandOptions {
  /** Trips when value > high. Omit for a low-only band. */
  high?: number;
  /** Trips when value < low. Omit for a high-only band. */
  low?: number;
  /** How far back inside the band (same units as the value) the value must come to reset. */
  hysteresis: number;
}

export class Band {
  readonly #high: number;
  readonly #low: number;
  readonly #highReset: number;
  readonly #lowReset: number;
  #side: 'high' | 'low' | null = null;
  #lastThreshold = Number.NaN;

  constructor(options: BandOptions) {
    const high = options.high ?? Number.POSITIVE_INFINITY;
    const low = options.low ?? Number.NEGATIVE_INFINITY;
    const h = options.hysteresis;
    if (options.high === undefined && options.low === undefined) throw new RangeError('a band needs high, low or both');
    if (Number.isNaN(high) || Number.isNaN(low)) throw new RangeError('band limits must be numbers');
    if (!(h >= 0) || !Number.isFinite(h)) throw new RangeError(`band hysteresis must be finite and ≥ 0 (got ${h})`);
    if (!(high - h >= low + h)) {
      throw new RangeError(`band [${low}, ${high}] with hysteresis ${h} leaves no value at which it resets`);
    }
    this.#high = high;
    this.#low = low;
    this.#highReset = high - h;
    this.#lowReset = low + h;
  }

  /** Whether the value is outside the band (with hysteresis); NaN returns the previous state. */
  test(value: number): boolean {
    if (value > this.#high) this.#trip('high', this.#high);
    else if (value < this.#low) this.#trip('low', this.#low);
    else if (this.#side !== null && value <= this.#highReset && value >= this.#lowReset) this.#side = null;
    // NaN fails every comparison above, so it lands here with the state unchanged.
    return this.#side !== null;
  }

  get active(): boolean {
    return this.#side !== null;
  }

  /** The side that is currently tripped, null while inactive. */
  get side(): 'high' | 'low' | null {
    return this.#side;
  }

  /** The threshold crossed by the most recent trip (kept after the reset, for the record); NaN before any. */
  get lastThreshold(): number {
    return this.#lastThreshold;
  }

  reset(): void {
    this.#side = null;
    this.#lastThreshold = Number.NaN;
  }

  #trip(side: 'high' | 'low', threshold: number): void {
    this.#side = side;
    this.#lastThreshold = threshold;
  }
}
