// Flat line: a channel whose value has not moved by more than `resolution` for minDurationUs of
// event time. A live measurement always carries some noise, so an exactly repeated value (or one
// stuck within a resolution step) usually means a frozen transducer, a PMU repeating its last
// phasor, or a gateway upstream substituting the last good value.
//
// Fed once per closed window with the window's min, max and sample count. A window moved when its
// own spread max − min exceeds resolution, or when min or max is more than resolution away from the
// reference (the value the flat run started at). A moved window restarts the run with duration 0 at
// its end (its own span is not credited: the value changed somewhere inside it), and its value
// becomes the reference only if it was itself flat. A window that did not move adds its span
// (its end minus the previous update's end) to the duration.
//
//   window:   │ moved │ flat │ flat │ empty │ flat │ flat │
//   duration:     0     +dt    +dt    (held)   +dt    +dt      active once ≥ minDurationUs
//
// An empty window (count 0, or NaN min/max) neither extends nor breaks the run: a gap is not a flat
// line (staleness is detected elsewhere), and missing data must not clear an alarm, so the state is
// held and the empty window's span is simply not credited. The caller must feed every closed window,
// including empty ones; a skipped window's span would be credited to the next one.

export interface FlatLineOptions {
  /** How long (µs of event time) the value must stay within resolution to count as flat. */
  minDurationUs: number;
  /** The largest change (units of the value) that still counts as unchanged; 0 means exactly equal. */
  resolution: number;
}

export class FlatLine {
  readonly #minDurationUs: number;
  readonly #resolution: number;
  #hasRef = false;
  #ref = Number.NaN;
  #durationUs = 0;
  #prevUs = Number.NaN;

  constructor(options: FlatLineOptions) {
    if (!(options.minDurationUs >= 0)) throw new RangeError(`flat line minDurationUs must be ≥ 0 (got ${options.minDurationUs})`);
    if (!(options.resolution >= 0)) throw new RangeError(`flat line resolution must be ≥ 0 (got ${options.resolution})`);
    this.#minDurationUs = options.minDurationUs;
    this.#resolution = options.resolution;
  }

  /** Feed one closed window ending at tUs (non-decreasing). Returns whether the channel is flat. */
  update(tUs: number, min: number, max: number, count: number): boolean {
    const spanUs = Number.isNaN(this.#prevUs) ? 0 : tUs - this.#prevUs;
    this.#prevUs = tUs;
    if (!(count > 0) || Number.isNaN(min) || Number.isNaN(max)) return this.active;

    const res = this.#resolution;
    const selfFlat = max - min <= res;
    if (this.#hasRef && selfFlat && Math.abs(min - this.#ref) <= res && Math.abs(max - this.#ref) <= res) {
      this.#durationUs += spanUs;
    } else {
      this.#hasRef = selfFlat;
      this.#ref = selfFlat ? min : Number.NaN;
      this.#durationUs = 0;
    }
    return this.active;
  }

  get active(): boolean {
    return this.#hasRef && this.#durationUs >= this.#minDurationUs;
  }

  /** Event time (µs) the value has been flat, counting only windows that had data. */
  get durationUs(): number {
    return this.#hasRef ? this.#durationUs : 0;
  }

  /** The value the current flat run started at (NaN when there is none). */
  get reference(): number {
    return this.#ref;
  }

  reset(): void {
    this.#hasRef = false;
    this.#ref = Number.NaN;
    this.#durationUs = 0;
    this.#prevUs = Number.NaN;
  }
}
