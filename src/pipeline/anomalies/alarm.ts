// A relay-style alarm: a boolean condition becomes a pair of transitions (raised, cleared) through
// a pickup timer and a dropout timer, both in event time. This is the GE UR element model: an
// element "picks up" when its operand has been asserted for its PICKUP DELAY and "drops out" when
// it has been de-asserted for its RESET/DROPOUT DELAY; a de-assertion shorter than the timer
// restarts it, so a condition flickering around its threshold does not chatter. Level hysteresis
// belongs to the comparator in front of this (band.ts), not here.
//
//               active                       active for ≥ pickupUs: emit 'raised'
//   ┌──────┐ ───────────▶ ┌────────────┐ ─────────────────────────────▶ ┌────────┐
//   │ IDLE │              │ PICKING_UP │                                │ RAISED │◀─┐
//   └──────┘ ◀─────────── └────────────┘                                └────────┘  │ active
//      ▲        inactive (the timer restarts)                    inactive │         │ (timer restarts)
//      │                                                                  ▼         │
//      │       inactive for ≥ dropoutUs: emit 'cleared'           ┌──────────────┐  │
//      └───────────────────────────────────────────────────────── │ DROPPING_OUT │──┘
//                                                                 └──────────────┘
//
// Time is sampled: the condition is known only at update times, so "continuously active for
// pickupUs" means every update from the first active one (the onset) to the current one was
// active and current − onset ≥ pickupUs. With updates every 100 ms a pickup of 1…100 ms therefore
// raises on the second consecutive active update, and pickupUs = 0 on the first. Dropout works the
// same from the first inactive update after the raise; dropoutUs = 0 clears on it.
//
// peak: the most extreme value among the active updates of the episode (from the onset, pickup
// phase included, to the clear; NaN values ignored): by default the signed value with the largest
// |value| (for deviations and z-scores), or the lowest (`peak: 'min'`: a sag, an under-frequency)
// or the highest (`'max'`: a swell, an overcurrent). Values of inactive updates are not counted,
// so an in-band value can never become the peak.
//
// Transitions are rare, so update() allocates a small object only when it returns one; the ordinary
// update allocates nothing.

export interface AlarmOptions {
  /** How long the condition must hold, in µs of event time, before the alarm is raised. */
  pickupUs: number;
  /** How long the condition must be absent, in µs of event time, before a raised alarm clears. */
  dropoutUs: number;
  /**
   * Which value is the episode's peak: 'abs' the largest |value| (a deviation, a z-score: the
   * default), 'min' the lowest (a sag, an under-frequency), 'max' the highest (a swell).
   */
  peak?: 'abs' | 'min' | 'max';
}

export interface AlarmTransition {
  state: 'raised' | 'cleared';
  /** Event time (µs) of the first active update of the episode. */
  onsetUs: number;
  /** Event time (µs) of the update that completed the pickup or dropout timer. */
  atUs: number;
  /** The signed value of largest magnitude seen while active in this episode (NaN if none). */
  peak: number;
}

const IDLE = 0;
const PICKING_UP = 1;
const RAISED = 2;
const DROPPING_OUT = 3;
type Phase = typeof IDLE | typeof PICKING_UP | typeof RAISED | typeof DROPPING_OUT;

export class Alarm {
  readonly #pickupUs: number;
  readonly #dropoutUs: number;
  #phase: Phase = IDLE;
  #onsetUs = Number.NaN;
  #inactiveSinceUs = Number.NaN;
  #peak = Number.NaN;
  readonly #peakOf: 'abs' | 'min' | 'max';

  constructor(options: AlarmOptions) {
    if (!(options.pickupUs >= 0) || !(options.dropoutUs >= 0)) {
      throw new RangeError(`alarm timers must be ≥ 0 µs (pickupUs ${options.pickupUs}, dropoutUs ${options.dropoutUs})`);
    }
    this.#pickupUs = options.pickupUs;
    this.#dropoutUs = options.dropoutUs;
    this.#peakOf = options.peak ?? 'abs';
  }

  /** True from the 'raised' transition to the 'cleared' one. */
  get raised(): boolean {
    return this.#phase === RAISED || this.#phase === DROPPING_OUT;
  }

  /** Feed the condition at event time tUs (non-decreasing). Returns a transition or null. */
  update(tUs: number, active: boolean, value: number): AlarmTransition | null {
    switch (this.#phase) {
      case IDLE:
        if (!active) return null;
        this.#phase = PICKING_UP;
        this.#onsetUs = tUs;
        this.#peak = Number.NaN;
        this.#track(value);
        return this.#tryRaise(tUs);
      case PICKING_UP:
        if (!active) {
          this.#phase = IDLE;
          return null;
        }
        this.#track(value);
        return this.#tryRaise(tUs);
      case RAISED:
        if (active) {
          this.#track(value);
          return null;
        }
        this.#phase = DROPPING_OUT;
        this.#inactiveSinceUs = tUs;
        return this.#tryClear(tUs);
      case DROPPING_OUT:
        if (active) {
          this.#phase = RAISED;
          this.#track(value);
          return null;
        }
        return this.#tryClear(tUs);
    }
  }

  /** Forget everything (no transition is emitted for an alarm that was raised). */
  reset(): void {
    this.#phase = IDLE;
    this.#onsetUs = Number.NaN;
    this.#inactiveSinceUs = Number.NaN;
    this.#peak = Number.NaN;
  }

  #track(value: number): void {
    // Comparisons with NaN are false, so a missing value never replaces a real peak.
    const p = this.#peak;
    const more =
      this.#peakOf === 'abs' ? Math.abs(value) > Math.abs(p) : this.#peakOf === 'min' ? value < p : value > p;
    if (Number.isNaN(p) || more) this.#peak = value;
  }

  #tryRaise(tUs: number): AlarmTransition | null {
    if (tUs - this.#onsetUs < this.#pickupUs) return null;
    this.#phase = RAISED;
    return { state: 'raised', onsetUs: this.#onsetUs, atUs: tUs, peak: this.#peak };
  }

  #tryClear(tUs: number): AlarmTransition | null {
    if (tUs - this.#inactiveSinceUs < this.#dropoutUs) return null;
    this.#phase = IDLE;
    return { state: 'cleared', onsetUs: this.#onsetUs, atUs: tUs, peak: this.#peak };
  }
}
