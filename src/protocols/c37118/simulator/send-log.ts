import { once } from 'node:events';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';

// `simulate pmu --send-log FILE`: one line per data frame sent, "<frame time µs> <send time µs>":
// the frame's time stamp as a receiver decodes it (SOC + FRACSEC/TIME_BASE, time.ts) and the wall
// time its bytes were handed to the sockets. A receiver's latency measured from its time stamp
// includes the simulator's own lateness (timer slack, a busy event loop, a busy machine); joined
// with this log it is measured from the moment the frame left, as a PMU's would be (bench/e2e.ts).
// Lines reach the file in writes of at most 64, about every 100 ms while frames go, and at close.

/** Lines written at once: a write per frame would cost the simulator (and the machine it shares) a syscall each. */
const LINES_PER_WRITE = 64;
/** …or sooner, so that a reader finds a frame's line soon after the frame. */
const MAX_DELAY_MS = 100;

export class SendLog {
  readonly #out: WriteStream;
  #lines = '';
  #count = 0;
  #firstMs = 0;

  /** Opened at once, so that a path that cannot be written stops the simulator at start. */
  constructor(path: string) {
    this.#out = createWriteStream(path, { fd: openSync(path, 'w') });
  }

  /** The frame stamped `frameTimeUs` was handed to the sockets just now. */
  sent(frameTimeUs: number): void {
    const nowMs = performance.timeOrigin + performance.now();
    if (this.#count === 0) this.#firstMs = nowMs;
    this.#lines += `${frameTimeUs} ${Math.round(nowMs * 1000)}\n`;
    if (++this.#count === LINES_PER_WRITE || nowMs - this.#firstMs >= MAX_DELAY_MS) this.#flush();
  }

  async close(): Promise<void> {
    this.#flush();
    this.#out.end();
    await once(this.#out, 'close');
  }

  #flush(): void {
    if (this.#count === 0) return;
    this.#out.write(this.#lines);
    this.#lines = '';
    this.#count = 0;
  }
}

/** Lines of a send log as frame time → send time, both µs since the epoch. */
export function parseSendLog(text: string): Map<number, number> {
  const sent = new Map<number, number>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) sent.set(Number(line.slice(0, space)), Number(line.slice(space + 1)));
  }
  return sent;
}
