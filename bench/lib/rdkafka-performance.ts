import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// librdkafka's own C producer benchmark, built with node-rdkafka's bundled librdkafka (the same
// version the gateway links): the reference for delivery latency, produce → acks=all report,
// measured per message with -l at a paced rate.

export const RDKAFKA_PERFORMANCE = 'node_modules/node-rdkafka/deps/librdkafka/examples/rdkafka_performance';

export interface CLatencyRun {
  bootstrap: string;
  topic: string;
  perSecond: number;
  seconds: number;
  valueBytes: number;
}

/** Latencies in ms, sorted, the first second dropped; undefined when rdkafka_performance was not built. */
export async function cDeliveryLatency(run: CLatencyRun): Promise<number[] | undefined> {
  if (!existsSync(RDKAFKA_PERFORMANCE)) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'gridgate-bench-'));
  const file = join(dir, 'latency.txt');
  try {
    const result = spawnSync(
      RDKAFKA_PERFORMANCE,
      ['-P', '-t', run.topic, '-b', run.bootstrap, '-s', String(Math.round(run.valueBytes)), '-c', String(run.perSecond * run.seconds), '-r', String(run.perSecond),
        '-l', '-A', file, '-q', '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=2', '-z', 'lz4'],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`rdkafka_performance: ${result.stderr}`);
    // One line per message in send order, microseconds.
    const micros = readFileSync(file, 'utf8').trim().split('\n').map(Number);
    return micros.slice(run.perSecond).map((us) => us / 1000).sort((a, b) => a - b);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
