import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { SpoolConfig } from './config.js';
import { encodeEntry, type SpoolEntry, type StringTable } from './entry-codec.js';
import type { SpoolMetrics } from './metrics.js';
import { HEADER_BYTES, sealRecord } from './record-format.js';
import { isComplete, newSegment, type Segment } from './segment.js';

// The write side of the spool:
//
//   append ──▶ encode into the pending buffer ──▶ write (one chunk at a time, in order) ──▶ fdatasync
//              (ids assigned here, in order;        (the reader sees written bytes)        (group commit:
//               appends in one event-loop turn                                               `durable`
//               share one write)                                                             resolves)
//
// An append resolves `durable` only after an fdatasync that covered it and, for a new segment, an
// fsync of the directory (fsync.policy=never: after the write; tests only). A failed write (ENOSPC,
// EIO) is cut back to its last whole record and retried; meanwhile `failed` tells the spool to
// refuse appends.

interface Chunk {
  segment: Segment;
  buf: Buffer;
  length: number;
  lastId: number;
}

interface Waiter {
  throughId: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface WriterHooks {
  /** The disk is full: free space if the policy allows (drop_oldest); true when it did. */
  onDiskFull(): boolean;
  /** A failed write went through on retry: appends may resume. */
  onResumed(): void;
}

const INITIAL_BUFFER_BYTES = 1024 * 1024;
const WRITE_RETRY_MS = 1000;

export class SegmentWriter {
  readonly #config: SpoolConfig;
  readonly #segments: Segment[];
  readonly #strings: StringTable;
  readonly #log: Logger;
  readonly #metrics: SpoolMetrics;
  readonly #hooks: WriterHooks;
  readonly #chunks: Chunk[] = [];
  readonly #spareBuffers: Buffer[] = [];
  readonly #dirty = new Set<Segment>();
  readonly #waiters: Waiter[] = [];
  readonly #groupTimer: NodeJS.Timeout;
  #pending: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  #pendingLength = 0;
  #pendingLastId = 0;
  #nextId: number;
  #writtenThrough: number;
  #durableThrough: number;
  #bytesWritten = 0;
  #flushScheduled = false;
  #pumping: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #dirDirty = false;
  #failed: Error | undefined;

  constructor(options: {
    config: SpoolConfig;
    segments: Segment[];
    nextId: number;
    strings: StringTable;
    log: Logger;
    metrics: SpoolMetrics;
    hooks: WriterHooks;
  }) {
    this.#config = options.config;
    this.#segments = options.segments;
    this.#strings = options.strings;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#hooks = options.hooks;
    this.#nextId = options.nextId;
    this.#writtenThrough = options.nextId - 1;
    this.#durableThrough = options.nextId - 1;
    // Group commit. Unref'd, and ref'd only while somebody waits for durability.
    this.#groupTimer = setInterval(() => {
      if (this.#config.fsync.policy === 'group') void this.sync().catch((err: Error) => this.#failWaiters(err));
    }, this.#config.fsync.intervalMs);
    this.#groupTimer.unref();
  }

  get nextId(): number {
    return this.#nextId;
  }

  get writtenThrough(): number {
    return this.#writtenThrough;
  }

  get durableThrough(): number {
    return this.#durableThrough;
  }

