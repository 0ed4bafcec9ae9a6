import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';

// `epoch` and per-stream `seq`, the two numbers that make "nothing lost" provable downstream
// (ARCHITECTURE.md, record contract):
// - epoch: incremented and made durable at every gateway start, before any record is stamped.
// - seq: per stream, gap-free and strictly increasing within an epoch, and never handed out twice
//   for different records, even across a crash. A seq is handed out only below a ceiling already
//   durable on disk; a restart continues from the persisted ceiling. After a crash the seqs between
//   the last one used and the ceiling are skipped: a gap across the epoch boundary, which
//   verify-topic reports apart from loss. A clean close persists the exact next seq: no gap.
//
// Reservations are made ahead, in blocks of at least a minute of the stream's rate (1,024 at
// least), renewed when half a block is used, so the hot path never waits on a disk in steady state.
// One write renews every stream past half its block, so that streams fall into step and the state
// file is rewritten about once a block-time, not once per stream: flash-friendly.
//
// File: <stateDir>/sequence.json = { "version": 1, "epoch": N, "next": { "<stream>": ceiling } },
// replaced atomically (write to a temporary file, fsync, rename, fsync the directory).

const FILE = 'sequence.json';
const MIN_BLOCK = 1024;
const BLOCK_SECONDS = 60;
const WRITE_RETRY_MS = 1000;

interface StreamState {
  /** The next seq to hand out. */
  next: number;
  /** Seqs below this are covered by the state on disk. */
  durableCeiling: number;
  /** Size of the next reservation. */
  block: number;
  /** For sizing blocks: seqs handed out since the last reservation, and when that was. */
  sinceReservation: number;
  reservedAtMs: number;
}

export class Sequencer {
  readonly epoch: number;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #streams = new Map<string, StreamState>();
  /** Where a stream not in the state file starts: 1, or far above anything used when the state was lost. */
  readonly #firstSeq: number;
  #writing: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** The last reservation write failed: assign() paces its retries. */
  #writeFailed = false;

  private constructor(dir: string, epoch: number, persisted: Record<string, number>, firstSeq: number, log: Logger, now: () => number) {
    this.#dir = dir;
    this.epoch = epoch;
    this.#firstSeq = firstSeq;
    this.#log = log;
    this.#now = now;
    for (const [stream, ceiling] of Object.entries(persisted)) {
      this.#streams.set(stream, { next: ceiling, durableCeiling: ceiling, block: MIN_BLOCK, sinceReservation: 0, reservedAtMs: now() });
    }
  }

