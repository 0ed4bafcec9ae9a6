import { FRACTION_MASK } from '../constants.js';

// Time for the simulator. Frames sit on the reporting grid (C37.118.1: reports at integer multiples
// of the reporting period, the first at the top of the second): frame n is at n / DATA_RATE
// seconds since the epoch, or n × |DATA_RATE| seconds when DATA_RATE < 0 (one frame per |rate| s).
// Indexes are integers below 2^53, so SOC and the FRACSEC fraction come from integer arithmetic:
//
//   rate > 0:  SOC = ⌊n / rate⌋, fraction = round((n mod rate) × TIME_BASE / rate)
//   rate < 0:  SOC = n × |rate|, fraction = 0
//
// The simulator's clock is the wall clock, or with --start-soc the wall clock shifted so that the
// run starts exactly at that second: the same frames, values and time stamps on every run.

export class ReportingGrid {
  readonly dataRate: number;
  readonly timeBase: number;

  constructor(dataRate: number, timeBase: number) {
    if (!Number.isInteger(dataRate) || dataRate === 0) throw new RangeError(`DATA_RATE ${dataRate} is not a non-zero integer`);
    this.dataRate = dataRate;
    this.timeBase = timeBase & FRACTION_MASK;
  }

  /** Frame n's time, seconds since the epoch (a double: for scheduling and display). */
  seconds(n: number): number {
    return this.dataRate > 0 ? n / this.dataRate : n * -this.dataRate;
  }

  /** Seconds from `soc` (a whole second) to frame n, as exact as a double allows. */
  secondsSince(n: number, soc: number): number {
    return this.dataRate > 0 ? (n - soc * this.dataRate) / this.dataRate : n * -this.dataRate - soc;
  }

  /** The first frame at or after `seconds` (a 1 ns tolerance absorbs float error). */
  atOrAfter(seconds: number): number {
    return this.dataRate > 0 ? Math.ceil(seconds * this.dataRate - 1e-9) : Math.ceil(seconds / -this.dataRate - 1e-9);
  }

  /** The last frame at or before `seconds`. */
  atOrBefore(seconds: number): number {
    return this.dataRate > 0 ? Math.floor(seconds * this.dataRate + 1e-9) : Math.floor(seconds / -this.dataRate + 1e-9);
  }

  soc(n: number): number {
    return this.dataRate > 0 ? Math.floor(n / this.dataRate) : n * -this.dataRate;
  }

  /** The FRACSEC word of frame n: time quality byte and fraction. */
  fracsec(n: number, timeQuality: number): number {
    let fraction = 0;
    if (this.dataRate > 0) {
      const k = n - Math.floor(n / this.dataRate) * this.dataRate;
      fraction = Math.round((k * this.timeBase) / this.dataRate);
    }
    return (((timeQuality & 0xff) << 24) | fraction) >>> 0;
  }
}

export class SimClock {
  readonly #wall: () => number;
  readonly #offsetMs: number;
  /** Scenario time 0, seconds since the epoch. */
  readonly originSoc: number;

  constructor(wall: () => number, startSoc: number | undefined) {
    this.#wall = wall;
    const now = wall();
    this.#offsetMs = startSoc === undefined ? 0 : startSoc * 1000 - now;
    this.originSoc = startSoc ?? Math.floor(now / 1000);
  }

  /** Simulated now, ms since the epoch. */
  nowMs(): number {
    return this.#wall() + this.#offsetMs;
  }

  /** Scenario time now, seconds. */
  scenarioSeconds(): number {
    return this.nowMs() / 1000 - this.originSoc;
  }

  /** SOC and fraction of now, for frames off the grid (configuration, header). */
  stamp(timeBase: number): { soc: number; fraction: number } {
    const ms = this.nowMs();
    const soc = Math.floor(ms / 1000);
    return { soc, fraction: Math.min(timeBase - 1, Math.floor(((ms - soc * 1000) / 1000) * timeBase)) };
  }
}
