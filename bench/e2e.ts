// End to end: PMU frame sent → Kafka delivery report (acks=all), through the real gateway.
//
//   npm run bench:e2e [-- --pmus 10,100,1000 --encodings json,avro --seconds 20 --warmup 10 --profile DIR]
//
// For each load, ten `gridgate simulate pmu` processes (one TCP stream each, N/10 PMUs per stream,
// 60 frames/s, 6 phasors + 2 analogs per PMU, float polar) and the gateway, run from dist/ as
// users run it (spill mode, group fsync, analytics in worker threads with the default windows),
// publishing to the local broker (19092, started if needed). A probe loaded with --import
// (bench/lib/e2e-probe.mjs) wraps the producer's delivery callback and keeps, per PMU record, its
// eventTime (the frame's time stamp), ingestTime and ack time. Each simulator logs when each frame
// left it (--send-log), so the latency is measured from that moment, as the issue defines it:
// ack − send. Ack − time stamp is printed too: it adds the simulator's own lateness (a frame goes
// out on its time stamp, late by timer slack and by how busy the machine is).
// CPU (all threads) and RSS of the gateway process from /proc. Loss: PMU frames missing at the
// nominal rate or shed by the gateway, and verify-topic's gaps on the run's own topic.
// Reference, in the same run: librdkafka's C producer (rdkafka_performance -l, the same
// librdkafka) sending records of the same mean size at the same rate to the same broker: what
// Kafka and librdkafka alone cost, with no decoding, analytics or spool in front.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import type { RecordEncoding } from '../src/pipeline/encoding/record-encoding.js';
import { ProcessGroup } from '../scripts/substation/children.js';
import { cpuShare, mainThreadCpuShare, sampleProcess, type ProcSample } from '../scripts/substation/proc-stats.js';
import { scrape, type Scrape } from '../scripts/substation/prometheus.js';
import { startSimulatedSite } from '../scripts/substation/simulated-site.js';
import { verifyTopic } from '../scripts/substation/verify.js';
import { parseSendLog } from '../src/protocols/c37118/simulator/send-log.js';
import { kafkaEnv } from '../test/helpers/kafka-env.mjs';
import { BOOTSTRAP, createTopic, ensureKafka } from '../test/helpers/kafka.js';
import { cDeliveryLatency } from './lib/rdkafka-performance.js';
import { fmt, machine, percentile, writeResults } from './lib/report.js';

const STREAMS = 10;
const RATE = 60;
const HTTP_PORT = 19464;
const FIRST_PORT = 24712;

const { values: args } = parseArgs({
  options: {
    pmus: { type: 'string', default: '10,100,1000' },
    // Also run these loads with analytics off: what the transport alone costs.
    'analytics-off': { type: 'string', default: '100' },
    // kafka.encoding of the gateway; every load runs once with each.
    encodings: { type: 'string', default: 'json,avro' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '10' },
    // Write V8 CPU profiles of the gateway's threads here (--cpu-prof), for finding where the CPU goes.
    profile: { type: 'string' },
    // Print the gateway's queues and memory every second while measuring.
    watch: { type: 'boolean', default: false },
    // Extra flags for the gateway's node (space-separated), for trying V8 or libuv settings.
    'node-flags': { type: 'string', default: '' },
  },
});
const loads = args.pmus!.split(',').map(Number);
const withoutAnalytics = args['analytics-off'] ? args['analytics-off'].split(',').map(Number) : [];
const encodings = args.encodings!.split(',') as RecordEncoding[];
const seconds = Number(args.seconds);
const warmupS = Number(args.warmup);

