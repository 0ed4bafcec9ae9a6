import { mkdir, open, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { AckTracker } from './ack-tracker.js';
import { RateMeter, bytesNeeded, effectiveBound } from './capacity.js';
import { DEFAULT_MAX_BYTES, type SpoolConfig } from './config.js';
import { StringTable, encodedLength, type SpoolEntry } from './entry-codec.js';
import { LEDGER_BYTES, LEDGER_FILE, decodeLedger, writeLedger, type LedgerState } from './ledger.js';
import { acquireLock } from './lock.js';
import type { SpoolGaugeSource, SpoolMetrics } from './metrics.js';
import { HEADER_BYTES } from './record-format.js';
import { recoverSegments } from './recovery.js';
import { isComplete, type Segment } from './segment.js';
import { SegmentReader, type SpoolRecord } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';

export type { SpoolRecord } from './segment-reader.js';

// The store-and-forward spool: an append-only, segmented log on disk, modelled on Vector's disk
// buffer (disk_v2). This module composes the parts and owns the bounds and the upkeep.
//
//   <dir>/lock                         pid of the owning process (lock.ts)
//   <dir>/ledger                       acknowledged prefix, two alternating slots (ledger.ts)
//   <dir>/00000000000000000001.seg     records 1..k        (record-format.ts, entry-codec.ts)
//   <dir>/0000000000000000000k+1.seg   records k+1..       (the active segment, appended to)
//
//   append ──▶ SegmentWriter ──▶ segments ──▶ SegmentReader ──▶ read
//   ack ──▶ AckTracker prefix ──▶ ledger (once a second, and at close) ──▶ delete segments ≤ prefix
//
// Invariants:
// - Record ids increase by one per append, across segments and restarts. An id is reused only if
//   its record never became durable (lost in a crash before the group commit that would have
//   covered it, whose append was therefore never reported durable).
// - Nothing is rewritten in place but a 32-byte ledger slot: flash-friendly. Write amplification
//   is (record headers + ledger writes) / payload and is exported as a metric.
// - A segment file is deleted only when every record in it is at or below a ledger state already
//   durable on disk (or when whenFull=drop_oldest / maxAgeHours drop it, counted as loss).
// - Recovery never refuses to start and never returns garbage (recovery.ts): a torn tail of the
//   last segment is truncated; damaged ranges elsewhere are skipped, counted and logged with file
//   and offset; ids lost inside them are settled so the acknowledged prefix does not stall.

export interface AppendReceipt {
  firstId: number;
  lastId: number;
  /** Resolves once every record of the append is on stable storage. */
  durable: Promise<void>;
}

export interface SpoolStats {
  records: number;
  bytes: number;
  segments: number;
  ackedThrough: number;
  nextId: number;
  durableThrough: number;
  oldestTimestampMs: number | undefined;
}

interface RoomWaiter {
  bytes: number;
  resolve: () => void;
}

export interface SpoolDeps {
  log: Logger;
  metrics: SpoolMetrics;
  /** For tests: a clock in ms since the epoch. */
  now?: () => number;
}

const LEDGER_INTERVAL_MS = 1000;
const LOSS_LOG_INTERVAL_MS = 60_000;
const CAPACITY_WARN_INTERVAL_MS = 3_600_000;

export class Spool implements SpoolGaugeSource {
  readonly #config: SpoolConfig;
  readonly #log: Logger;
  readonly #metrics: SpoolMetrics;
  /** The last append was refused for lack of room (and none accepted since). */
  #refusing = false;
  readonly #now: () => number;
  readonly #segments: Segment[];
  readonly #acks: AckTracker;
  readonly #writer: SegmentWriter;
  readonly #reader: SegmentReader;
  readonly #rate = new RateMeter();
  /** Shared by writer and reader: the bytes and strings of topics, keys and headers that repeat. */
  readonly #strings = new StringTable();
  readonly #ledgerFile: FileHandle;
  readonly #releaseLock: () => Promise<void>;
  readonly #roomWaiters: RoomWaiter[] = [];
  readonly #upkeepTimer: NodeJS.Timeout;
  #ledger: LedgerState;
  #ledgerBytesWritten = 0;
  #payloadBytes = 0;
  #diskBytes: number;
  #diskFree = Number.POSITIVE_INFINITY;
  #closed = false;
  #lastLossLogMs = 0;
  #lostSinceLog = 0;
  #lastCapacityWarnMs = 0;

  private constructor(init: {
    config: SpoolConfig;
    deps: SpoolDeps;
    ledgerFile: FileHandle;
    releaseLock: () => Promise<void>;
    ledger: LedgerState;
    segments: Segment[];
    acks: AckTracker;
    nextId: number;
  }) {
    this.#config = init.config;
    this.#log = init.deps.log;
    this.#metrics = init.deps.metrics;
    this.#now = init.deps.now ?? Date.now;
    this.#ledgerFile = init.ledgerFile;
    this.#releaseLock = init.releaseLock;
    this.#ledger = init.ledger;
    this.#segments = init.segments;
    this.#acks = init.acks;
    this.#diskBytes = init.segments.reduce((n, s) => n + s.size, 0);
    const strings = this.#strings;
    this.#writer = new SegmentWriter({
      config: init.config,
      segments: init.segments,
      nextId: init.nextId,
      strings,
      log: init.deps.log,
      metrics: init.deps.metrics,
      hooks: { onDiskFull: () => this.#config.whenFull === 'drop_oldest' && this.#dropOldest('full'), onResumed: () => this.#notifyRoom() },
    });
    this.#reader = new SegmentReader(init.segments, init.acks, strings, init.deps.log, init.deps.metrics);
    // Ledger, release, age bound, disk free, capacity. Unref'd, and ref'd only while somebody
    // waits for room (room comes from here).
    this.#upkeepTimer = setInterval(() => void this.#upkeep(), LEDGER_INTERVAL_MS);
    this.#upkeepTimer.unref();
  }

  /** Open (creating if needed) and recover a spool directory. Damaged data never stops it. */
  static async open(config: SpoolConfig, deps: SpoolDeps): Promise<Spool> {
    const log = deps.log;
    await mkdir(config.dir, { recursive: true, mode: 0o750 });
    const releaseLock = await acquireLock(config.dir);
    try {
      const ledgerFile = await openLedger(config.dir);
      const bytes = Buffer.alloc(LEDGER_BYTES);
      await ledgerFile.read(bytes, 0, LEDGER_BYTES, 0);
      const ledger = decodeLedger(bytes);
      const { segments, lost, lastId } = await recoverSegments(config.dir, log, deps.metrics);
      if (!ledger && segments.length > 0) {
        log.warn({ dir: config.dir }, 'spool ledger missing or unreadable: every record held will be delivered again (duplicates, no loss)');
      }
      const acks = new AckTracker(ledger?.ackedThrough ?? 0);
      for (const [from, to] of lost) acks.settle(from, to);
      // Ids below the first record held were acknowledged (their segment deleted after the ledger
      // said so) or dropped and counted before a crash: nothing to deliver there.
      const firstHeld = segments.find((s) => s.lastId >= s.firstId);
      if (firstHeld && firstHeld.firstId - 1 > acks.ackedThrough) acks.settle(acks.ackedThrough + 1, firstHeld.firstId - 1);
      const newest = segments[segments.length - 1];
      const nextId = Math.max(lastId, ledger?.ackedThrough ?? 0, newest ? newest.firstId - 1 : 0) + 1;

      const spool = new Spool({
        config,
        deps,
        ledgerFile,
        releaseLock,
        ledger: ledger ?? { generation: 0, ackedThrough: 0 },
        segments,
        acks,
        nextId,
      });
      await spool.#releaseAcknowledged();
      spool.#reader.rewind();
      await spool.#refreshDiskFree();
      if (config.fsync.policy === 'never') log.warn({ dir: config.dir }, 'spool fsync.policy=never: a crash or power loss loses data (tests only)');
      log.info(
        { dir: config.dir, records: spool.heldRecords(), bytes: spool.heldBytes(), segments: segments.length, ackedThrough: acks.ackedThrough, nextId },
        'spool opened',
      );
      return spool;
    } catch (err) {
      await releaseLock();
      throw err;
    }
  }

  /**
   * Append entries in order. Throws GW_ERR_SPOOL_FULL (nothing appended) when the bound would be
   * passed and whenFull is block, or when the disk is full; under drop_oldest, the oldest
   * segments are dropped (counted, logged) to make room.
   */
  append(entries: readonly SpoolEntry[]): AppendReceipt {
    if (this.#closed) throw new GatewayError('GW_ERR_SPOOL_CLOSED', 'append to a closed spool');
    let need = 0;
    const lengths = entries.map((e) => {
      const n = encodedLength(e, this.#strings);
      need += HEADER_BYTES + n;
      return n;
    });
    this.#makeRoom(need);
    if (this.#refusing) {
      this.#refusing = false;
      this.#log.info({ dir: this.#config.dir }, 'spool has room again: appends accepted');
    }
    const receipt = this.#writer.append(entries, lengths);
    this.#diskBytes += need;
    this.#payloadBytes += need - HEADER_BYTES * entries.length;
    this.#rate.observe(need);
    this.#metrics.appendedRecords.inc(entries.length);
    this.#metrics.appendedBytes.inc(need - HEADER_BYTES * entries.length);
    return receipt;
  }

  /** Whether `bytes` more (encoded, with headers) fit under the bound right now. */
  hasRoomFor(bytes: number): boolean {
    return this.#writer.failed === undefined && this.#diskBytes + bytes <= this.#bound();
  }

  /** Resolves when acknowledgements (or a recovered disk) made room for `bytes`; for whenFull=block. */
  waitForRoom(bytes: number): Promise<void> {
    if (this.hasRoomFor(bytes)) return Promise.resolve();
    this.#upkeepTimer.ref();
    return new Promise((resolve) => this.#roomWaiters.push({ bytes, resolve }));
  }

  /** Feed the capacity estimate with bytes that went to Kafka without passing through the spool. */
  observeIngest(bytes: number): void {
    this.#rate.observe(bytes);
  }

  /**
   * Up to `max` records after the read position, in append order, from what has been written (or,
   * with `durableOnly`, made durable: WAL mode sends nothing that a crash could take back).
   * Records already acknowledged are skipped. Damaged records are skipped, counted and settled.
   */
  read(max: number, options: { durableOnly?: boolean } = {}): Promise<SpoolRecord[]> {
    if (this.#closed) throw new GatewayError('GW_ERR_SPOOL_CLOSED', 'read from a closed spool');
    return this.#reader.read(max, options.durableOnly ? this.#writer.durableThrough : this.#writer.writtenThrough);
  }

  /** Acknowledge a record: Kafka has it. Out-of-order acknowledgements are fine. */
  ack(id: number): void {
    // Counted once: a repeated acknowledgement above the prefix is already waiting in the tracker.
    if (this.#acks.isAcked(id)) return;
    this.#acks.ack(id);
    this.#metrics.acknowledged.inc();
  }

  /** Records appended after the read position, written or still pending: the reader has not caught up. */
  hasUnread(): boolean {
    return this.#writer.nextId - 1 > this.#reader.position;
  }

  /** Move the read position back to the first unacknowledged record (after a producer reset). */
  rewind(): void {
    this.#reader.rewind();
  }

  get ackedThrough(): number {
    return this.#acks.ackedThrough;
  }

  get durableThrough(): number {
    return this.#writer.durableThrough;
  }

  stats(): SpoolStats {
    return {
      records: this.heldRecords(),
      bytes: this.heldBytes(),
      segments: this.#segments.length,
      ackedThrough: this.#acks.ackedThrough,
      nextId: this.#writer.nextId,
      durableThrough: this.#writer.durableThrough,
      oldestTimestampMs: this.#oldestUnackedMs(),
    };
  }

  /** Write and sync everything appended, persist the ledger, release the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#upkeepTimer);
    await this.#writer.close();
    await this.#releaseAcknowledged();
    await this.#ledgerFile.close();
    await this.#releaseLock();
  }

  // ── bounds and upkeep ──────────────────────────────────────────────────────────────────────

  #makeRoom(need: number): void {
    if (this.hasRoomFor(need)) return;
    if (this.#config.whenFull === 'drop_oldest') {
      while (!this.hasRoomFor(need) && this.#dropOldest('full')) {
        // one sealed segment at a time
      }
      if (this.hasRoomFor(need)) return;
    }
    const failed = this.#writer.failed;
    const why = failed ? `the disk is full (${failed.message})` : `the bound of ${this.#bound()} bytes is reached`;
    if (!this.#refusing) {
      // Once per episode: the callers retry every batch, and the gauge says how long it lasts.
      this.#refusing = true;
      this.#log.error({ code: 'GW_ERR_SPOOL_FULL', dir: this.#config.dir, why }, 'spool full: appends refused until Kafka acknowledges records (sources are held back)');
    }
    throw new GatewayError('GW_ERR_SPOOL_FULL', `spool ${this.#config.dir} cannot take ${need} bytes: ${why}`);
  }

  #bound(): number {
    return effectiveBound(
      {
        maxBytes: this.#config.maxBytes,
        capacityHours: this.#config.capacityHours,
        bytesPerSecond: this.#rate.bytesPerSecond,
        settled: this.#rate.settled,
        diskAvailableBytes: this.#diskFree + this.#diskBytes,
        segmentMaxBytes: this.#config.segmentMaxBytes,
      },
      DEFAULT_MAX_BYTES,
    );
  }

  /** Drop the oldest sealed segment unacknowledged: data loss, counted and logged. */
  #dropOldest(reason: 'full' | 'age'): boolean {
    const oldest = this.#segments[0];
    if (!oldest || this.#segments.length < 2 || !isComplete(oldest)) return false;
    const lost = Math.max(0, oldest.lastId - Math.max(this.#acks.ackedThrough, oldest.firstId - 1));
    this.#acks.forceThrough(oldest.lastId);
    this.#removeSegment(oldest);
    this.#reader.skipThrough(oldest.lastId);
    this.#metrics.dropped.inc({ reason }, lost);
    this.#lostSinceLog += lost;
    const now = this.#now();
    if (lost > 0 && now - this.#lastLossLogMs >= LOSS_LOG_INTERVAL_MS) {
      this.#log.error(
        { reason, records: this.#lostSinceLog, segment: oldest.path, whenFull: this.#config.whenFull, maxAgeHours: this.#config.maxAgeHours },
        'spool dropped unacknowledged records (data loss)',
      );
      this.#lastLossLogMs = now;
      this.#lostSinceLog = 0;
    }
    return true;
  }

  #removeSegment(segment: Segment): void {
    this.#segments.splice(this.#segments.indexOf(segment), 1);
    this.#diskBytes -= segment.size;
    this.#writer.forget(segment);
    this.#reader.removed(segment);
    void unlink(segment.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.#log.warn({ err: err.message, segment: segment.path }, 'spool: could not delete a released segment');
    });
  }

  /** Persist the acknowledged prefix, then delete the segments it fully covers. */
  async #releaseAcknowledged(): Promise<void> {
    const through = this.#acks.ackedThrough;
    if (through !== this.#ledger.ackedThrough) {
      this.#ledger = { generation: this.#ledger.generation + 1, ackedThrough: through };
      const written = await writeLedger(this.#ledgerFile, this.#ledger);
      this.#metrics.writtenBytes.inc(written);
      this.#ledgerBytesWritten += written;
    }
    let freed = false;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0] as Segment;
      if (oldest.lastId > this.#ledger.ackedThrough || !isComplete(oldest)) break;
      this.#removeSegment(oldest);
      freed = true;
    }
    if (freed) this.#notifyRoom();
  }

  #notifyRoom(): void {
    while (this.#roomWaiters.length > 0 && this.hasRoomFor((this.#roomWaiters[0] as RoomWaiter).bytes)) {
      (this.#roomWaiters.shift() as RoomWaiter).resolve();
    }
    if (this.#roomWaiters.length === 0) this.#upkeepTimer.unref();
  }

  async #upkeep(): Promise<void> {
    this.#rate.tick();
    try {
      await this.#releaseAcknowledged();
      this.#dropExpired();
      await this.#refreshDiskFree();
      this.#warnCapacity();
    } catch (err) {
      this.#log.error({ err }, 'spool upkeep failed');
    }
  }

  #dropExpired(): void {
    if (this.#config.maxAgeHours === undefined) return;
    const cutoff = this.#now() - this.#config.maxAgeHours * 3_600_000;
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).newestMs < cutoff && this.#dropOldest('age')) {
      // one sealed segment at a time
    }
  }

  async #refreshDiskFree(): Promise<void> {
    const s = await statfs(this.#config.dir);
    this.#diskFree = s.bavail * s.bsize;
  }

  #warnCapacity(): void {
    const needed = bytesNeeded(this.#config.capacityHours, this.#rate.bytesPerSecond);
    if (needed === undefined || !this.#rate.settled) return;
    const now = this.#now();
    if (now - this.#lastCapacityWarnMs < CAPACITY_WARN_INTERVAL_MS) return;
    const available = this.#diskFree + this.#diskBytes;
    const hours = this.#config.capacityHours as number;
    if (this.#config.maxBytes !== undefined && needed > this.#config.maxBytes) {
      this.#log.warn({ neededBytes: needed, maxBytes: this.#config.maxBytes, hours, holdsHours: this.capacitySeconds() / 3600 }, 'spool maxBytes cannot hold capacityHours at the observed rate');
      this.#lastCapacityWarnMs = now;
    } else if (needed > available) {
      this.#log.warn({ neededBytes: needed, availableBytes: available, hours }, 'spool disk cannot hold capacityHours at the observed rate');
      this.#lastCapacityWarnMs = now;
    }
  }

  // ── gauges ─────────────────────────────────────────────────────────────────────────────────

  heldRecords(): number {
    return Math.max(0, this.#writer.nextId - 1 - this.#acks.ackedThrough - this.#acks.pending);
  }

  heldBytes(): number {
    return this.#diskBytes;
  }

  segmentCount(): number {
    return this.#segments.length;
  }

  oldestRecordAgeSeconds(): number {
    const oldest = this.#oldestUnackedMs();
    return oldest === undefined ? 0 : Math.max(0, (this.#now() - oldest) / 1000);
  }

  writeAmplification(): number {
    return this.#payloadBytes === 0 ? 0 : (this.#writer.bytesWritten + this.#ledgerBytesWritten) / this.#payloadBytes;
  }

  ingestBytesPerSecond(): number {
    return this.#rate.bytesPerSecond;
  }

  boundBytes(): number {
    return this.#bound();
  }

  refusingAppends(): boolean {
    return this.#refusing;
  }

  capacitySeconds(): number {
    const rate = this.#rate.bytesPerSecond;
    return rate > 0 ? this.#bound() / rate : Number.POSITIVE_INFINITY;
  }

  async diskFreeBytes(): Promise<number> {
    await this.#refreshDiskFree();
    return this.#diskFree;
  }

  #oldestUnackedMs(): number | undefined {
    const through = this.#acks.ackedThrough;
    const segment = this.#segments.find((s) => s.lastId > through);
    return segment && !Number.isNaN(segment.oldestMs) ? segment.oldestMs : undefined;
  }
}

/** The ledger file, created if missing and given its full size once, so that updating it in place
 *  never needs a new block on a disk that may be full by then (releasing segments depends on it). */
async function openLedger(dir: string): Promise<FileHandle> {
  const path = join(dir, LEDGER_FILE);
  await (await open(path, 'a')).close();
  const file = await open(path, 'r+');
  const { size } = await file.stat();
  if (size < LEDGER_BYTES) {
    await file.write(Buffer.alloc(LEDGER_BYTES - size), 0, LEDGER_BYTES - size, size);
    await file.datasync();
  }
  return file;
}
