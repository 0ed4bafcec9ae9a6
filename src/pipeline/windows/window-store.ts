import { lastStart, type WindowSpec } from './window-spec.js';

// The open windows of one stream for one window spec, in start order, and the rules of when they
// fire and when they are gone (Flink's WindowOperator with EventTimeTrigger and allowed lateness L):
//
//   sample at t, watermark W (before the sample)
//     for each window [start, end) containing t:
//       end + L ≤ W            → the window is gone: not added (late for it)
//       else                   → added; if the window already fired, it fires again at once
//                                (revision + 1: an updated result; Flink fires on each late element)
//     added to none            → the sample is late for this spec (side output)
//   watermark moves to W'
//       end ≤ W' and not fired → fires (revision 0)            in start order
//       end + L ≤ W'           → dropped (its state is freed)
//
//   ┌────────── open ──────────┐ W ≥ end ┌─── fired, kept for L ───┐ W ≥ end + L
//   │ collects samples         ├────────▶│ late samples re-fire it ├────────────▶ gone
//   └──────────────────────────┘         └─────────────────────────┘
//
// Windows are created on the first sample that lands in them (no empty windows, as in Flink), and
// accumulators are recycled through a free list: no allocation per window in the steady state.

export interface WindowAccumulator {
  /** Make ready for a new window [startUs, endUs). */
  reset(startUs: number, endUs: number): void;
}

export interface OpenWindow<A extends WindowAccumulator> {
  startUs: number;
  endUs: number;
  /** How many times it fired: 0 while open, then the revision of the next firing. */
  fired: number;
  readonly acc: A;
}

export type FireReason = 'watermark' | 'late-update' | 'idle' | 'shutdown';

/** Called for each firing: `revision` 0 is the first result, higher ones are late updates. */
export type OnFire<A extends WindowAccumulator> = (window: OpenWindow<A>, revision: number, reason: FireReason) => void;

export class WindowStore<A extends WindowAccumulator> {
  readonly #open: OpenWindow<A>[] = [];
  readonly #free: OpenWindow<A>[] = [];

  constructor(
    readonly spec: WindowSpec,
    readonly allowedLatenessUs: number,
    private readonly create: () => A,
  ) {}

  get openCount(): number {
    return this.#open.length;
  }

  /**
   * The windows a sample at t goes into, given the watermark before it, written into `into`
   * (cleared first). Empty: the sample is late for this spec.
   */
  assign(tUs: number, watermarkUs: number, into: OpenWindow<A>[]): void {
    into.length = 0;
    const { sizeUs, slideUs } = this.spec;
    // Oldest first, so late updates fire in start order.
    let start = lastStart(tUs, this.spec);
    while (start - slideUs + sizeUs > tUs) start -= slideUs;
    for (; start <= tUs; start += slideUs) {
      const end = start + sizeUs;
      if (end + this.allowedLatenessUs <= watermarkUs) continue;
      into.push(this.#window(start, end));
    }
  }

  /**
   * After a sample was added to `w`: a window the watermark has already passed fires again at once
   * with the sample in it (or for the first time, if this late sample is its first).
   */
  added(w: OpenWindow<A>, watermarkUs: number, onFire: OnFire<A>): void {
    if (w.endUs <= watermarkUs) onFire(w, w.fired++, 'late-update');
  }

  /** Fire the windows the watermark has passed (first results), then drop the expired. */
  advance(watermarkUs: number, reason: 'watermark' | 'idle', onFire: OnFire<A>): void {
    for (const w of this.#open) {
      if (w.endUs > watermarkUs) break;
      if (w.fired === 0) onFire(w, w.fired++, reason);
    }
    let expired = 0;
    while (expired < this.#open.length && this.#open[expired]!.endUs + this.allowedLatenessUs <= watermarkUs) expired++;
    if (expired > 0) this.#free.push(...this.#open.splice(0, expired));
  }

  /** Fire every window that has not fired yet (a stop), and forget them all. */
  flush(onFire: OnFire<A>): void {
    for (const w of this.#open) if (w.fired === 0) onFire(w, w.fired++, 'shutdown');
    this.#free.push(...this.#open.splice(0));
  }

  #window(start: number, end: number): OpenWindow<A> {
    const open = this.#open;
    let i = open.length;
    while (i > 0 && open[i - 1]!.startUs > start) i--;
    if (i > 0 && open[i - 1]!.startUs === start) return open[i - 1]!;
    const w = this.#free.pop() ?? { startUs: 0, endUs: 0, fired: 0, acc: this.create() };
    w.startUs = start;
    w.endUs = end;
    w.fired = 0;
    w.acc.reset(start, end);
    open.splice(i, 0, w);
    return w;
  }
}