interface Latency {
  p50: number;
  p99: number;
  p999: number;
}
interface Run {
  pmus: number;
  analytics: 'workers' | 'off';
  encoding: RecordEncoding;
  framesPerSecond: number;
  /** Kafka's ack − the moment the frame left the simulator (its send log). */
  latencyMs: Latency & { max: number; count: number };
  /** Kafka's ack − eventTime (the frame's time stamp): adds the simulator's lateness. */
  fromStampMs: Latency & { max: number };
  /** ingestTime − send: loopback and the wait for the gateway's event loop to read the socket. */
  arrivalMs: Latency & { max: number };
  /** send − eventTime: how late the simulators sent frames after their time stamps. */
  simulatorLatenessMs: Latency & { max: number };
  /** Acknowledged records whose frame is not in a send log (the log's last lines not yet written). */
  unmatched: number;
  reference: { label: string; latencyMs: Latency } | undefined;
  meanValueBytes: number;
  cpuShare: number;
  /** The main thread alone (decoding, the pipeline, the producer's JavaScript side). */
  cpuMainThreadShare: number;
  simulatorsCpuShare: number;
  /** The broker's JVM: it shares the two cores. */
  brokerCpuShare: number | undefined;
  /** What the analytics produced while measuring, by kind (gridgate_analytics_records_total), and samples late or skipped. */
  analyticsOutput: { records: Record<string, number>; lateSamples: number; skippedSamples: number };
  rssMaxMiB: number;
  rssEndMiB: number;
  /** The main thread's V8 heap and memory outside it (Buffers, librdkafka's is not counted), at the end. */
  heapTotalMiB: number;
  /** The analytics worker threads' V8 heaps, summed, at the end (absent in results from before they were reported). */
  workerHeapTotalMiB?: number;
  externalMiB: number;
  recordsExpected: number;
  recordsAcknowledged: number;
  missingFrames: number;
  shedFrames: number;
  verifyLost: number;
  lost: number;
}

ensureKafka();
const runs: Run[] = [];
for (const encoding of encodings) {
  for (const pmus of loads) runs.push(await measure(pmus, 'workers', encoding));
  for (const pmus of withoutAnalytics) runs.push(await measure(pmus, 'off', encoding));
}

