import type { ReportingGrid, SimClock } from './grid.js';

// Calls onFrame(n) for every frame of the reporting grid as its time comes. One timer per
// simulator, re-armed for the next frame's exact time (no setInterval drift). When the event loop
// falls behind, the frames that are due go out at once, up to maxCatchUp; older ones are skipped
// and counted, as a real PMU's send queue would overflow rather than burst minutes of data.

export class Ticker {
  readonly #grid: ReportingGrid;
  readonly #clock: SimClock;
  readonly #onFrame: (n: number) => void;
  readonly #maxCatchUp: number;
  readonly #onLate: (skipped: number) => void;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  /** onLate(k): k frames were skipped because the loop was late by more than maxCatchUp frames. */
  constructor(grid: ReportingGrid, clock: SimClock, onFrame: (n: number) => void, maxCatchUp: number, onLate: (skipped: number) => void) {
    this.#grid = grid;
    this.#clock = clock;
    this.#onFrame = onFrame;
    this.#maxCatchUp = Math.max(1, maxCatchUp);
    this.#onLate = onLate;
  }

  /** Start with the first frame at or after `fromSeconds` (simulated time). */
  start(fromSeconds: number): void {
    this.#next = this.#grid.atOrAfter(fromSeconds);
    this.#running = true;
    this.#tick();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick = (): void => {
    if (!this.#running) return;
    const due = this.#grid.atOrBefore(this.#clock.nowMs() / 1000);
    if (due - this.#next >= this.#maxCatchUp) {
      const skip = due - this.#next - this.#maxCatchUp + 1;
      this.#onLate(skip);
      this.#next += skip;
    }
    while (this.#next <= due && this.#running) this.#onFrame(this.#next++);
    if (!this.#running) return;
    const wait = this.#grid.seconds(this.#next) * 1000 - this.#clock.nowMs();
    this.#timer = setTimeout(this.#tick, Math.max(0, Math.ceil(wait)));
  };
}
