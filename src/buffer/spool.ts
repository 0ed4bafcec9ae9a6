import { mkdir, open, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import { GatewayError } from '../errors.js';
import { AckTracker } from './ack-tracker.js';
import { RateMeter, bytesNeeded, effectiveBound } from './capacity.js';
import { DEFAULT_MAX_BYTES, type SpoolConfig } from './config.js';
import { StringTable, decodeEntry, encodeEntry, encodedLength, type SpoolEntry } from './entry-codec.js';
import { LEDGER_BYTES, LEDGER_FILE, decodeLedger, writeLedger } from './ledger.js';
import { acquireLock } from './lock.js';
import type { SpoolGaugeSource, SpoolMetrics } from './metrics.js';
import { HEADER_BYTES, recordLength, sealRecord, validRecordAt, type CorruptRange } from './record-format.js';
import { entryTimestampMs, listSegments, scanSegment, segmentName } from './segment-files.js';

// The store-and-forward spool: an append-only, segmented log on disk, modelled on Vector's disk
// buffer (disk_v2).
//
//   <dir>/lock                         pid of the owning process
//   <dir>/ledger                       acknowledged prefix, two alternating slots (ledger.ts)
//   <dir>/00000000000000000001.seg     records 1..k        (record-format.ts)
//   <dir>/0000000000000000000k+1.seg   records k+1..       (the active segment, appended to)
//
//   append ──▶ encode into the pending buffer ──▶ write (one at a time, in order) ──▶ fdatasync
//              (ids assigned here, in order)       (the reader sees written bytes)    (group commit;
//                                                                                      `durable` resolves)
//   read ──▶ records after the read position, in append order, from written bytes only
//   ack  ──▶ AckTracker prefix ──▶ ledger (once a second, and at close) ──▶ delete segments ≤ prefix
//
// Invariants:
// - Record ids increase by one per append, across segments and restarts. An id is reused only if
//   its record never became durable (lost in a crash before the group commit that would have
//   covered it, whose append was therefore never reported durable).
// - Nothing is rewritten in place but the 32-byte ledger slot: flash-friendly. Write amplification
//   is (record headers + ledger writes) / payload and is exported as a metric.
// - A segment file is deleted only when every record in it is at or below a ledger state already
//   durable on disk (or when whenFull=drop_oldest / maxAgeHours drop it, counted as loss).
// - Recovery never refuses to start and never returns garbage: a torn tail of the last segment is
//   truncated; damaged ranges elsewhere are skipped, counted and logged with file and offset; ids
//   lost inside them are settled so the acknowledged prefix does not stall on them.
// - An append resolves `durable` only after an fdatasync that covered it (and, for a new segment,
//   an fsync of the directory), except with fsync.policy=never (tests only).

export interface SpoolRecord {
  id: number;
  entry: SpoolEntry;
}

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

interface Segment {
  firstId: number;
  path: string;
  /** Highest id assigned to this segment (firstId - 1 while empty). */
  lastId: number;
  /** Bytes assigned (written + pending). */
  size: number;
  /** Bytes written to the file. */
  written: number;
  /** Timestamp of the first record, for the age bound and the oldest-age metric. */
  oldestMs: number;
  newestMs: number;
  /** Open for appending while active and until its last bytes are synced. */
  fd: FileHandle | undefined;
  /** Damaged ranges found at recovery (already counted and logged): the reader skips them quietly. */
  damaged: CorruptRange[];
}

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

const INITIAL_BUFFER_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const LEDGER_INTERVAL_MS = 1000;
const WRITE_RETRY_MS = 1000;
const LOSS_LOG_INTERVAL_MS = 60_000;

export class Spool implements SpoolGaugeSource {
  readonly #config: SpoolConfig;
  readonly #log: Logger;
  readonly #metrics: SpoolMetrics;
  readonly #now: () => number;
  readonly #segments: Segment[] = [];
  readonly #acks: AckTracker;
  readonly #rate = new RateMeter();
  readonly #ledgerFile: FileHandle;
  readonly #releaseLock: () => Promise<void>;
  #ledgerGeneration: number;
  #ledgerAckedThrough: number;

  // Writer
  #nextId: number;
  #pending: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  #pendingLength = 0;
  #pendingLastId = 0;
  readonly #chunks: Chunk[] = [];
  readonly #spareBuffers: Buffer[] = [];
  readonly #strings = new StringTable();
  #flushScheduled = false;
  #pumping: Promise<void> | undefined;
  #writeError: Error | undefined;
  #writtenThrough: number;
  #durableThrough: number;
  readonly #dirty = new Set<Segment>();
  #dirDirty = false;
  #syncing: Promise<void> | undefined;
  readonly #waiters: Waiter[] = [];
  readonly #roomWaiters: RoomWaiter[] = [];

  // Reader
  #readSegment: Segment | undefined;
  #readOffset = 0;
  #readLastId: number;

  // Upkeep
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #lastLossLogMs = 0;
  #lostSinceLog = 0;
  #payloadBytes = 0;
  /** Bytes written to disk (records with headers, ledger slots): write amplification's numerator. */
  #bytesWritten = 0;
  #diskBytes = 0;
  #diskFree = Number.POSITIVE_INFINITY;

  private constructor(init: {
    config: SpoolConfig;
    deps: SpoolDeps;
    ledgerFile: FileHandle;
    releaseLock: () => Promise<void>;
    ledgerGeneration: number;
    ackedThrough: number;
    nextId: number;
  }) {
    this.#config = init.config;
    this.#log = init.deps.log;
    this.#metrics = init.deps.metrics;
    this.#now = init.deps.now ?? Date.now;
    this.#ledgerFile = init.ledgerFile;
    this.#releaseLock = init.releaseLock;
    this.#ledgerGeneration = init.ledgerGeneration;
    this.#ledgerAckedThrough = init.ackedThrough;
    this.#acks = new AckTracker(init.ackedThrough);
    this.#nextId = init.nextId;
    this.#writtenThrough = init.nextId - 1;
    this.#durableThrough = init.nextId - 1;
    this.#readLastId = init.ackedThrough;
  }

  /** Open (creating if needed) and recover a spool directory. Damaged data never stops it. */
  static async open(config: SpoolConfig, deps: SpoolDeps): Promise<Spool> {
    const log = deps.log;
    await mkdir(config.dir, { recursive: true, mode: 0o750 });
    const releaseLock = await acquireLock(config.dir);
    try {
      const ledgerFile = await open(join(config.dir, LEDGER_FILE), 'a+').then(async (h) => {
        await h.close();
        return open(join(config.dir, LEDGER_FILE), 'r+');
      });
      const ledgerBytes = Buffer.alloc(LEDGER_BYTES);
      const { bytesRead } = await ledgerFile.read(ledgerBytes, 0, LEDGER_BYTES, 0);
      const ledger = decodeLedger(ledgerBytes);
      if (bytesRead < LEDGER_BYTES) {
        // Allocate the ledger's full size once, so that updating it in place never needs a block
        // on a disk that may be full by then (releasing segments depends on it).
        await ledgerFile.write(Buffer.alloc(LEDGER_BYTES - bytesRead), 0, LEDGER_BYTES - bytesRead, bytesRead);
        await ledgerFile.datasync();
      }
      const files = await listSegments(config.dir);
      if (!ledger && files.length > 0) {
        log.warn({ dir: config.dir }, 'spool ledger missing or unreadable: every record held will be delivered again (duplicates, no loss)');
      }
      const ackedThrough = ledger?.ackedThrough ?? 0;

      const segments: Segment[] = [];
      const lost: [number, number][] = [];
      let lastId = 0;
      for (const [index, file] of files.entries()) {
        const isLast = index === files.length - 1;
        const scan = await scanSegment(file, lastId);
        for (const c of scan.corrupt) {
          deps.metrics.corruptRecords.inc({ stage: 'recovery' });
          deps.metrics.corruptBytes.inc({ stage: 'recovery' }, c.bytes);
          log.error({ segment: file.path, offset: c.offset, bytes: c.bytes }, 'spool: damaged range skipped at recovery (records in it are lost)');
        }
        if (scan.tornTail) {
          deps.metrics.corruptBytes.inc({ stage: 'recovery' }, scan.tornTail.bytes);
          if (isLast) {
            log.warn({ segment: file.path, offset: scan.tornTail.offset, bytes: scan.tornTail.bytes }, 'spool: torn tail truncated (an append that never became durable)');
            const fd = await open(file.path, 'r+');
            await fd.truncate(scan.tornTail.offset);
            await fd.datasync();
            await fd.close();
          } else {
            deps.metrics.corruptRecords.inc({ stage: 'recovery' });
            log.error({ segment: file.path, offset: scan.tornTail.offset, bytes: scan.tornTail.bytes }, 'spool: damaged end of a sealed segment skipped');
          }
        }
        // Ids missing between valid records were inside damaged ranges: settle them as lost.
        let expected = Math.max(lastId, file.firstId - 1) + 1;
        for (const r of scan.records) {
          if (r.id > expected) lost.push([expected, r.id - 1]);
          expected = r.id + 1;
        }
        const first = scan.records[0];
        const last = scan.records[scan.records.length - 1];
        if (!first && !isLast) {
          log.error({ segment: file.path }, 'spool: segment without a single valid record removed');
          await unlink(file.path);
          continue;
        }
        segments.push({
          firstId: file.firstId,
          path: file.path,
          lastId: last ? last.id : file.firstId - 1,
          size: scan.tornTail && isLast ? scan.tornTail.offset : scan.bytes.length,
          written: scan.tornTail && isLast ? scan.tornTail.offset : scan.bytes.length,
          oldestMs: first ? entryTimestampMs(scan.bytes, first.payloadStart) : Number.NaN,
          newestMs: last ? entryTimestampMs(scan.bytes, last.payloadStart) : Number.NaN,
          fd: undefined,
          damaged: scan.tornTail && !isLast ? [...scan.corrupt, scan.tornTail] : scan.corrupt,
        });
        lastId = Math.max(lastId, scan.lastId);
      }

      // Records below the first one held were acknowledged before (their segment deleted after
      // the ledger said so) or dropped and counted then: nothing to deliver there.
      const firstHeld = segments.find((s) => s.lastId >= s.firstId);
      const newest = segments[segments.length - 1];
      const nextId = Math.max(lastId, ackedThrough, newest ? newest.firstId - 1 : 0) + 1;

      const spool = new Spool({
        config,
        deps,
        ledgerFile,
        releaseLock,
        ledgerGeneration: ledger?.generation ?? 0,
        ackedThrough,
        nextId,
      });
      spool.#segments.push(...segments);
      for (const [from, to] of lost) spool.#acks.settle(from, to);
      if (firstHeld && firstHeld.firstId - 1 > spool.#acks.ackedThrough) spool.#acks.settle(spool.#acks.ackedThrough + 1, firstHeld.firstId - 1);
      spool.#readLastId = spool.#acks.ackedThrough;
      spool.#diskBytes = segments.reduce((n, s) => n + s.size, 0);
      await spool.#releaseAcknowledged();
      spool.#rewindReader();
      spool.#startTimers();
      await spool.#refreshDiskFree();
      if (config.fsync.policy === 'never') log.warn({ dir: config.dir }, 'spool fsync.policy=never: a crash or power loss loses data (tests only)');
      log.info(
        { dir: config.dir, records: spool.heldRecords(), bytes: spool.heldBytes(), segments: segments.length, ackedThrough: spool.#acks.ackedThrough, nextId },
        'spool opened',
      );
      return spool;
    } catch (err) {
      await releaseLock();
      throw err;
    }
  }

  // ── append ─────────────────────────────────────────────────────────────────────────────────

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
      this.#payloadBytes += length;
    }
    this.#diskBytes += need;
    this.#rate.observe(need);
    this.#metrics.appendedRecords.inc(entries.length);
    this.#metrics.appendedBytes.inc(need - HEADER_BYTES * entries.length);
    const lastId = this.#nextId - 1;
    this.#scheduleFlush();
    return { firstId, lastId, durable: entries.length === 0 ? Promise.resolve() : this.#durable(lastId) };
  }

  /** Whether `bytes` more (encoded, with headers) fit under the bound right now. */
  hasRoomFor(bytes: number): boolean {
    return this.#writeError === undefined && this.#diskBytes + bytes <= this.#bound();
  }

  /** Resolves when acknowledgements (or a recovered disk) made room for `bytes`; for whenFull=block. */
  waitForRoom(bytes: number): Promise<void> {
    if (this.hasRoomFor(bytes)) return Promise.resolve();
    // Room comes from the upkeep timer (ledger, then segment deletion): hold the event loop
    // open while somebody waits for it.
    this.#upkeepTimer().ref();
    return new Promise((resolve) => this.#roomWaiters.push({ bytes, resolve }));
  }

  /** Feed the capacity estimate with bytes that went to Kafka without passing through the spool. */
  observeIngest(bytes: number): void {
    this.#rate.observe(bytes);
  }

  #makeRoom(need: number): void {
    if (this.hasRoomFor(need)) return;
    if (this.#config.whenFull === 'drop_oldest') {
      while (!this.hasRoomFor(need) && this.#dropOldest('full')) {
        // dropping the oldest sealed segment each round
      }
      if (this.hasRoomFor(need)) return;
    }
    const why = this.#writeError ? `the disk is full (${this.#writeError.message})` : `the bound of ${this.#bound()} bytes is reached`;
    throw new GatewayError('GW_ERR_SPOOL_FULL', `spool ${this.#config.dir} cannot take ${need} bytes: ${why}`);
  }

  /** The segment the next record goes to, starting a new one when it would pass segmentMaxBytes. */
  #segmentFor(recordBytes: number): Segment {
    const active = this.#segments[this.#segments.length - 1];
    if (active && (active.size === 0 || active.size + recordBytes <= this.#config.segmentMaxBytes)) return active;
    this.#sealPending();
    const segment: Segment = {
      firstId: this.#nextId,
      path: join(this.#config.dir, segmentName(this.#nextId)),
      lastId: this.#nextId - 1,
      size: 0,
      written: 0,
      oldestMs: Number.NaN,
      newestMs: Number.NaN,
      fd: undefined,
      damaged: [],
    };
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
    // Appends within one turn of the event loop share one write.
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
    while (this.#chunks.length > 0 && this.#writeError === undefined) {
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
      if (this.#config.fsync.policy === 'batch') await this.#sync();
      else if (this.#config.fsync.policy === 'never') this.#settleWaiters(this.#writtenThrough);
    }
  }

  /**
   * A failed write (ENOSPC, EIO): cut the file back to its last complete record, keep the chunk
   * at the head of the queue and retry later. Appends are refused meanwhile (hasRoomFor is false)
   * unless whenFull=drop_oldest can free space by dropping the oldest segment.
   */
  async #onWriteError(segment: Segment, err: NodeJS.ErrnoException): Promise<void> {
    this.#writeError = err;
    this.#log.error({ err: err.message, code: err.code, segment: segment.path }, 'spool write failed; appends refused until it succeeds');
    await segment.fd?.truncate(segment.written).catch(() => undefined);
    if (this.#config.whenFull === 'drop_oldest' && this.#dropOldest('full')) {
      this.#writeError = undefined;
      setImmediate(() => void this.#pump());
      return;
    }
    const retry = setTimeout(() => {
      this.#writeError = undefined;
      void this.#pump().then(() => this.#notifyRoom());
    }, WRITE_RETRY_MS);
    retry.unref();
  }

  // ── durability ─────────────────────────────────────────────────────────────────────────────

  #durable(throughId: number): Promise<void> {
    if (throughId <= this.#durableThrough) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ throughId, resolve, reject });
      if (this.#config.fsync.policy === 'group') this.#groupTimer().ref();
    });
  }

  async #sync(): Promise<void> {
    if (this.#syncing) await this.#syncing;
    const through = this.#writtenThrough;
    if (through <= this.#durableThrough && this.#dirty.size === 0) return;
    this.#syncing = (async () => {
      const dirty = [...this.#dirty];
      this.#dirty.clear();
      const dirDirty = this.#dirDirty;
      this.#dirDirty = false;
      const started = performance.now();
      await Promise.all(dirty.map((s) => s.fd?.datasync()));
      if (dirDirty) await fsyncDirectory(this.#config.dir);
      this.#metrics.fsyncSeconds.observe((performance.now() - started) / 1000);
      const active = this.#segments[this.#segments.length - 1];
      for (const s of dirty) {
        // A sealed segment is complete once synced: its append handle is no longer needed.
        if (s !== active && s.written === s.size && s.fd) {
          await s.fd.close();
          s.fd = undefined;
        }
      }
      this.#settleWaiters(through);
    })().finally(() => {
      this.#syncing = undefined;
    });
    await this.#syncing;
  }

  #settleWaiters(durableThrough: number): void {
    if (durableThrough > this.#durableThrough) this.#durableThrough = durableThrough;
    while (this.#waiters.length > 0 && (this.#waiters[0] as Waiter).throughId <= this.#durableThrough) {
      (this.#waiters.shift() as Waiter).resolve();
    }
    if (this.#waiters.length === 0) this.#groupTimer().unref();
  }

  #groupTimer(): NodeJS.Timeout {
    return this.#timers[0] as NodeJS.Timeout;
  }

  #upkeepTimer(): NodeJS.Timeout {
    return this.#timers[1] as NodeJS.Timeout;
  }

  // ── read and acknowledge ───────────────────────────────────────────────────────────────────

  /**
   * Up to `max` records after the read position, in append order, from what has been written (or,
   * with `durableOnly`, made durable: WAL mode sends nothing that a crash could take back).
   * Records already acknowledged are skipped. Damaged records are skipped, counted and settled.
   */
  async read(max: number, options: { durableOnly?: boolean } = {}): Promise<SpoolRecord[]> {
    if (this.#closed) throw new GatewayError('GW_ERR_SPOOL_CLOSED', 'read from a closed spool');
    const out: SpoolRecord[] = [];
    const limitId = options.durableOnly ? this.#durableThrough : this.#writtenThrough;
    if (!this.#readSegment) {
      this.#readSegment = this.#segments.find((s) => s.lastId > this.#readLastId);
      this.#readOffset = 0;
    }
    let want = READ_CHUNK_BYTES;
    while (out.length < max && this.#readSegment && this.#readLastId < limitId) {
      const segment = this.#readSegment;
      const available = segment.written - this.#readOffset;
      if (available <= 0) {
        if (!this.#advanceReadSegment(segment)) break;
        continue;
      }
      const length = Math.min(available, want);
      const bytes = await this.#readBytes(segment, this.#readOffset, length);
      const more = length < available; // bytes exist past this chunk
      let offset = 0;
      let retry = false;
      while (offset < length && out.length < max) {
        // Valid means: checksummed and in this segment's id range. Ids at or below the read
        // position (acknowledged before a restart, or read before a rewind) are skipped quietly.
        const id = validRecordAt(bytes, offset, length, segment.firstId - 1);
        if (id < 0) {
          // A record cut by the end of the chunk, or damage: read on to the end of the written
          // bytes (damage is rare, a segment is bounded) and decide there.
          if (more) {
            want = available;
            retry = true;
            break;
          }
          offset = this.#skipDamage(segment, bytes, offset, length);
          continue;
        }
        if (id > limitId) break;
        const size = recordLength(bytes, offset);
        if (id <= this.#readLastId) {
          offset += size;
          continue;
        }
        if (id > this.#readLastId + 1) this.#acks.settle(this.#readLastId + 1, id - 1);
        this.#readLastId = id;
        if (id > this.#acks.ackedThrough && !this.#acks.isAcked(id)) {
          const entry = decodeEntry(bytes, offset + HEADER_BYTES, offset + size, this.#strings);
          if (typeof entry === 'string') {
            this.#metrics.corruptRecords.inc({ stage: 'read' });
            this.#log.error({ segment: segment.path, offset: this.#readOffset + offset, id, reason: entry }, 'spool: undecodable record skipped');
            this.#acks.settle(id, id);
          } else {
            out.push({ id, entry });
          }
        }
        offset += size;
      }
      this.#readOffset += offset;
      if (!retry && offset < length) break; // stopped at limitId or max
    }
    return out;
  }

  /** Acknowledge a record: Kafka has it. Out-of-order acknowledgements are fine. */
  ack(id: number): void {
    if (id <= this.#acks.ackedThrough) return;
    this.#acks.ack(id);
    this.#metrics.acknowledged.inc();
  }

  /** Move the read position back to the first unacknowledged record (after a producer reset). */
  rewind(): void {
    this.#rewindReader();
  }

  get ackedThrough(): number {
    return this.#acks.ackedThrough;
  }

  get durableThrough(): number {
    return this.#durableThrough;
  }

  stats(): SpoolStats {
    return {
      records: this.heldRecords(),
      bytes: this.heldBytes(),
      segments: this.#segments.length,
      ackedThrough: this.#acks.ackedThrough,
      nextId: this.#nextId,
      durableThrough: this.#durableThrough,
      oldestTimestampMs: this.#oldestUnackedMs(),
    };
  }

  #rewindReader(): void {
    const through = this.#acks.ackedThrough;
    this.#readSegment = this.#segments.find((s) => s.lastId > through) ?? this.#segments[this.#segments.length - 1];
    this.#readOffset = 0;
    this.#readLastId = through;
  }

  #advanceReadSegment(segment: Segment): boolean {
    const index = this.#segments.indexOf(segment);
    const next = this.#segments[index + 1];
    // Stay on the active segment (or a sealed one not yet fully written) until more arrives.
    if (!next || segment.written < segment.size) return false;
    this.#readSegment = next;
    this.#readOffset = 0;
    return true;
  }

  async #readBytes(segment: Segment, position: number, length: number): Promise<Buffer> {
    const bytes = Buffer.allocUnsafe(length);
    const fd = await open(segment.path, 'r');
    try {
      let fill = 0;
      while (fill < length) {
        const { bytesRead } = await fd.read(bytes, fill, length - fill, position + fill);
        if (bytesRead === 0) throw new Error(`${segment.path} is shorter than the spool wrote (${position + fill} < ${position + length})`);
        fill += bytesRead;
      }
      return bytes;
    } finally {
      await fd.close();
    }
  }

  /** Resynchronise after damage found while reading: skip to the next valid record, count it. */
  #skipDamage(segment: Segment, bytes: Buffer, offset: number, fill: number): number {
    let next = offset + 1;
    while (next < fill && validRecordAt(bytes, next, fill, segment.firstId - 1) < 0) next++;
    const at = this.#readOffset + offset;
    if (segment.damaged.some((d) => d.offset <= at && at < d.offset + d.bytes)) return next;
    this.#metrics.corruptRecords.inc({ stage: 'read' });
    this.#metrics.corruptBytes.inc({ stage: 'read' }, next - offset);
    this.#log.error({ segment: segment.path, offset: this.#readOffset + offset, bytes: next - offset }, 'spool: damaged range skipped while reading');
    return next;
  }

  // ── release, bounds and upkeep ─────────────────────────────────────────────────────────────

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
    if (!oldest || this.#segments.length < 2 || oldest.written < oldest.size) return false;
    const lost = Math.max(0, oldest.lastId - Math.max(this.#acks.ackedThrough, oldest.firstId - 1));
    this.#acks.forceThrough(oldest.lastId);
    this.#removeSegment(oldest);
    if (this.#readSegment === oldest || (this.#readLastId < oldest.lastId)) this.#rewindReader();
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
    if (this.#readSegment === segment) {
      // read() finds the next segment holding ids above the read position.
      this.#readSegment = undefined;
      this.#readOffset = 0;
    }
    this.#dirty.delete(segment);
    this.#diskBytes -= segment.size;
    void segment.fd?.close().catch(() => undefined);
    segment.fd = undefined;
    void unlink(segment.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.#log.warn({ err: err.message, segment: segment.path }, 'spool: could not delete a released segment');
    });
  }

  /** Persist the acknowledged prefix, then delete the segments it fully covers. */
  async #releaseAcknowledged(): Promise<void> {
    const through = this.#acks.ackedThrough;
    if (through !== this.#ledgerAckedThrough) {
      this.#ledgerGeneration++;
      const written = await writeLedger(this.#ledgerFile, { generation: this.#ledgerGeneration, ackedThrough: through });
      this.#metrics.writtenBytes.inc(written);
      this.#bytesWritten += written;
      this.#ledgerAckedThrough = through;
    }
    let freed = false;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0] as Segment;
      if (oldest.lastId > this.#ledgerAckedThrough || oldest.written < oldest.size) break;
      this.#removeSegment(oldest);
      freed = true;
    }
    if (freed) this.#notifyRoom();
  }

  #notifyRoom(): void {
    while (this.#roomWaiters.length > 0 && this.hasRoomFor((this.#roomWaiters[0] as RoomWaiter).bytes)) {
      (this.#roomWaiters.shift() as RoomWaiter).resolve();
    }
    if (this.#roomWaiters.length === 0) this.#upkeepTimer().unref();
  }

  #startTimers(): void {
    const group = setInterval(() => {
      if (this.#config.fsync.policy === 'group') void this.#sync().catch((err: Error) => this.#failWaiters(err));
    }, this.#config.fsync.intervalMs);
    group.unref();
    const upkeep = setInterval(() => void this.#upkeep(), LEDGER_INTERVAL_MS);
    upkeep.unref();
    this.#timers.push(group, upkeep);
  }

  async #upkeep(): Promise<void> {
    this.#rate.tick();
    try {
      await this.#releaseAcknowledged();
      await this.#dropExpired();
      await this.#refreshDiskFree();
      this.#warnCapacity();
    } catch (err) {
      this.#log.error({ err }, 'spool upkeep failed');
    }
  }

  async #dropExpired(): Promise<void> {
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

  #lastCapacityWarnMs = 0;

  #warnCapacity(): void {
    const needed = bytesNeeded(this.#config.capacityHours, this.#rate.bytesPerSecond);
    if (needed === undefined || !this.#rate.settled) return;
    const now = this.#now();
    if (now - this.#lastCapacityWarnMs < 3_600_000) return;
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

  #failWaiters(err: Error): void {
    this.#log.error({ err: err.message }, 'spool fsync failed');
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  /** Write and sync everything appended, persist the ledger, release the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#sealPending();
    this.#writeError = undefined;
    await this.#pump();
    if (this.#chunks.length > 0) this.#log.error({ records: this.#nextId - 1 - this.#writtenThrough }, 'spool closed with records it could not write');
    await this.#sync();
    this.#settleWaiters(this.#durableThrough);
    for (const w of this.#waiters.splice(0)) {
      w.reject(new GatewayError('GW_ERR_SPOOL_CLOSED', `spool closed before record ${w.throughId} was written`));
    }
    await this.#releaseAcknowledged();
    for (const s of this.#segments) {
      await s.fd?.close();
      s.fd = undefined;
    }
    await this.#ledgerFile.close();
    await this.#releaseLock();
  }

  // ── gauges ─────────────────────────────────────────────────────────────────────────────────

  heldRecords(): number {
    return Math.max(0, this.#nextId - 1 - this.#acks.ackedThrough - this.#acks.pending);
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
    return this.#payloadBytes === 0 ? 0 : this.#bytesWritten / this.#payloadBytes;
  }

  ingestBytesPerSecond(): number {
    return this.#rate.bytesPerSecond;
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

async function fsyncDirectory(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