const targets = { cpuShareAt100: 0.25, p99MsAt100: 10, rssMiB: 250, lossAt1000: 0 };
const ms = (v: number | undefined): string => (v === undefined || v === null ? '—' : fmt(v, 2));
const table = [
  '| PMUs × 60 frames/s | analytics | encoding | PMU records/s acknowledged (expected) | frame sent → Kafka ack p50 / p99 / p999 / max | of it, sent → read by the gateway p50 / p99 | frame time stamp → ack p50 / p99 (simulator lateness p99) | reference: C producer, same rate and size, p50 / p99 / p999 | p99 ÷ reference | gateway CPU, all threads / main thread (simulators, broker) | gateway RSS max (V8 heaps: main, analytics workers; external) | lost |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...runs.map((r) =>
    `| ${fmt(r.pmus)} | ${r.analytics} | ${r.encoding} (${fmt(r.meanValueBytes)} B) | ${fmt(r.recordsAcknowledged / seconds)} (${fmt(r.recordsExpected / seconds)}) | ${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.p999)} / ${ms(r.latencyMs.max)} ms | ${ms(r.arrivalMs.p50)} / ${ms(r.arrivalMs.p99)} ms | ` +
      `${ms(r.fromStampMs.p50)} / ${ms(r.fromStampMs.p99)} ms (${ms(r.simulatorLatenessMs.p99)} ms) | ` +
      `${r.reference ? `${ms(r.reference.latencyMs.p50)} / ${ms(r.reference.latencyMs.p99)} / ${ms(r.reference.latencyMs.p999)} ms` : 'not built'} | ${r.reference ? fmt(r.latencyMs.p99 / r.reference.latencyMs.p99, 2) : '—'} | ` +
      `${fmt(100 * r.cpuShare, 1)} / ${fmt(100 * r.cpuMainThreadShare, 1)} % of a core (${fmt(100 * r.simulatorsCpuShare, 1)} %, ${r.brokerCpuShare === undefined ? '?' : fmt(100 * r.brokerCpuShare, 1)} %) | ${fmt(r.rssMaxMiB)} MiB (${fmt(r.heapTotalMiB)}, ${r.workerHeapTotalMiB === undefined ? '?' : fmt(r.workerHeapTotalMiB)}; ${fmt(r.externalMiB)}) | ${fmt(r.lost)} |`,
  ),
];
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not run' : ok ? '**met**' : '**not met**');
function verdicts(encoding: RecordEncoding): string {
  const mine = runs.filter((r) => r.encoding === encoding);
  const at100 = mine.find((r) => r.pmus === 100 && r.analytics === 'workers');
  const at1000 = mine.find((r) => r.pmus === 1000 && r.analytics === 'workers');
  // The transport alone (decode, encode, spool, Kafka), for telling its share from the analytics'.
  const off = mine.find((r) => r.pmus === 100 && r.analytics === 'off');
  const alsoOff = (ok: (r: Run) => boolean, value: (r: Run) => string): string => (off ? `; analytics off: ${verdict(ok(off))} (${value(off)})` : '');
  const cpuOk = (r: Run): boolean => r.cpuShare < targets.cpuShareAt100;
  const cpu = (r: Run): string => `${fmt(100 * r.cpuShare, 1)} %`;
  const p99Ok = (r: Run): boolean => r.latencyMs.p99 < targets.p99MsAt100;
  const p99 = (r: Run): string => `${ms(r.latencyMs.p99)} ms`;
  return (
    `Targets (issue #9), kafka.encoding ${encoding}: 100 PMUs at under 25 % of one core: ${verdict(at100 && cpuOk(at100))}${at100 ? ` (${cpu(at100)})` : ''}${alsoOff(cpuOk, cpu)}; ` +
    `p99 under 10 ms at 100 PMUs: ${verdict(at100 && p99Ok(at100))}${at100 ? ` (${p99(at100)})` : ''}${alsoOff(p99Ok, p99)}; ` +
    `RSS under 250 MB: ${verdict(mine.length ? mine.every((r) => r.rssMaxMiB * 1.048576 < targets.rssMiB) : undefined)} (max ${fmt(Math.max(...mine.map((r) => r.rssMaxMiB)))} MiB); ` +
    `1,000 PMUs sustained without loss: ${verdict(at1000 && at1000.lost === 0 && at1000.recordsAcknowledged >= 0.99 * at1000.recordsExpected)}.`
  );
}
const markdown = [
  '## end to end (bench/e2e.ts)',
  '',
  `${STREAMS} \`gridgate simulate pmu\` processes (TCP, N/${STREAMS} PMUs per stream, ${RATE} frames/s, 6 float polar phasors + 2 analogs per PMU) → the gateway from dist/ (spill mode, group fsync, analytics in worker threads, default windows 100 ms / 200 ms / 1 s; PMU records, features and anomalies all published) → the local broker (3 partitions, lz4, idempotent, acks=all). ${warmupS} s warm-up, then ${seconds} s measured per load, on ${machine()}, ${new Date().toISOString().slice(0, 10)}. Latency per PMU record: Kafka's delivery report − the moment its frame left the simulator (each simulator logs its sends with --send-log; joined by source and time stamp). From the frame's time stamp it adds the simulator's own lateness, printed beside it. Reference in the same run: librdkafka's C producer (rdkafka_performance -l, the librdkafka node-rdkafka bundles) at the same record rate and mean size to the same broker. Lost: frames missing at the nominal rate + frames shed + verify-topic gaps on the run's topic.`,
  '',
  ...table,
  '',
  ...encodings.flatMap((e) => [verdicts(e), '']),
].join('\n');
console.log(markdown);
await writeResults('e2e', { machine: machine(), date: new Date().toISOString(), seconds, warmupS, streams: STREAMS, rate: RATE, targets, runs }, markdown);

