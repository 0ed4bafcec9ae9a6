// A drift-free poll schedule: deadlines are absolute multiples of the interval since the epoch
// (k·interval), never "interval after the last poll", so no delay accumulates, and groups with the
// same interval poll in step across devices and restarts. A poll that fires late is measured
// (jitter = fire time − deadline); a deadline missed entirely (the previous poll still running, the
// event loop stalled) is skipped and counted, never made up in a burst.

export interface Tick {
  /** The deadline this poll is for, ms since the epoch. */
  deadlineMs: number;
  /** How late it fired, ms. */
  jitterMs: number;
  /** Deadlines passed over since the previous tick. */
  missed: number;
}

export class PollSchedule {
  #timer: NodeJS.Timeout | undefined;
  #next = 0;
  #stopped = false;

  constructor(
    readonly intervalMs: number,
    private readonly onTick: (tick: Tick) => void,
    // Wall clock with sub-millisecond resolution (jitter is measured against it).
    private readonly now: () => number = () => performance.timeOrigin + performance.now(),
  ) {}

  start(): void {
    this.#stopped = false;
    this.#next = (Math.floor(this.now() / this.intervalMs) + 1) * this.intervalMs;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, this.#next - this.now()));
  }

  #fire(): void {
    const now = this.now();
    // Timers run on the event loop's whole-millisecond clock and may fire just before the
    // deadline as the wall clock sees it: wait for it, or the same deadline would tick twice.
    if (now < this.#next) {
      this.#arm();
      return;
    }
    const deadlineMs = this.#next;
    // The next deadline after now; those in between were missed.
    const next = (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
    const missed = Math.max(0, Math.round((next - deadlineMs) / this.intervalMs) - 1);
    this.#next = next;
    this.#arm();
    this.onTick({ deadlineMs, jitterMs: now - deadlineMs, missed });
  }
}
