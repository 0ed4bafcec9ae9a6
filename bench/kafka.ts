// bench/kafka: produce throughput to the local broker and delivery latency, each beside a C
// librdkafka producer (kcat, same idempotence/acks/linger/compression) in the same run:
// - throughput: kcat, a bare node-rdkafka loop (our KafkaProducer), and the full path through the
//   spool and Delivery (spill mode), N records of 200-byte values each;
// - latency: produce → delivery report at a paced 10,000 and 100,000 records/s, p50/p99/p999,
//   beside librdkafka's own rdkafka_performance (the same librdkafka 2.12 node-rdkafka bundles,
//   built with it) at the same rate. Both run 6 s and drop their first second (metadata and the
//   idempotent producer id), so the figures compare steady state with steady state.
//   npm run bench:kafka [-- --records N]   (starts the local broker on 19092 if needed)
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createSpoolMetrics } from '../src/buffer/metrics.js';
import { Spool } from '../src/buffer/spool.js';
import { parseConfig } from '../src/config/load.js';
import { Delivery } from '../src/sinks/kafka/delivery.js';
import { createKafkaMetrics } from '../src/sinks/kafka/metrics.js';
import { KafkaProducer } from '../src/sinks/kafka/producer.js';
import { rdkafkaConfig } from '../src/sinks/kafka/producer-config.js';
import { BOOTSTRAP, createTopic, ensureKafka } from '../test/helpers/kafka.js';
import { cDeliveryLatency } from './lib/rdkafka-performance.js';
import { fmt, machine, percentile, writeResults } from './lib/report.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' } } });
const N = Number(values.records);
const VALUE = Buffer.alloc(200, 0x61);
/** The three headers every gridgate record carries (docs/records.md). */
const HEADERS = { site: 'north', schema: 'gridgate.pmu-frame/1', 'content-type': 'application/json' };
const silent = pino({ level: 'silent' });
const kafka = parseConfig(`site: north\nkafka:\n  brokers: ["${BOOTSTRAP}"]\n  lingerMs: 2\n  pollIntervalMs: 1\n`, 'bench.yaml', {}).kafka;

ensureKafka();

async function producer(): Promise<KafkaProducer> {
  const p = new KafkaProducer({ config: rdkafkaConfig(kafka, 'gridgate-bench'), connectTimeoutMs: 10_000, pollIntervalMs: 1, log: silent, metrics: createKafkaMetrics(new Registry()) });
  await p.connect();
  return p;
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 1));
};