async function measure(pmus: number, analytics: Run['analytics'], encoding: RecordEncoding): Promise<Run> {
  const perStream = Math.max(1, Math.round(pmus / STREAMS));
  const dir = await mkdtemp(join(tmpdir(), `gridgate-e2e-${pmus}-`));
  const logDir = join(dir, 'logs');
  await mkdir(logDir);
  const suffix = `${pmus}-${Date.now()}`;
  const topics = {
    pmuFrames: `bench.e2e.pmu.${suffix}`, scadaValues: `bench.e2e.scada.${suffix}`, features: `bench.e2e.features.${suffix}`,
    anomalies: `bench.e2e.anomalies.${suffix}`, late: `bench.e2e.late.${suffix}`, deadLetter: `bench.e2e.dlq.${suffix}`,
  };
  const siteFile = join(dir, 'site.yaml');
  await writeFile(siteFile, siteYaml(dir, topics, analytics, encoding));
  const config = await loadConfig(siteFile);
  const group = new ProcessGroup();
  let kept = false;
  try {
    await startSimulatedSite(group, config, siteFile, { logDir, pmu: (source) => ({ pmus: perStream, rate: RATE, sendLog: sendLogOf(logDir, source) }) });
    const probeOut = join(dir, 'probe.json');
    const gateway = group.start('gateway', ['run', '--config', siteFile], {
      logFile: join(logDir, 'gateway.log'),
      nodeFlags: ['--import', './bench/lib/e2e-probe.mjs', ...args['node-flags']!.split(' ').filter(Boolean), ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [])],
      env: { GRIDGATE_E2E_TOPIC: topics.pmuFrames, GRIDGATE_E2E_PROBE_OUT: probeOut },
    });
    const metricsUrl = `http://127.0.0.1:${HTTP_PORT}/metrics`;
    await gateway.until(async () => (await scrape(metricsUrl).catch(() => undefined))?.sum('gridgate_kafka_acknowledged_total') ?? 0, (n) => n > 0, 60_000, 'delivering to Kafka');
    await sleep(warmupS * 1000);

    gateway.process.kill('SIGUSR2');
    const m0 = await scrape(metricsUrl);
    const sims = group.children().filter((c) => c !== gateway);
    const g0 = (await sampleProcess(gateway.pid))!;
    const s0 = await Promise.all(sims.map((s) => sampleProcess(s.pid)));
    const brokerPid = Number(await readFile(join(kafkaEnv().KAFKA_DATA_DIR, 'kafka.pid'), 'utf8').catch(() => 'NaN'));
    const b0 = await sampleProcess(brokerPid);
    const samples: ProcSample[] = [g0];
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await sleep(1000);
      const s = await sampleProcess(gateway.pid);
      if (s) samples.push(s);
      if (args.watch) console.log(await watchLine(metricsUrl, s));
    }
    gateway.process.kill('SIGUSR2');
    const m1 = await scrape(metricsUrl);
    const g1 = samples.at(-1)!;
    const s1 = await Promise.all(sims.map((s) => sampleProcess(s.pid)));
    const b1 = await sampleProcess(brokerPid);
    const probe = await gateway.until(async () => JSON.parse(await readFile(probeOut, 'utf8').catch(() => 'null')), (p) => p !== null, 10_000, 'done writing its probe');
    // The simulators write their send logs about every 100 ms (send-log.ts): give the lines of
    // the window's last frames time to land.
    await sleep(1000);
    const sent = await fromSend(probeOut, probe, (source) => sendLogOf(logDir, source));
    if (sent.unmatched > 0.01 * probe.samples) console.warn(`${pmus} PMUs: ${sent.unmatched} of ${probe.samples} records have no frame in the send logs`);
    const missingFrames = delta(m0, m1, 'gridgate_c37118_missing_frames_total');
    const shedFrames = delta(m0, m1, 'gridgate_c37118_shed_frames_total');
    await gateway.stop(60_000);
    const verified = await verifyTopic(topics.pmuFrames, siteFile);

    const simulatorsCpu = s0.reduce((sum, a, i) => sum + (a && s1[i] ? cpuShare(a, s1[i]!) : 0), 0);
    const referenceTopic = await createTopic(`bench-e2e-reference-${pmus}`, 3);
    const c = await cDeliveryLatency({ bootstrap: BOOTSTRAP, topic: referenceTopic, perSecond: pmus * RATE, seconds: 6, valueBytes: probe.meanValueBytes });
    const run: Run = {
      pmus: perStream * STREAMS,
      analytics,
      encoding,
      framesPerSecond: RATE * STREAMS,
      latencyMs: { ...sent.toAck, count: probe.count },
      fromStampMs: sent.fromStamp,
      arrivalMs: sent.toRead,
      simulatorLatenessMs: sent.lateness,
      unmatched: sent.unmatched,
      reference: c ? { label: 'rdkafka_performance -l', latencyMs: { p50: percentile(c, 50), p99: percentile(c, 99), p999: percentile(c, 99.9) } } : undefined,
      meanValueBytes: probe.meanValueBytes,
      cpuShare: cpuShare(g0, g1),
      cpuMainThreadShare: mainThreadCpuShare(g0, g1),
      simulatorsCpuShare: simulatorsCpu,
      brokerCpuShare: b0 && b1 ? cpuShare(b0, b1) : undefined,
      analyticsOutput: {
        records: deltaByLabel(m0, m1, 'gridgate_analytics_records_total', 'kind'),
        lateSamples: delta(m0, m1, 'gridgate_analytics_late_samples_total'),
        skippedSamples: delta(m0, m1, 'gridgate_analytics_skipped_samples_total'),
      },
      rssMaxMiB: Math.max(...samples.map((s) => s.rssBytes)) / 2 ** 20,
      rssEndMiB: g1.rssBytes / 2 ** 20,
      heapTotalMiB: m1.sum('nodejs_heap_size_total_bytes') / 2 ** 20,
      workerHeapTotalMiB: m1.sum('gridgate_analytics_worker_heap_size_total_bytes') / 2 ** 20,
      externalMiB: m1.sum('nodejs_external_memory_bytes') / 2 ** 20,
      recordsExpected: perStream * STREAMS * RATE * seconds,
      recordsAcknowledged: probe.count,
      missingFrames,
      shedFrames,
      verifyLost: verified.report.totals.lost,
      lost: missingFrames + shedFrames + verified.report.totals.lost,
    };
    console.log(JSON.stringify(run));
    return run;
  } catch (err) {
    kept = true;
    throw new Error(`${pmus} PMUs: ${(err as Error).message} (logs kept in ${logDir})`, { cause: err });
  } finally {
    await group.stopAll(15_000);
    if (!kept) await rm(dir, { recursive: true, force: true });
  }
}

