import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanRecords, type CorruptRange, type ScannedRecord } from './record-format.js';

// Segment files are named after the id of their first record, zero-padded so that name order is
// id order: 00000000000000000001.seg. Reading one is shared by recovery (which may then truncate
// a torn tail) and by `gridgate spool stat|verify` (which never modify anything).

const SEGMENT_NAME = /^(\d{20})\.seg$/;

export function segmentName(firstId: number): string {
  return `${String(firstId).padStart(20, '0')}.seg`;
}

export interface SegmentFile {
  firstId: number;
  path: string;
}

/** Segment files of a spool directory in id order; other files are ignored. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names
    .map((name) => SEGMENT_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ firstId: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.firstId - b.firstId);
}

export interface SegmentScan extends SegmentFile {
  bytes: Buffer;
  records: ScannedRecord[];
  corrupt: CorruptRange[];
  tornTail: CorruptRange | null;
  /** Highest valid id, or `minId` when the segment holds no valid record. */
  lastId: number;
}

/** Read and validate a whole segment (a segment is at most segmentMaxBytes). */
export async function scanSegment(file: SegmentFile, minId: number): Promise<SegmentScan> {
  const bytes = await readFile(file.path);
  return { ...file, bytes, ...scanRecords(bytes, 0, bytes.length, minId) };
}

/** The record timestamp of an encoded entry (entry-codec.ts: version u8, then f64 timestampMs). */
export function entryTimestampMs(bytes: Buffer, payloadStart: number): number {
  return bytes.readDoubleLE(payloadStart + 1);
}
