import { getPriority, setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { workerData } from 'node:worker_threads';
import type { ResolvedPair } from './angle-pair.js';
import type { RecordEncoding } from '../encoding/record-encoding.js';
import type { AnalyticsConfig } from './config.js';
import { AnalyticsEngine, type AnalyticsBatch, type AnalyticsResult } from './engine.js';

// The piscina task of an analytics worker thread. Each pool has exactly one thread and runs one
// task at a time (pool.ts), so this module's engine is the window state of the streams hashed to
// this thread: per-thread state by construction, the one place module scope holds state.

const { config, pairs, encoding } = workerData as { config: AnalyticsConfig; pairs: ResolvedPair[]; encoding: RecordEncoding };
const engine = new AnalyticsEngine(config, pairs, encoding);
lowerPriority(config.workerNice);

/**
 * On Linux a thread's nice value is its own (setpriority on the calling thread, PRIO_PROCESS 0):
 * only this worker is lowered, the main thread and librdkafka's keep the process's. Raising nice
 * needs no privilege; where it is refused anyway, the worker runs at the process's priority.
 */
function lowerPriority(increment: number): void {
  if (!(increment > 0)) return;
  try {
    setPriority(Math.min(19, getPriority() + increment));
  } catch {
    // Same priority as the main thread: what the gateway did before workerNice.
  }
}

export default function run(batch: AnalyticsBatch): AnalyticsResult {
  const result = engine.process(batch);
  // Each thread has a heap of its own, which the main thread's nodejs_heap_* metrics do not see.
  const heap = getHeapStatistics();
  result.heap = { usedBytes: heap.used_heap_size, totalBytes: heap.total_heap_size };
  return result;
}