async function watchLine(url: string, s: ProcSample | undefined): Promise<string> {
  const m = await scrape(url).catch(() => undefined);
  if (!m) return 'no metrics';
  const mib = (name: string): string => `${fmt(m.sum(name) / 2 ** 20)} MiB`;
  const state = [...m.byLabel('gridgate_kafka_delivery_state', 'state')].find(([, v]) => v === 1)?.[0];
  return `rss ${s ? fmt(s.rssBytes / 2 ** 20) : '?'} MiB heap ${mib('nodejs_heap_size_used_bytes')} workers' heaps ${mib('gridgate_analytics_worker_heap_size_used_bytes')} external ${mib('nodejs_external_memory_bytes')} · pipeline queued ${fmt(m.sum('gridgate_pipeline_queued_records'))} · analytics queued ${fmt(m.sum('gridgate_analytics_queued_samples'))} · in flight ${fmt(m.sum('gridgate_kafka_in_flight'))} · spool ${fmt(m.sum('gridgate_spool_records'))} (${state}) · acked ${fmt(m.sum('gridgate_kafka_acknowledged_total'))}`;
}

function delta(a: Scrape, b: Scrape, name: string): number {
  return b.sum(name) - a.sum(name);
}

function sendLogOf(logDir: string, source: string): string {
  return join(logDir, `send-${source}.log`);
}

