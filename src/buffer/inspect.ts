import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringTable, decodeEntry } from './entry-codec.js';
import { LEDGER_FILE, decodeLedger } from './ledger.js';
import { LOCK_FILE } from './lock.js';
import type { CorruptRange } from './record-format.js';
import { listSegments, scanSegment } from './segment-files.js';

// What `gridgate spool stat|verify` report: a read-only look at a spool directory. It takes no
// lock and changes nothing, so it is safe beside a running gateway (whose newest segment may then
// show a partly written record at its end).

export interface SegmentReport {
  file: string;
  bytes: number;
  records: number;
  firstId: number | undefined;
  lastId: number | undefined;
  corrupt: CorruptRange[];
  tornTail: CorruptRange | null;
  /** Records whose CRC is valid but whose entry does not decode. */
  undecodable: { offset: number; id: number; reason: string }[];
}

export interface SpoolReport {
  dir: string;
  ownerPid: number | undefined;
  ackedThrough: number | undefined;
  held: number;
  bytes: number;
  oldestMs: number | undefined;
  newestMs: number | undefined;
  topics: Record<string, number>;
  segments: SegmentReport[];
}

export async function inspectSpool(dir: string): Promise<SpoolReport> {
  const ledger = decodeLedger(await readFile(join(dir, LEDGER_FILE)).catch(() => Buffer.alloc(0)));
  const owner = Number((await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => '')).trim());
  const ackedThrough = ledger?.ackedThrough;
  const report: SpoolReport = {
    dir,
    ownerPid: owner > 0 ? owner : undefined,
    ackedThrough,
    held: 0,
    bytes: 0,
    oldestMs: undefined,
    newestMs: undefined,
    topics: {},
    segments: [],
  };
  let lastId = 0;
  const strings = new StringTable();
  for (const file of await listSegments(dir)) {
    const scan = await scanSegment(file, lastId);
    const segment: SegmentReport = {
      file: file.path,
      bytes: scan.bytes.length,
      records: scan.records.length,
      firstId: scan.records[0]?.id,
      lastId: scan.records[scan.records.length - 1]?.id,
      corrupt: scan.corrupt,
      tornTail: scan.tornTail,
      undecodable: [],
    };
    for (const r of scan.records) {
      const entry = decodeEntry(scan.bytes, r.payloadStart, r.payloadEnd, strings);
      if (typeof entry === 'string') {
        segment.undecodable.push({ offset: r.offset, id: r.id, reason: entry });
        continue;
      }
      if (r.id <= (ackedThrough ?? 0)) continue;
      report.held++;
      report.topics[entry.topic] = (report.topics[entry.topic] ?? 0) + 1;
      report.oldestMs = Math.min(report.oldestMs ?? entry.timestampMs, entry.timestampMs);
      report.newestMs = Math.max(report.newestMs ?? entry.timestampMs, entry.timestampMs);
    }
    report.bytes += scan.bytes.length;
    report.segments.push(segment);
    lastId = Math.max(lastId, scan.lastId);
  }
  return report;
}

export function isDamaged(s: SegmentReport): boolean {
  return s.corrupt.length > 0 || s.tornTail !== null || s.undecodable.length > 0;
}