/** kcat -P from a file of N lines, with the settings our producer uses. */
async function kcatThroughput(): Promise<number> {
  const topic = await createTopic('gridgate-bench-kcat', 3);
  const file = join(await mkdtemp(join(tmpdir(), 'gridgate-bench-')), 'lines');
  writeFileSync(file, `${VALUE.toString()}\n`.repeat(N));
  const t0 = performance.now();
  const run = spawnSync('kcat', ['-P', '-b', BOOTSTRAP, '-t', topic, '-l', '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=2', '-X', 'compression.codec=lz4', file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kcat: ${run.stderr}`);
  return N / ((performance.now() - t0) / 1000);
}

/**
 * Our KafkaProducer in a bare loop: produce, back off on a full queue, wait for every report.
 * With and without the record headers: node-rdkafka converts each header object in C++ with
 * GetOwnPropertyNames and two string copies, which is most of a produce() call.
 */
async function bareThroughput(headers?: Record<string, string>): Promise<number> {
  const topic = await createTopic('gridgate-bench-bare', 3);
  const p = await producer();
  let acked = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    for (;;) {
      try {
        p.produce({ topic, key: `north/pmu/${i % 100}`, value: VALUE, ...(headers ? { headers } : {}) }, (err) => {
          if (!err) acked++;
        });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1)); // queue full: let reports drain
      }
    }
    if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
  }
  await until(() => acked === N);
  const rate = N / ((performance.now() - t0) / 1000);
  await p.disconnect();
  return rate;
}

/** The full path: spool + Delivery in spill mode, offered in batches of 1,000. */
async function spoolThroughput(): Promise<{ rate: number; spooled: number }> {
  const topic = await createTopic('gridgate-bench-spool', 3);
  const registry = new Registry();
  let spool: Spool | undefined;
  spool = await Spool.open(
    { dir: await mkdtemp(join(tmpdir(), 'gridgate-bench-spool-')), whenFull: 'block', maxBytes: 2 ** 34, segmentMaxBytes: 64 * 1024 * 1024, fsync: { policy: 'group', intervalMs: 10 } },
    { log: silent, metrics: createSpoolMetrics(registry, () => spool) },
  );
  const p = await producer();
  const metrics = createKafkaMetrics(registry);
  const delivery = new Delivery({ spool, mode: 'spill', log: silent, stallMs: 2000, liveWindow: 50_000, drainWindow: 20_000, retry: kafka.reconnect, metrics });
  delivery.replaceProducer(p);
  const batch = Array.from({ length: 1000 }, (_, i) => ({ topic, key: `north/pmu/${i % 100}`, value: VALUE, timestampMs: Date.now(), headers: HEADERS }));
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await delivery.offerAll(batch);
    if (delivery.inFlight > 40_000) await new Promise((r) => setTimeout(r, 1));
    else await new Promise((r) => setImmediate(r));
  }
  const s = spool;
  await until(() => delivery.inFlight === 0 && !s.hasUnread() && (delivery.state === 'live' || s.heldRecords() === 0));
  const rate = N / ((performance.now() - t0) / 1000);
  const spooled = ((await registry.getSingleMetric('gridgate_kafka_spooled_records_total')?.get())?.values[0]?.value ?? 0) as number;
  await delivery.stop((ms) => p.flush(ms), 1000);
  await p.disconnect();
  await spool.close();
  return { rate, spooled };
}

const WARMUP_TICKS = 1000;
/** produce → delivery report at a paced rate for 6 s, the first one dropped. */
async function latency(perSecond: number): Promise<number[]> {
  const topic = await createTopic(`gridgate-bench-latency-${perSecond}`, 3);
  const p = await producer();
  const samples: number[] = [];
  const perTick = Math.max(1, Math.round(perSecond / 1000));
  const start = performance.now();
  let sent = 0;
  let acked = 0;
  for (let tick = 0; tick < WARMUP_TICKS + 5000; tick++) {
    const due = start + tick;
    const wait = due - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
    const measured = tick >= WARMUP_TICKS;
    for (let k = 0; k < perTick; k++) {
      const t0 = performance.now();
      p.produce({ topic, key: `north/pmu/${sent % 100}`, value: VALUE }, (err) => {
        acked++;
        if (!err && measured) samples.push(performance.now() - t0);
      });
      sent++;
    }
  }
  await until(() => acked === sent);
  await p.disconnect();
  return samples.sort((a, b) => a - b);
}

/** The same measurement by librdkafka's rdkafka_performance -l (C), if it was built with the bundle. */
async function cLatency(perSecond: number): Promise<number[] | undefined> {
  const topic = await createTopic(`gridgate-bench-clatency-${perSecond}`, 3);
  return cDeliveryLatency({ bootstrap: BOOTSTRAP, topic, perSecond, seconds: 6, valueBytes: 200 });
}

const kcat = await kcatThroughput();
const bare = await bareThroughput();
const bareHeaders = await bareThroughput(HEADERS);
const viaSpool = await spoolThroughput();
const lat10k = await latency(10_000);
const lat100k = await latency(100_000);
const cLat10k = await cLatency(10_000);
const cLat100k = await cLatency(100_000);
const q = (s: number[]): string => `${fmt(percentile(s, 50), 2)} / ${fmt(percentile(s, 99), 2)} / ${fmt(percentile(s, 99.9), 2)} ms`;
console.log(`kcat ${fmt(kcat)} rec/s · bare node-rdkafka ${fmt(bare)} rec/s (with the 3 headers ${fmt(bareHeaders)}) · through spool+delivery ${fmt(viaSpool.rate)} rec/s (spooled ${fmt(viaSpool.spooled)})`);
const stats = (s: number[]): { p50: number; p99: number; p999: number } => ({ p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9) });
const cq = (s: number[] | undefined): string => (s ? q(s) : 'not built');
console.log(`latency 10k/s ${q(lat10k)} (C ${cq(cLat10k)}) · 100k/s ${q(lat100k)} (C ${cq(cLat100k)})`);

// "Version 1.7.1 (… librdkafka 2.0.2 …)": Debian's kcat links Debian's librdkafka, not ours.
const v = /Version (\S+)[^\n]*librdkafka ([\d.]+)/.exec(execFileSync('kcat', ['-V'], { encoding: 'utf8' }));
const kcatVersion = v ? `${v[1]} on librdkafka ${v[2]}` : 'version unknown';
const table = [
  '## kafka (bench/kafka.ts)',
  '',
  `${fmt(N)} records of 200-byte values to the local single-node broker (Kafka 4.1.1, 127.0.0.1:19092), 3 partitions, 100 keys; idempotent, acks=all, linger 2 ms, lz4, on ${machine()}, ${new Date().toISOString().slice(0, 10)}. Reference: kcat (${kcatVersion}) with the same producer settings, in the same run.`,
  '',
  '| path | records/s | ÷ kcat |',
  '| --- | --- | --- |',
  `| kcat (C librdkafka) | ${fmt(kcat)} | 1.00 |`,
  `| bare node-rdkafka loop (KafkaProducer), no headers | ${fmt(bare)} | ${fmt(bare / kcat, 2)} |`,
  `| bare node-rdkafka loop with the 3 record headers (site, schema, content-type) | ${fmt(bareHeaders)} | ${fmt(bareHeaders / kcat, 2)} |`,
  `| end to end through the spool and Delivery, with the headers (spill mode; ${fmt(viaSpool.spooled)} records went through the disk) | ${fmt(viaSpool.rate)} | ${fmt(viaSpool.rate / kcat, 2)} |`,
  '',
  '| delivery latency, produce → acks=all report (6 s, first second dropped) | ours (node-rdkafka) p50 / p99 / p999 | C (rdkafka_performance -l, same librdkafka) p50 / p99 / p999 |',
  '| --- | --- | --- |',
  `| 10,000 records/s | ${q(lat10k)} | ${cq(cLat10k)} |`,
  `| 100,000 records/s | ${q(lat100k)} | ${cq(cLat100k)} |`,
  '',
  'Targets (issue #5): ≥ 250,000 records/s end to end through the spool; p99 delivery latency under 5 ms at 10,000 records/s.',
  `This run: ${fmt(viaSpool.rate)} records/s through the spool (${viaSpool.rate >= 250_000 ? 'met' : 'not met'}); p99 at 10,000 records/s ${fmt(percentile(lat10k, 99), 2)} ms (${percentile(lat10k, 99) < 5 ? 'met' : 'not met'})${cLat10k ? `, where librdkafka's own C producer measured ${fmt(percentile(cLat10k, 99), 2)} ms against the same broker (${percentile(cLat10k, 99) < 5 ? 'under' : 'over'} the target too)` : ''}.`,
].join('\n');
await writeResults('kafka', { records: N, machine: machine(), kcat, bare, bareHeaders, viaSpool, latency: { '10k': stats(lat10k), '100k': stats(lat100k), c10k: cLat10k && stats(cLat10k), c100k: cLat100k && stats(cLat100k) } }, table);
console.log('wrote bench/results/kafka.json and the kafka section of bench/RESULTS.md');
process.exit(0);