/**
 * The probe's samples (e2e-probe.mjs): ack − time stamp for every acknowledged PMU record, and,
 * joined with the simulators' send logs by source and frame time, ack − send, read − send and the
 * simulator's lateness.
 */
async function fromSend(
  probeOut: string,
  probe: { samples: number; sources: string[] },
  sendLog: (source: string) => string,
): Promise<{ fromStamp: Latency & { max: number }; toAck: Latency & { max: number }; toRead: Latency & { max: number }; lateness: Latency & { max: number }; unmatched: number }> {
  const n = probe.samples;
  const bytes = await readFile(`${probeOut}.samples`);
  const column = <T>(make: (b: ArrayBuffer) => T, offset: number, size: number): T => make(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + n * size));
  const eventTimes = column((b) => new Float64Array(b), 0, 8);
  const toAckFromStamp = column((b) => new Float32Array(b), 8 * n, 4);
  const toReadFromStamp = column((b) => new Float32Array(b), 12 * n, 4);
  const sourceOf = column((b) => new Uint8Array(b), 16 * n, 1);
  const sent = await Promise.all(probe.sources.map(async (source) => parseSendLog(await readFile(sendLog(source), 'utf8'))));
  const toAck: number[] = [];
  const toRead: number[] = [];
  const lateness: number[] = [];
  for (let i = 0; i < n; i++) {
    const stampUs = eventTimes[i]!;
    const sendUs = sent[sourceOf[i]!]!.get(stampUs);
    if (sendUs === undefined) continue;
    const lateMs = (sendUs - stampUs) / 1000;
    toAck.push(toAckFromStamp[i]! - lateMs);
    toRead.push(toReadFromStamp[i]! - lateMs);
    lateness.push(lateMs);
  }
  const summary = (values: number[]): Latency & { max: number } => {
    const sorted = values.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted.at(-1) ?? Number.NaN };
  };
  return { fromStamp: summary([...toAckFromStamp]), toAck: summary(toAck), toRead: summary(toRead), lateness: summary(lateness), unmatched: n - toAck.length };
}

/** delta() per value of one label. */
function deltaByLabel(a: Scrape, b: Scrape, name: string, label: string): Record<string, number> {
  const before = a.byLabel(name, label);
  return Object.fromEntries([...b.byLabel(name, label)].map(([value, n]) => [value, n - (before.get(value) ?? 0)]));
}


function siteYaml(dir: string, topics: Record<string, string>, analytics: Run['analytics'], encoding: RecordEncoding): string {
  const sources = Array.from({ length: STREAMS }, (_, i) =>
    [
      `  - name: pmu-${i + 1}`,
      '    type: c37118',
      '    transport: tcp',
      `    address: 127.0.0.1:${FIRST_PORT + i}`,
      `    idcode: ${i + 1}`,
      '    analytics: { voltageBaseKv: 230, currentBaseA: 500 }',
    ].join('\n'),
  );
  return [
    'site: bench',
    'log: { level: warn }',
    `http: { host: 127.0.0.1, port: ${HTTP_PORT} }`,
    'kafka:',
    `  brokers: ["${BOOTSTRAP}"]`,
    `  encoding: ${encoding}`,
    '  missingTopics: create',
    '  newTopics: { partitions: 3, replicationFactor: 1 }',
    `  topics: ${JSON.stringify(topics)}`,
    'spool:',
    `  dir: ${dir}/state/spool`,
    '  maxBytes: 4294967296',
    '  capacityHours: 0.1',
    'state:',
    `  dir: ${dir}/state`,
    'sources:',
    ...sources,
    'analytics:',
    `  mode: ${analytics}`,
    '',
  ].join('\n');
}
