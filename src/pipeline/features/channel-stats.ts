import { finite } from '../record.js';
// Statistics of one channel inside one window: count, missing, mean, min, max, population std,
// rms, first and last, in O(1) state and O(1) per sample, without allocation.
//
// Why Welford on shifted data: the one-pass Σx² − n·mean² cancels catastrophically at 132 790 V ± 1 V
// (it keeps about three digits). Welford's update keeps the second central moment M2 directly:
//   δ = d − m;  m += δ / n;  M2 += δ · (d − m)                   (Welford 1962, Knuth TAOCP 4.2.2)
// Plain Welford still rounds m at the ulp of 132 790 (≈ 3e-11), a 1e-11 relative error on std for
// ±5 V of noise; so it runs on d = x − K with K = the first value (exact: Sterbenz), which leaves
// only the noise's own digits in m. Then mean = K + m and
//   var = M2 / n  (population, ddof = 0: numpy's np.std default);  std = √var
//   rms = √(mean(x²)) = √(mean² + var), so rms needs no separate Σx².
// merge() combines two windows' states (Chan, Golub, LeVeque 1979), `other` being later in time:
//   n = nA + nB;  δ = meanB − meanA;  mean = meanA + δ·nB/n;  M2 = M2A + M2B + δ²·nA·nB/n
// with δ taken as (KB − KA) + (mB − mA) so that the large parts cancel exactly first.
// Non-finite samples (NaN, ±Infinity) carry no value: they count in `missing` and nowhere else.

export class ChannelStats {
  #count = 0;
  #missing = 0;
  /** K: the first value, the shift the moments are taken around. */
  #shift = 0;
  /** m: mean of (x − K). */
  #meanShifted = 0;
  #m2 = 0;
  #min = Infinity;
  #max = -Infinity;
  #first = NaN;
  #last = NaN;

  /** Adds one sample; the caller adds in event-time order (first/last follow add order). */
  add(x: number): void {
    if (!Number.isFinite(x)) {
      this.#missing++;
      return;
    }
    const n = ++this.#count;
    if (n === 1) {
      this.#shift = x;
      this.#first = x;
    }
    const d = x - this.#shift;
    const delta = d - this.#meanShifted;
    this.#meanShifted += delta / n;
    this.#m2 += delta * (d - this.#meanShifted);
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    this.#last = x;
  }

  /** Folds in the state of a window that comes after this one in time. `other` is not changed. */
  merge(other: ChannelStats): void {
    this.#missing += other.#missing;
    const nB = other.#count;
    if (nB === 0) return;
    const nA = this.#count;
    if (nA === 0) {
      this.#count = nB;
      this.#shift = other.#shift;
      this.#meanShifted = other.#meanShifted;
      this.#m2 = other.#m2;
      this.#min = other.#min;
      this.#max = other.#max;
      this.#first = other.#first;
      this.#last = other.#last;
      return;
    }
    const n = nA + nB;
    const delta = other.#shift - this.#shift + (other.#meanShifted - this.#meanShifted);
    this.#meanShifted += (delta * nB) / n;
    this.#m2 += other.#m2 + ((delta * delta * nA) / n) * nB;
    this.#count = n;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
    this.#last = other.#last;
  }

  reset(): void {
    this.#count = 0;
    this.#missing = 0;
    this.#shift = 0;
    this.#meanShifted = 0;
    this.#m2 = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#first = NaN;
    this.#last = NaN;
  }

  /** Finite values added. */
  get count(): number {
    return this.#count;
  }

  /** Non-finite values added (NaN, ±Infinity). */
  get missing(): number {
    return this.#missing;
  }

  get mean(): number {
    return this.#count === 0 ? NaN : this.#shift + this.#meanShifted;
  }

  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Population standard deviation (ddof = 0). */
  get std(): number {
    return this.#count === 0 ? NaN : Math.sqrt(this.#m2 / this.#count);
  }

  /** √(mean(x²)) computed as √(mean² + var). */
  get rms(): number {
    if (this.#count === 0) return NaN;
    const mean = this.#shift + this.#meanShifted;
    return Math.sqrt(mean * mean + this.#m2 / this.#count);
  }

  get first(): number {
    return this.#first;
  }

  get last(): number {
    return this.#last;
  }

  /**
   * The window's `ChannelStats` (schemas/feature-window.avsc): unit, count, mean, min, max, std,
   * rms, first, last in that order, non-finite numbers as null. Called once per window, not per
   * sample, so its object is not a hot-path allocation.
   */
  summary(unit: string): ChannelSummary {
    return {
      unit,
      count: this.#count,
      mean: finite(this.mean),
      min: finite(this.min),
      max: finite(this.max),
      std: finite(this.std),
      rms: finite(this.rms),
      first: finite(this.#first),
      last: finite(this.#last),
    };
  }
}

export interface ChannelSummary {
  unit: string;
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  std: number | null;
  rms: number | null;
  first: number | null;
  last: number | null;
}

