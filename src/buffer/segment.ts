import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorruptRange } from './record-format.js';
import { segmentName } from './segment-files.js';

/** What the spool knows of one segment file; shared by its writer, reader and upkeep. */
export interface Segment {
  firstId: number;
  path: string;
  /** Highest id assigned to this segment (firstId - 1 while empty). */
  lastId: number;
  /** Bytes assigned (written + pending). */
  size: number;
  /** Bytes written to the file. */
  written: number;
  /** Timestamps of the first and last record, for the age bound and the oldest-age metric. */
  oldestMs: number;
  newestMs: number;
  /** Open for appending while active and until its last bytes are synced. */
  fd: FileHandle | undefined;
  /** Damaged ranges found at recovery (already counted and logged): the reader skips them quietly. */
  damaged: CorruptRange[];
}

export function newSegment(dir: string, firstId: number): Segment {
  return {
    firstId,
    path: join(dir, segmentName(firstId)),
    lastId: firstId - 1,
    size: 0,
    written: 0,
    oldestMs: Number.NaN,
    newestMs: Number.NaN,
    fd: undefined,
    damaged: [],
  };
}

/** A sealed segment whose bytes are all on disk: nothing will be written to it any more. */
export function isComplete(segment: Segment): boolean {
  return segment.written === segment.size;
}
