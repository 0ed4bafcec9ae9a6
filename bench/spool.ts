// bench/spool: append throughput and latency of 200-byte records under each fsync policy, replay
// throughput and write amplification, each beside dd in the same run:
// - append: dd writes the same number of bytes with the same number of fsyncs (oflag=dsync and a
//   block size of bytes ÷ our fsync count; for `never`, one fdatasync at the end as our close does)
// - replay: dd reads the same segment files back (page cache warm for both)
//   npm run bench:spool [-- --records N]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { SpoolEntry } from '../src/buffer/entry-codec.js';
import { createSpoolMetrics } from '../src/buffer/metrics.js';
import { Spool } from '../src/buffer/spool.js';
import { fmt, machine, percentile, writeResults } from './lib/report.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '1000' } } });
const RECORDS = Number(values.records);
const BATCH = Number(values.batch);
const VALUE_BYTES = 200;

const entries: SpoolEntry[] = Array.from({ length: BATCH }, (_, i) => ({
  topic: 'grid.pmu.frames',
  key: `north/pmu-${i % 100}/${i % 100}`,
  value: Buffer.alloc(VALUE_BYTES, i & 0xff),
  timestampMs: Date.now(),
  headers: { site: 'north', schema: 'gridgate.pmu.Frame/1', 'content-type': 'application/json' },
}));

interface PolicyResult {
  policy: string;
  recordsPerSecond: number;
  mbPerSecond: number;
  /** append → durable of each batch at a paced 100,000 records/s. */
  pacedLatencyP50Ms: number;
  pacedLatencyP99Ms: number;
  pacedLatencyMaxMs: number;
  fsyncs: number;
  bytesWritten: number;
  writeAmplification: number;
  ddMbPerSecond: number;
  ddBlockBytes: number;
  replayRecordsPerSecond?: number;
  replayMbPerSecond?: number;
  ddReadMbPerSecond?: number;
}

async function run(policy: 'group' | 'batch' | 'never'): Promise<PolicyResult> {
  const dir = await mkdtemp(join(tmpdir(), `gridgate-bench-spool-${policy}-`));
  const registry = new Registry();
  let spool: Spool | undefined;
  const metrics = createSpoolMetrics(registry, () => spool);
  spool = await Spool.open(
    { dir, whenFull: 'block', maxBytes: 2 ** 40, segmentMaxBytes: 64 * 1024 * 1024, fsync: { policy, intervalMs: 10 } },
    { log: pino({ level: 'warn' }), metrics },
  );
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let done = 0; done < RECORDS; done += BATCH) {
    const { durable } = spool.append(entries);
    inFlight.push(durable);
    // A pipeline hands over a batch every few ms; let the writer run between batches, and bound
    // what is in flight (as back-pressure would).
    if (inFlight.length >= 64) await inFlight.shift();
    else await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  const fsyncs = (await registry.getSingleMetric('gridgate_spool_fsync_seconds')?.get())?.values.find(
    (v) => (v as { metricName?: string }).metricName === 'gridgate_spool_fsync_seconds_count',
  )?.value ?? 0;
  const bytesWritten = spool.heldBytes();
  const writeAmplification = spool.writeAmplification();

  // Replay: read everything back and acknowledge it, as the sink's drain would.
  let replayRecordsPerSecond: number | undefined;
  let replayMbPerSecond: number | undefined;
  if (policy === 'group') {
    const t0 = performance.now();
    let n = 0;
    for (;;) {
      const records = await spool.read(10_000);
      if (records.length === 0) break;
      for (const r of records) spool.ack(r.id);
      n += records.length;
    }
    const s = (performance.now() - t0) / 1000;
    if (n !== RECORDS) throw new Error(`replayed ${n} of ${RECORDS}`);
    replayRecordsPerSecond = n / s;
    replayMbPerSecond = bytesWritten / s / 1e6;
  }
  const latencies = await paced(spool);
  await spool.close();
  let ddReadMbPerSecond: number | undefined;
  if (policy === 'group') ddReadMbPerSecond = ddRead(dir, bytesWritten);
  await rm(dir, { recursive: true, force: true });

  const syncs = Math.max(1, fsyncs);
  const ddBlockBytes = policy === 'never' ? 1024 * 1024 : Math.max(4096, Math.round(bytesWritten / syncs / 4096) * 4096);
  const ddMbPerSecond = ddWrite(bytesWritten, ddBlockBytes, policy !== 'never');
  return {
    policy,
    recordsPerSecond: RECORDS / elapsed,
    mbPerSecond: bytesWritten / elapsed / 1e6,
    pacedLatencyP50Ms: percentile(latencies, 50),
    pacedLatencyP99Ms: percentile(latencies, 99),
    pacedLatencyMaxMs: latencies[latencies.length - 1] ?? Number.NaN,
    fsyncs,
    bytesWritten,
    writeAmplification,
    ddMbPerSecond,
    ddBlockBytes,
    ...(replayRecordsPerSecond !== undefined ? { replayRecordsPerSecond, replayMbPerSecond, ddReadMbPerSecond } : {}),
  };
}

