import { crc32c } from './crc32c.js';

// One record in a segment file (little-endian):
//
//   0         4         8                  16                16+len
//   +---------+---------+------------------+------------------+
//   | len u32 | crc u32 | id u64           | payload (len B)  |
//   +---------+---------+------------------+------------------+
//
//   len  payload length, 1 ≤ len ≤ MAX_PAYLOAD_BYTES (a zero-filled region is never a record)
//   crc  CRC-32C of len, id and payload (every byte but the crc field): a record validates itself,
//        so a scan can resynchronise after damage without trusting any length it read
//   id   the spool-wide record id: strictly increasing in append order, across segments
//
// Damage is reported, never thrown: a scan returns the valid records, the corrupt ranges between
// them (skipped and counted) and a torn tail (bytes after the last valid record that no later
// valid record follows: an append that did not finish, or a zero-filled tail after power loss).

export const HEADER_BYTES = 16;
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** Write len, crc and id of a record whose payload already sits at buf[offset+16, offset+16+len). */
export function sealRecord(buf: Buffer, offset: number, id: number, payloadLength: number): number {
  buf.writeUInt32LE(payloadLength, offset);
  buf.writeUInt32LE(id % 0x1_0000_0000, offset + 8);
  buf.writeUInt32LE(Math.floor(id / 0x1_0000_0000), offset + 12);
  const end = offset + HEADER_BYTES + payloadLength;
  buf.writeUInt32LE(crc32c(buf, offset + 8, end, crc32c(buf, offset, offset + 4)), offset + 4);
  return HEADER_BYTES + payloadLength;
}

/** The id of a valid record at `offset` whose id is above `minId`, or -1 (invalid or incomplete). */
export function validRecordAt(buf: Buffer, offset: number, end: number, minId: number): number {
  if (offset + HEADER_BYTES > end) return -1;
  const len = buf.readUInt32LE(offset);
  if (len === 0 || len > MAX_PAYLOAD_BYTES || offset + HEADER_BYTES + len > end) return -1;
  const id = buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) * 0x1_0000_0000;
  if (id <= minId || !Number.isSafeInteger(id)) return -1;
  const crc = crc32c(buf, offset + 8, offset + HEADER_BYTES + len, crc32c(buf, offset, offset + 4));
  return crc === buf.readUInt32LE(offset + 4) ? id : -1;
}

export function recordLength(buf: Buffer, offset: number): number {
  return HEADER_BYTES + buf.readUInt32LE(offset);
}

export interface ScannedRecord {
  offset: number;
  id: number;
  payloadStart: number;
  payloadEnd: number;
}

export interface CorruptRange {
  offset: number;
  bytes: number;
}

export interface ScanResult {
  records: ScannedRecord[];
  /** Damaged ranges followed by a valid record: skipped. */
  corrupt: CorruptRange[];
  /** Bytes after the last valid record with no valid record after them; null when clean. */
  tornTail: CorruptRange | null;
  lastId: number;
}

/**
 * Every valid record of buf[start, end) with an id above `minId`, in order. After damage, the scan
 * resumes at the next offset holding a valid record with a higher id (byte by byte: damage is
 * rare, and cheap length/id checks reject almost every offset before its CRC is computed).
 */
export function scanRecords(buf: Buffer, start: number, end: number, minId: number): ScanResult {
  const records: ScannedRecord[] = [];
  const corrupt: CorruptRange[] = [];
  let lastId = minId;
  let offset = start;
  while (offset < end) {
    const id = validRecordAt(buf, offset, end, lastId);
    if (id >= 0) {
      const length = recordLength(buf, offset);
      records.push({ offset, id, payloadStart: offset + HEADER_BYTES, payloadEnd: offset + length });
      lastId = id;
      offset += length;
      continue;
    }
    let next = offset + 1;
    while (next < end && validRecordAt(buf, next, end, lastId) < 0) next++;
    if (next >= end) return { records, corrupt, tornTail: { offset, bytes: end - offset }, lastId };
    corrupt.push({ offset, bytes: next - offset });
    offset = next;
  }
  return { records, corrupt, tornTail: null, lastId };
}