  /** Read the state, start a new epoch and make it durable before returning. */
  static async open(stateDir: string, log: Logger, now: () => number = Date.now): Promise<Sequencer> {
    await mkdir(stateDir, { recursive: true, mode: 0o750 });
    const previous = await readState(stateDir, log).catch((err: Error) => {
      // Without the state the previous epoch and seqs are unknown. Starting is still right (live
      // data would be lost otherwise), in a numbering space certain to lie above anything used:
      // epoch = seconds since 1970, seqs from milliseconds × 1000. Consumers see the jump.
      const ms = now();
      log.error({ err: err.message, dir: stateDir, epoch: Math.floor(ms / 1000) }, 'sequence state unreadable: starting epoch and seqs above any used before');
      return { epoch: Math.floor(ms / 1000) - 1, next: {}, firstSeq: ms * 1000 };
    });
    const sequencer = new Sequencer(stateDir, previous.epoch + 1, previous.next, previous.firstSeq ?? 1, log, now);
    await sequencer.#persist(sequencer.#ceilings());
    log.info({ epoch: sequencer.epoch, streams: sequencer.#streams.size }, 'new epoch');
    return sequencer;
  }

  /**
   * The first of `count` consecutive seqs for `stream`, or -1 when they are not yet covered by a
   * durable reservation (a new stream, or a burst past the reserved block): await ready() and ask
   * again. Never blocks.
   */
  tryAssign(stream: string, count = 1): number {
    const s = this.#streams.get(stream) ?? this.#add(stream);
    const remaining = s.durableCeiling - s.next;
    if (remaining < (s.block >>> 1) || remaining < count) this.#reserve(s, count);
    if (s.next + count > s.durableCeiling) return -1;
    const first = s.next;
    s.next += count;
    s.sinceReservation += count;
    return first;
  }

  /**
   * Make the streams of a batch known before assigning any: every new one joins one reservation
   * write. Without it a caller that awaits assign() record by record wrote the state file once per
   * new stream: 1,000 PMUs (3,000 streams with their features and anomalies) stalled the pipeline
   * for tens of seconds at start. Never blocks.
   */
  prepare(streams: Iterable<string>): void {
    let added = false;
    for (const stream of streams) {
      if (this.#streams.has(stream)) continue;
      this.#add(stream);
      added = true;
    }
    if (added) this.#schedule();
  }

  #add(stream: string): StreamState {
    const s = { next: this.#firstSeq, durableCeiling: this.#firstSeq, block: MIN_BLOCK, sinceReservation: 0, reservedAtMs: this.#now() };
    this.#streams.set(stream, s);
    return s;
  }

  /**
   * tryAssign, waiting for a reservation when needed. While reservations cannot be written (a
   * full disk), it retries once a second: the caller's records wait, nothing is stamped without a
   * durable ceiling, and the log gets one error per attempt, not a flood.
   */
  async assign(stream: string, count = 1): Promise<number> {
    for (;;) {
      const first = this.tryAssign(stream, count);
      if (first >= 0) return first;
      await this.ready();
      if (this.#writeFailed) await new Promise((resolve) => setTimeout(resolve, WRITE_RETRY_MS));
    }
  }

  /** Resolves once no reservation is waiting to be written. */
  async ready(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /** Persist the exact next seq of every stream, so that a clean restart leaves no gap. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.ready();
    const exact: Record<string, number> = {};
    for (const [stream, s] of this.#streams) exact[stream] = s.next;
    await this.#persist(exact);
  }

  #reserve(s: StreamState, count: number): void {
    // Size the block to a minute at the rate seen since the last reservation.
    const elapsedS = Math.max(0.001, (this.#now() - s.reservedAtMs) / 1000);
    const rate = s.sinceReservation / elapsedS;
    s.block = Math.max(MIN_BLOCK, Math.ceil(rate * BLOCK_SECONDS), count * 2);
    s.sinceReservation = 0;
    s.reservedAtMs = this.#now();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = (async () => {
      do {
        this.#again = false;
        // Renew every stream that used any of its block, not only the one that asked, so that
        // streams fall into step and one write serves them all.
        const targets = new Map<StreamState, number>();
        for (const s of this.#streams.values()) {
          if (s.durableCeiling - s.next < s.block) targets.set(s, s.next + s.block);
        }
        const ceilings = this.#ceilings();
        for (const [stream, s] of this.#streams) ceilings[stream] = targets.get(s) ?? s.durableCeiling;
        await this.#persist(ceilings);
        this.#writeFailed = false;
        for (const [s, ceiling] of targets) s.durableCeiling = ceiling;
      } while (this.#again);
    })()
      .catch((err: Error) => {
        this.#writeFailed = true;
        this.#log.error({ err: err.message }, 'sequence reservation failed; new seqs wait until a write succeeds');
      })
      .finally(() => {
        this.#writing = undefined;
      });
  }

  #ceilings(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [stream, s] of this.#streams) out[stream] = s.durableCeiling;
    return out;
  }

  async #persist(next: Record<string, number>): Promise<void> {
    const path = join(this.#dir, FILE);
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w', 0o640);
    try {
      await file.writeFile(`${JSON.stringify({ version: 1, epoch: this.epoch, next })}\n`);
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

async function readState(dir: string, log: Logger): Promise<{ epoch: number; next: Record<string, number>; firstSeq?: number }> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { epoch: 0, next: {} };
    throw err;
  }
  const state = JSON.parse(text) as { version?: number; epoch?: unknown; next?: Record<string, unknown> };
  if (state.version !== 1 || !Number.isSafeInteger(state.epoch)) {
    throw new Error(`${join(dir, FILE)} is not a sequence state file this version understands`);
  }
  const next: Record<string, number> = {};
  for (const [stream, ceiling] of Object.entries(state.next ?? {})) {
    if (Number.isSafeInteger(ceiling)) next[stream] = ceiling as number;
  }
  log.debug({ epoch: state.epoch, streams: Object.keys(next).length }, 'sequence state read');
  return { epoch: state.epoch as number, next };
}
