// Least-squares slope of y over t, for a derived ROCOF (df/dt in Hz/s) over one window, or over
// several consecutive windows by merging their sums. Frame-to-frame differences are noise
// (σ_f = 1 mHz at 60 fps gives 85 mHz/s); a fitted slope over N samples is not.
//
//   slope = (n·Στy − Στ·Σy) / (n·Στ² − (Στ)²),   τ = t − t0
//
// t is absolute seconds (≈ 1.7e9): squared as is, Σt² ≈ 3e18 leaves no digits for a 0.1 s window.
// So the sums are kept relative to an origin t0, the t of the first accepted sample; τ = t − t0 is
// exact (Sterbenz) for t within a factor of two of t0. merge() moves the other's sums onto this
// origin: with c = other.t0 − this.t0, each of its τ' becomes τ = τ' + c, so
//   Στ = Στ' + c·n',   Στ² = Στ'² + 2c·Στ' + c²·n',   Στy = Στ'y + c·Σy',   Σy unchanged.

export class SlopeSums {
  #n = 0;
  #t0 = NaN;
  #st = 0;
  #sy = 0;
  #stt = 0;
  #sty = 0;

  /** Adds (t seconds, y); a non-finite t or y is ignored. */
  add(t: number, y: number): void {
    if (!Number.isFinite(y) || !Number.isFinite(t)) return;
    if (this.#n === 0) this.#t0 = t;
    const tau = t - this.#t0;
    this.#n++;
    this.#st += tau;
    this.#sy += y;
    this.#stt += tau * tau;
    this.#sty += tau * y;
  }

  /** dy/dt in y-units per second; NaN for fewer than two samples or when every t is the same. */
  slope(): number {
    const n = this.#n;
    if (n < 2) return NaN;
    const den = n * this.#stt - this.#st * this.#st;
    if (!(den > 0)) return NaN;
    return (n * this.#sty - this.#st * this.#sy) / den;
  }

  /** Folds in the sums of another window (any order in time); `other` is not changed. */
  merge(other: SlopeSums): void {
    const nB = other.#n;
    if (nB === 0) return;
    if (this.#n === 0) {
      this.#n = nB;
      this.#t0 = other.#t0;
      this.#st = other.#st;
      this.#sy = other.#sy;
      this.#stt = other.#stt;
      this.#sty = other.#sty;
      return;
    }
    const c = other.#t0 - this.#t0;
    this.#n += nB;
    this.#stt += other.#stt + 2 * c * other.#st + c * c * nB;
    this.#st += other.#st + c * nB;
    this.#sty += other.#sty + c * other.#sy;
    this.#sy += other.#sy;
  }

  reset(): void {
    this.#n = 0;
    this.#t0 = NaN;
    this.#st = 0;
    this.#sy = 0;
    this.#stt = 0;
    this.#sty = 0;
  }

  /** Samples accepted. */
  get count(): number {
    return this.#n;
  }

  /** The origin t0 (seconds): the t of the first accepted sample, NaN while empty. */
  get origin(): number {
    return this.#t0;
  }
}
