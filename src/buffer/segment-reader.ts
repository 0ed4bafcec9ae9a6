import { open } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import type { AckTracker } from './ack-tracker.js';
import { decodeEntry, type SpoolEntry, type StringTable } from './entry-codec.js';
import type { SpoolMetrics } from './metrics.js';
import { HEADER_BYTES, recordLength, validRecordAt } from './record-format.js';
import type { Segment } from './segment.js';

// Reads records back in append order from what has been written, a chunk of a segment at a time.
// Every record's CRC is checked on the way out, so damage that happened after recovery (bit rot
// through a long outage) is skipped and counted too, never returned.

export interface SpoolRecord {
  id: number;
  entry: SpoolEntry;
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

export class SegmentReader {
  readonly #segments: readonly Segment[];
  readonly #acks: AckTracker;
  readonly #strings: StringTable;
  readonly #log: Logger;
  readonly #metrics: SpoolMetrics;
  #segment: Segment | undefined;
  #offset = 0;
  /** The last id handed out (or skipped) since open or rewind. */
  #lastId: number;

  constructor(segments: readonly Segment[], acks: AckTracker, strings: StringTable, log: Logger, metrics: SpoolMetrics) {
    this.#segments = segments;
    this.#acks = acks;
    this.#strings = strings;
    this.#log = log;
    this.#metrics = metrics;
    this.#lastId = acks.ackedThrough;
  }

  /** Up to `max` records after the read position with ids ≤ limitId; acknowledged ones skipped. */
  async read(max: number, limitId: number): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    if (!this.#segment) {
      this.#segment = this.#segments.find((s) => s.lastId > this.#lastId);
      this.#offset = 0;
    }
    let want = READ_CHUNK_BYTES;
    while (out.length < max && this.#segment && this.#lastId < limitId) {
      const segment = this.#segment;
      const available = segment.written - this.#offset;
      if (available <= 0) {
        if (!this.#advance(segment)) break;
        continue;
      }
      const length = Math.min(available, want);
      const bytes = await readBytes(segment, this.#offset, length);
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
        if (id <= this.#lastId) {
          offset += size;
          continue;
        }
        if (id > this.#lastId + 1) this.#acks.settle(this.#lastId + 1, id - 1);
        this.#lastId = id;
        if (id > this.#acks.ackedThrough && !this.#acks.isAcked(id)) {
          const entry = decodeEntry(bytes, offset + HEADER_BYTES, offset + size, this.#strings);
          if (typeof entry === 'string') {
            this.#metrics.corruptRecords.inc({ stage: 'read' });
            this.#log.error({ segment: segment.path, offset: this.#offset + offset, id, reason: entry }, 'spool: undecodable record skipped');
            this.#acks.settle(id, id);
          } else {
            out.push({ id, entry });
          }
        }
        offset += size;
      }
      this.#offset += offset;
      if (!retry && offset < length) break; // stopped at limitId or max
    }
    return out;
  }

  /** The last id handed out (or skipped as acknowledged or damaged). */
  get position(): number {
    return this.#lastId;
  }

  /** Back to the first unacknowledged record. */
  rewind(): void {
    const through = this.#acks.ackedThrough;
    this.#segment = this.#segments.find((s) => s.lastId > through) ?? this.#segments[this.#segments.length - 1];
    this.#offset = 0;
    this.#lastId = through;
  }

  /** Records up to `id` are gone (dropped): move past them if the reader had not. */
  skipThrough(id: number): void {
    if (this.#lastId < id) this.rewind();
  }

  /** A segment was deleted: if the reader stood in it, read() finds the next one. */
  removed(segment: Segment): void {
    if (this.#segment !== segment) return;
    this.#segment = undefined;
    this.#offset = 0;
  }

  #advance(segment: Segment): boolean {
    const next = this.#segments[this.#segments.indexOf(segment) + 1];
    // Stay on the active segment (or a sealed one not yet fully written) until more arrives.
    if (!next || segment.written < segment.size) return false;
    this.#segment = next;
    this.#offset = 0;
    return true;
  }

  /** Resynchronise after damage found while reading: skip to the next valid record, count it. */
  #skipDamage(segment: Segment, bytes: Buffer, offset: number, fill: number): number {
    let next = offset + 1;
    while (next < fill && validRecordAt(bytes, next, fill, segment.firstId - 1) < 0) next++;
    const at = this.#offset + offset;
    if (segment.damaged.some((d) => d.offset <= at && at < d.offset + d.bytes)) return next;
    this.#metrics.corruptRecords.inc({ stage: 'read' });
    this.#metrics.corruptBytes.inc({ stage: 'read' }, next - offset);
    this.#log.error({ segment: segment.path, offset: at, bytes: next - offset }, 'spool: damaged range skipped while reading');
    return next;
  }
}

async function readBytes(segment: Segment, position: number, length: number): Promise<Buffer> {
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