/** Offer 100,000 records/s (a batch of 1,000 every 10 ms) for 3 s; append → durable per batch, sorted. */
async function paced(spool: Spool): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < 300; i++) {
    const due = start + i * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(spool.append(entries).durable.then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}

/** dd writing `bytes` in blocks of `block`, each synced (oflag=dsync) or one sync at the end. */
function ddWrite(bytes: number, block: number, syncEach: boolean): number {
  const file = join(tmpdir(), `gridgate-bench-dd-${process.pid}`);
  const count = Math.max(1, Math.round(bytes / block));
  const t0 = performance.now();
  execFileSync('dd', ['if=/dev/zero', `of=${file}`, `bs=${block}`, `count=${count}`, syncEach ? 'oflag=dsync' : 'conv=fdatasync'], { stdio: 'ignore' });
  const s = (performance.now() - t0) / 1000;
  execFileSync('rm', ['-f', file]);
  return (block * count) / s / 1e6;
}

/** dd reading the spool's segment files (already in the page cache, as for our replay). */
function ddRead(dir: string, bytes: number): number {
  const t0 = performance.now();
  for (const f of execFileSync('ls', [dir], { encoding: 'utf8' }).split('\n').filter((n) => n.endsWith('.seg'))) {
    execFileSync('dd', [`if=${join(dir, f)}`, 'of=/dev/null', 'bs=1M'], { stdio: 'ignore' });
  }
  return bytes / ((performance.now() - t0) / 1000) / 1e6;
}

const results: PolicyResult[] = [];
for (const policy of ['group', 'batch', 'never'] as const) {
  const r = await run(policy);
  results.push(r);
  console.log(
    `${policy.padEnd(6)} ${fmt(r.recordsPerSecond)} rec/s  ${fmt(r.mbPerSecond, 1)} MB/s  paced p50 ${fmt(r.pacedLatencyP50Ms, 2)} ms p99 ${fmt(r.pacedLatencyP99Ms, 2)} ms  ` +
      `fsyncs ${r.fsyncs}  dd ${fmt(r.ddMbPerSecond, 1)} MB/s (bs ${r.ddBlockBytes})  ratio ${fmt(r.mbPerSecond / r.ddMbPerSecond, 2)}  WA ${fmt(r.writeAmplification, 3)}` +
      (r.replayRecordsPerSecond ? `  replay ${fmt(r.replayRecordsPerSecond)} rec/s ${fmt(r.replayMbPerSecond ?? 0, 1)} MB/s (dd read ${fmt(r.ddReadMbPerSecond ?? 0, 1)} MB/s)` : ''),
  );
}

const table = [
  `## spool (bench/spool.ts)`,
  '',
  `${fmt(RECORDS)} records, ${VALUE_BYTES}-byte values (${fmt((results[0]?.bytesWritten ?? 0) / RECORDS)} bytes on disk each with topic, key, 3 headers and the 16-byte record header), batches of ${BATCH}, on ${machine()}, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| fsync policy | appended records/s | MB/s | fsyncs | dd, same bytes and fsyncs | ours ÷ dd | append → durable at 100k rec/s: p50 / p99 / max | write amplification |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.policy}${r.policy === 'group' ? ' (10 ms)' : ''} | ${fmt(r.recordsPerSecond)} | ${fmt(r.mbPerSecond, 1)} | ${fmt(r.fsyncs)} | ${fmt(r.ddMbPerSecond, 1)} MB/s (bs ${fmt(r.ddBlockBytes)}${r.policy === 'never' ? ', one fdatasync' : ', oflag=dsync'}) | ${fmt(r.mbPerSecond / r.ddMbPerSecond, 2)} | ${fmt(r.pacedLatencyP50Ms, 1)} / ${fmt(r.pacedLatencyP99Ms, 1)} / ${fmt(r.pacedLatencyMaxMs, 1)} ms | ${fmt(r.writeAmplification, 3)} |`,
  ),
  '',
  `Replay (read and acknowledge everything, page cache warm): ${fmt(results[0]?.replayRecordsPerSecond ?? 0)} records/s, ${fmt(results[0]?.replayMbPerSecond ?? 0, 1)} MB/s; dd reading the same segment files: ${fmt(results[0]?.ddReadMbPerSecond ?? 0, 1)} MB/s.`,
  '',
  'Targets (issue #4): ≥ 500,000 records/s appended with 10 ms group commit and ≥ 60% of dd; replay ≥ 1,000,000 records/s.',
].join('\n');
await writeResults('spool', { records: RECORDS, valueBytes: VALUE_BYTES, batch: BATCH, machine: machine(), results }, table);
console.log('\nwrote bench/results/spool.json and the spool section of bench/RESULTS.md');
