import { open, unlink } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import type { SpoolMetrics } from './metrics.js';
import type { Segment } from './segment.js';
import { entryTimestampMs, listSegments, scanSegment } from './segment-files.js';

// Recovery at open: read and check every segment, truncate a torn tail of the newest one, count
// and log damage elsewhere, and report the ids lost inside damaged ranges so that the acknowledged
// prefix can be moved past them. Never throws because of damaged data.

export interface Recovered {
  segments: Segment[];
  /** Id ranges [from, to] that were inside damaged ranges. */
  lost: [number, number][];
  /** Highest valid id found (0 when none). */
  lastId: number;
}

export async function recoverSegments(dir: string, log: Logger, metrics: SpoolMetrics): Promise<Recovered> {
  const files = await listSegments(dir);
  const segments: Segment[] = [];
  const lost: [number, number][] = [];
  let lastId = 0;
  for (const [index, file] of files.entries()) {
    const isLast = index === files.length - 1;
    const scan = await scanSegment(file, lastId);
    for (const c of scan.corrupt) {
      metrics.corruptRecords.inc({ stage: 'recovery' });
      metrics.corruptBytes.inc({ stage: 'recovery' }, c.bytes);
      log.error({ segment: file.path, offset: c.offset, bytes: c.bytes }, 'spool: damaged range skipped at recovery (records in it are lost)');
    }
    let end = scan.bytes.length;
    if (scan.tornTail) {
      metrics.corruptBytes.inc({ stage: 'recovery' }, scan.tornTail.bytes);
      if (isLast) {
        log.warn({ segment: file.path, offset: scan.tornTail.offset, bytes: scan.tornTail.bytes }, 'spool: torn tail truncated (an append that never became durable)');
        const fd = await open(file.path, 'r+');
        await fd.truncate(scan.tornTail.offset);
        await fd.datasync();
        await fd.close();
        end = scan.tornTail.offset;
      } else {
        metrics.corruptRecords.inc({ stage: 'recovery' });
        log.error({ segment: file.path, offset: scan.tornTail.offset, bytes: scan.tornTail.bytes }, 'spool: damaged end of a sealed segment skipped');
      }
    }
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
      size: end,
      written: end,
      oldestMs: first ? entryTimestampMs(scan.bytes, first.payloadStart) : Number.NaN,
      newestMs: last ? entryTimestampMs(scan.bytes, last.payloadStart) : Number.NaN,
      fd: undefined,
      damaged: scan.tornTail && !isLast ? [...scan.corrupt, scan.tornTail] : scan.corrupt,
    });
    lastId = Math.max(lastId, scan.lastId);
  }
  return { segments, lost, lastId };
}