  /** Bytes written to segment files so far (record headers included). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** The error of a write that has not gone through yet; appends are refused meanwhile. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Encode and queue entries whose encoded lengths the caller computed (and checked against the bound). */
  append(entries: readonly SpoolEntry[], lengths: readonly number[]): { firstId: number; lastId: number; durable: Promise<void> } {
    const firstId = this.#nextId;
    for (const [i, entry] of entries.entries()) {
      const length = lengths[i] as number;
      const segment = this.#segmentFor(HEADER_BYTES + length);
      this.#reserve(HEADER_BYTES + length);
      encodeEntry(this.#pending, this.#pendingLength + HEADER_BYTES, entry, this.#strings);
      this.#pendingLength += sealRecord(this.#pending, this.#pendingLength, this.#nextId, length);
      this.#pendingLastId = this.#nextId;
      segment.lastId = this.#nextId;
      segment.size += HEADER_BYTES + length;
      if (Number.isNaN(segment.oldestMs)) segment.oldestMs = entry.timestampMs;
      segment.newestMs = entry.timestampMs;
      this.#nextId++;
    }
    const lastId = this.#nextId - 1;
    this.#scheduleFlush();
    return { firstId, lastId, durable: entries.length === 0 ? Promise.resolve() : this.#durable(lastId) };
  }

  /** Make everything written so far durable. */
  async sync(): Promise<void> {
    if (this.#syncing) await this.#syncing;
    const through = this.#writtenThrough;
    if (through <= this.#durableThrough && this.#dirty.size === 0) return;
    this.#syncing = (async () => {
      // What this sync covers: the bytes written when it starts. Writes that land meanwhile mark
      // their segment dirty again for the next sync.
      const dirty = [...this.#dirty].map((segment) => ({ segment, written: segment.written }));
      this.#dirty.clear();
      const dirDirty = this.#dirDirty;
      this.#dirDirty = false;
      const started = performance.now();
      await Promise.all(dirty.map(({ segment }) => segment.fd?.datasync()));
      if (dirDirty) await fsyncDirectory(this.#config.dir);
      this.#metrics.fsyncSeconds.observe((performance.now() - started) / 1000);
      const active = this.#segments[this.#segments.length - 1];
      for (const { segment, written } of dirty) {
        // A sealed segment whose every byte this sync covered needs its append handle no more.
        // One that was still being written when the sync began keeps it: the writer may be using
        // it right now, and its last bytes still need the next sync.
        if (segment !== active && written === segment.size && isComplete(segment) && !this.#dirty.has(segment) && segment.fd) {
          await segment.fd.close();
          segment.fd = undefined;
        }
      }
      this.#settle(through);
    })().finally(() => {
      this.#syncing = undefined;
    });
    await this.#syncing;
  }

  /** The spool deleted a segment: nothing of it is left to sync. */
  forget(segment: Segment): void {
    this.#dirty.delete(segment);
    void segment.fd?.close().catch(() => undefined);
    segment.fd = undefined;
  }

  /** At close: write and sync everything pending; appends that could not be written are rejected. */
  async close(): Promise<void> {
    clearInterval(this.#groupTimer);
    this.#sealPending();
    this.#failed = undefined;
    await this.#pump();
    if (this.#chunks.length > 0) this.#log.error({ records: this.#nextId - 1 - this.#writtenThrough }, 'spool closed with records it could not write');
    await this.sync();
    this.#settle(this.#durableThrough);
    for (const w of this.#waiters.splice(0)) {
      w.reject(new GatewayError('GW_ERR_SPOOL_CLOSED', `spool closed before record ${w.throughId} was written`));
    }
    for (const s of this.#segments) {
      await s.fd?.close();
      s.fd = undefined;
    }
  }

  /** The segment the next record goes to, starting a new one when it would pass segmentMaxBytes. */
  #segmentFor(recordBytes: number): Segment {
    const active = this.#segments[this.#segments.length - 1];
    if (active && (active.size === 0 || active.size + recordBytes <= this.#config.segmentMaxBytes)) return active;
    this.#sealPending();
    const segment = newSegment(this.#config.dir, this.#nextId);
    this.#segments.push(segment);
    return segment;
  }

  #reserve(bytes: number): void {
    if (this.#pendingLength + bytes <= this.#pending.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#pending.length * 2, this.#pendingLength + bytes));
    this.#pending.copy(grown, 0, 0, this.#pendingLength);
    this.#pending = grown;
  }

  /** Hand the pending bytes to the writer as one chunk for the segment they belong to. */
  #sealPending(): void {
    if (this.#pendingLength === 0) return;
    const segment = this.#segments[this.#segments.length - 1] as Segment;
    this.#chunks.push({ segment, buf: this.#pending, length: this.#pendingLength, lastId: this.#pendingLastId });
    this.#pending = this.#spareBuffers.pop() ?? Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
    this.#pendingLength = 0;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#sealPending();
      void this.#pump();
    });
  }

  #pump(): Promise<void> {
    this.#pumping ??= this.#writeChunks().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  async #writeChunks(): Promise<void> {
    while (this.#chunks.length > 0 && this.#failed === undefined) {
      const chunk = this.#chunks[0] as Chunk;
      const segment = chunk.segment;
      try {
        if (!segment.fd) {
          segment.fd = await open(segment.path, segment.written === 0 ? 'w' : 'r+', 0o640);
          if (segment.written === 0) this.#dirDirty = true;
        }
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await segment.fd.write(chunk.buf, done, chunk.length - done, segment.written + done);
          done += bytesWritten;
        }
      } catch (err) {
        await this.#onWriteError(segment, err as NodeJS.ErrnoException);
        return;
      }
      segment.written += chunk.length;
      this.#metrics.writtenBytes.inc(chunk.length);
      this.#bytesWritten += chunk.length;
      this.#writtenThrough = chunk.lastId;
      this.#dirty.add(segment);
      this.#chunks.shift();
      if (chunk.buf.length === INITIAL_BUFFER_BYTES && this.#spareBuffers.length < 2) this.#spareBuffers.push(chunk.buf);
      if (this.#config.fsync.policy === 'batch') await this.sync();
      else if (this.#config.fsync.policy === 'never') this.#settle(this.#writtenThrough);
    }
  }

  /** Cut the file back to its last whole record, keep the chunk queued, and retry later. */
  async #onWriteError(segment: Segment, err: NodeJS.ErrnoException): Promise<void> {
    this.#failed = err;
    this.#log.error({ err: err.message, code: err.code, segment: segment.path }, 'spool write failed; appends refused until it succeeds');
    await segment.fd?.truncate(segment.written).catch(() => undefined);
    if (this.#hooks.onDiskFull()) {
      this.#failed = undefined;
      setImmediate(() => void this.#pump());
      return;
    }
    const retry = setTimeout(() => {
      this.#failed = undefined;
      void this.#pump().then(() => {
        if (this.#failed === undefined) this.#hooks.onResumed();
      });
    }, WRITE_RETRY_MS);
    retry.unref();
  }

  #durable(throughId: number): Promise<void> {
    if (throughId <= this.#durableThrough) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ throughId, resolve, reject });
      if (this.#config.fsync.policy === 'group') this.#groupTimer.ref();
    });
  }

  #settle(durableThrough: number): void {
    if (durableThrough > this.#durableThrough) this.#durableThrough = durableThrough;
    while (this.#waiters.length > 0 && (this.#waiters[0] as Waiter).throughId <= this.#durableThrough) {
      (this.#waiters.shift() as Waiter).resolve();
    }
    if (this.#waiters.length === 0) this.#groupTimer.unref();
  }

  #failWaiters(err: Error): void {
    this.#log.error({ err: err.message }, 'spool fsync failed');
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
