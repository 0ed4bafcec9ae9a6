// bench/opcua: OPC UA subscriptions of 1,000 and 10,000 monitored items, the gateway's OpcuaSource
// beside a bare node-opcua client (the reference) on the same server in the same run.
// - the server: `gridgate simulate opcua` from dist/ in a child process (its own event loop and
//   CPU; build first), N synthetic Double tags Sim.Tag00001… (ns=<its namespaceIndex>;s=Sim.TagNNNNN),
//   every value set every --update-ms (100) by one timer, stamped with that tick's Date.now() as
//   its sourceTimestamp: N × 10 values/s offered. Its PKI in a temp folder, its certificate copied
//   into each client's trusted/certs (nothing auto-accepted). One simulator per size;
// - the cases (--cases items@samplingMs,…; or --items × --sampling-ms): 1,000 and 10,000 items
//   sampled every 100 ms (the issue's), and 10,000 items with samplingInterval 0 (the server's
//   fastest, node-opcua reporting each change): the simulator keeps closer to the offered rate
//   that way, so the clients get a heavier load than at 100 ms;
// - each client in its own child process (this file, --role gateway|bare), one after the other,
//   so CPU, RSS and the event loop are that client's alone and neither inherits the other's heap:
//   A, the gateway: the real OpcuaSource (its session, subscription, clock watchdog item, records)
//     with one group, publishingIntervalMs --publishing-ms (100), the case's samplingIntervalMs,
//     queueSize 1, every tag an item by NodeId; `emit` counts the records and per record takes
//     sourceTimestamp → arrival (ingestTime − eventTime, the body's latencyUs) and sourceTimestamp
//     → the call of emit (the record handed to the pipeline: the source batches records to the
//     next turn of the event loop with setImmediate), and arrival → emit, the hand-over itself;
//   B, the reference: a bare node-opcua OPCUAClient with the source's client options (security,
//     session timeout, keep-alive), one ClientSubscription with the same requested publishing
//     interval, keep-alive and lifetime counts, monitorItems in chunks of 500 (as the source
//     creates them) with the same sampling, queue and timestamps; its 'changed' handler counts and
//     takes sourceTimestamp → arrival with the same clock (performance.timeOrigin + now, µs);
// - per client, after connect + subscribe (timed; the client certificate is created before the
//   clock starts) and --warmup seconds (3), for --seconds (10): good values/s against the offered
//   rate; the simulator's ticks that reached the client (distinct sourceTimestamps) and the gaps
//   between them (update-ms while its timer keeps time; a late timer gives longer gaps, a tick
//   that reached no item twice the interval), and how many of those ticks reached all N items;
//   latency p50/p99/p999/max from a fixed-size histogram (10 µs bins to 1 s, 1 ms to 60 s, exact
//   max; sourceTimestamps are whole ms);
//   the spread within a burst: a value's arrival − the first value of its burst (the values
//   handled in one turn of the event loop, i.e. one publish response: the work done for the
//   values before it), which unlike sourceTimestamp → arrival does not depend on the phases of
//   the server's sampling and publishing timers against the simulator's (set when the items and
//   the subscription are created, so they differ between the two clients by luck); values with
//   the Overflow bit; CPU of the client (process.cpuUsage; /proc as a check), of the simulator
//   and of every other process on the machine (/proc/<pid>/stat, /proc/stat), each a share of
//   one core; the client's RSS (max of a 1 s sample) and heap, event-loop delay
//   (monitorEventLoopDelay at 1 ms, the 1 ms subtracted) and utilisation. The bare client reports
//   the sampling interval the server granted (the source logs its publishing interval).
// A shortfall from the offered rate is then either the simulator's (its timer late: longer gaps,
// each tick still reaching every item) or values lost on the way (ticks reaching fewer items).
// Not pinned; the core count is printed. Nothing is asserted. About 2 minutes with the defaults.
//   npm run bench:opcua [-- --cases 1000@100,10000@100,10000@0 --seconds N --warmup N --publishing-ms 100 --update-ms 100 --security SignAndEncrypt|Sign|None]
//   (--items 1000,10000 --sampling-ms 100 instead of --cases: every pair)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SourceRecord } from '../src/pipeline/record.js';
import type { OpcuaSourceConfig, SecurityModeName } from '../src/protocols/opcua/config.js';
import { fmt, machine, writeResults } from './lib/report.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string' },
    items: { type: 'string' },
    'sampling-ms': { type: 'string' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'publishing-ms': { type: 'string', default: '100' },
    'update-ms': { type: 'string', default: '100' },
    security: { type: 'string', default: 'SignAndEncrypt' },
    // Internal: this file run as one client (a child process of the bench).
    role: { type: 'string' },
    endpoint: { type: 'string' },
    ns: { type: 'string' },
    pki: { type: 'string' },
  },
});
/** One row pair of the table: N items sampled every samplingMs (0: the server's fastest, on change where it can). */
interface Case {
  items: number;
  samplingMs: number;
}
const list = (text: string): number[] => text.split(',').map(Number);
/**
 * --cases 1000@100,10000@0 as given; else --items × --sampling-ms; else the defaults: the issue's
 * 10,000 items at 100 ms, 1,000 at 100 ms, and 10,000 at 0 ms, which shows what the clients do
 * with the rate the simulator cannot produce under 10,000 sampling timers.
 */
const CASES: Case[] = values.cases
  ? values.cases.split(',').map((c) => ({ items: Number(c.split('@')[0]), samplingMs: Number(c.split('@')[1] ?? 100) }))
  : values.items || values['sampling-ms']
    ? list(values.items ?? '1000,10000').flatMap((items) => list(values['sampling-ms'] ?? '100').map((samplingMs) => ({ items, samplingMs })))
    : [
        { items: 1000, samplingMs: 100 },
        { items: 10_000, samplingMs: 100 },
        { items: 10_000, samplingMs: 0 },
      ];
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const PUBLISHING_MS = Number(values['publishing-ms']);
const UPDATE_MS = Number(values['update-ms']);
const SECURITY = values.security as SecurityModeName;
if (!['None', 'Sign', 'SignAndEncrypt'].includes(SECURITY)) throw new Error(`--security must be None, Sign or SignAndEncrypt (got ${SECURITY})`);
if (CASES.some((c) => !Number.isInteger(c.items) || c.items < 1 || c.items > 100_000)) throw new Error('--items: sizes from 1 to 100,000');
if (CASES.some((c) => !(c.samplingMs >= 0))) throw new Error('--sampling-ms: intervals ≥ 0 ms');
const POLICY = SECURITY === 'None' ? 'None' : 'Basic256Sha256';
const SIMULATOR = 'dist/src/main.js';
const SELF = fileURLToPath(import.meta.url);
/** The source's defaults that shape its subscription (config.ts), used by both clients. */
const SESSION_TIMEOUT_MS = 60_000;
const WATCHDOG_MS = 10_000;
const CHUNK = 500;

type Role = 'gateway' | 'bare';

interface Quantiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** What a client child reports when its measured span ends. */
interface ClientResult {
  role: Role;
  items: number;
  samplingMs: number;
  /** connect + session + subscription + all monitored items, ms (the certificate already exists). */
  subscribeMs: number;
  refused: number;
  revisedPublishingMs: number[];
  /** Bare client only (the source keeps its monitored items private). */
  revisedSamplingMs: { min: number; max: number } | null;
  seconds: number;
  values: number;
  good: number;
  overflows: number;
  /** Distinct sourceTimestamps seen: simulator ticks that reached this client. */
  ticks: number;
  arrivalMs: Quantiles;
  /** Value arrival − the first value of its publish response: the client's own dispatch, free of the server's phases. */
  inResponseMs: Quantiles;
  /** Publish responses with values (bursts of 'changed'). */
  responses: number;
  /** Gateway only: sourceTimestamp → emit called, and arrival → emit called. */
  handedMs: Quantiles | null;
  handoverMs: Quantiles | null;
  /** Between consecutive ticks seen (~update-ms when the simulator's timer keeps time, 2 × when a tick reached no item). */
  tickGapMs: { p50: number; p99: number };
  /** Ticks seen inside the span (its first and last aside: the edges cut them), how many of them reached every item, and the fewest values one brought. */
  tickValues: { interior: number; complete: number; fewest: number };
  negativeLatencies: number;
  /** Gateway only: emit calls. */
  emits: number;
  cpu: number;
  /** Of it, the main thread's (the rest: GC helpers, libuv's pool). */
  mainThreadCpu: number;
  elu: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rssStartMiB: number;
  rssMaxMiB: number;
  heapUsedMaxMiB: number;
  /** Gateway only: its counters over the span, and its warnings. */
  counters: Record<string, number>;
  warnings: string[];
}

type Message = { phase: 'subscribed'; ms: number } | { phase: 'measuring' } | { phase: 'done'; result: ClientResult } | { phase: 'failed'; error: string };

/** Latencies in µs in fixed memory (the same in both clients): 10 µs bins to 1 s, 1 ms bins to 60 s, the exact max. */
class Latency {
  static readonly FINE = 100_000;
  static readonly COARSE = 59_000;
  readonly #bins = new Uint32Array(Latency.FINE + Latency.COARSE + 1);
  count = 0;
  max = 0;
  negative = 0;

  record(us: number): void {
    if (us < 0) {
      this.negative++;
      us = 0;
    }
    this.count++;
    if (us > this.max) this.max = us;
    this.#bins[us < 1e6 ? Math.floor(us / 10) : Math.min(Latency.FINE + Math.floor((us - 1e6) / 1000), Latency.FINE + Latency.COARSE)]!++;
  }

  /** The upper edge of the bin holding the q-th value, ms. */
  #quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.min(this.count - 1, Math.floor(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.#bins.length; i++) {
      seen += this.#bins[i]!;
      if (seen > rank) return Math.min(this.max, i < Latency.FINE ? (i + 1) * 10 : 1e6 + (i - Latency.FINE + 1) * 1000) / 1000;
    }
    return this.max / 1000;
  }

  quantiles(): Quantiles {
    return { count: this.count, p50: this.#quantile(0.5), p99: this.#quantile(0.99), p999: this.#quantile(0.999), max: this.count === 0 ? Number.NaN : this.max / 1000 };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const wallUs = (): number => (performance.timeOrigin + performance.now()) * 1000;
const mib = (bytes: number): number => bytes / 2 ** 20;
const keepAliveMs = Math.min(5000, Math.max(1000, Math.floor(WATCHDOG_MS / 3)));

// ---------------------------------------------------------------------------------------------
// One client, in a child process: subscribe, warm up, measure, report over IPC, exit.

async function client(role: Role): Promise<void> {
  const send = (m: Message): void => void process.send!(m);
  // A hung server or client must not hold the bench: a hard limit on this process.
  setTimeout(() => {
    send({ phase: 'failed', error: `no result within ${WARMUP + SECONDS + 90} s` });
    process.exit(2);
  }, (WARMUP + SECONDS + 90) * 1000).unref();
  try {
    const { items: n, samplingMs } = CASES[0]!;
    const ns = Number(values.ns);
    const { syntheticTagName } = await import('../src/protocols/opcua/simulator/tags.js');
    const nodes = Array.from({ length: n }, (_, i) => ({ name: syntheticTagName(i + 1, n), nodeId: `ns=${ns};s=${syntheticTagName(i + 1, n)}` }));
    const run = role === 'gateway' ? await gateway(values.endpoint!, values.pki!, nodes, samplingMs) : await bare(values.endpoint!, values.pki!, nodes, samplingMs);
    send({ phase: 'subscribed', ms: run.subscribeMs });
    await sleep(WARMUP * 1000);

    const m = run.meter;
    const eld = monitorEventLoopDelay({ resolution: 1 });
    let rssMax = process.memoryUsage.rss();
    let heapMax = process.memoryUsage().heapUsed;
    const rssStart = rssMax;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    }, 1000);
    const counters0 = await run.counters();
    send({ phase: 'measuring' });
    const cpu0 = process.cpuUsage();
    const main0 = await cpuSeconds(process.pid, process.pid);
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    eld.enable();
    m.measuring = true;
    await sleep(SECONDS * 1000);
    m.measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    eld.disable();
    const cpu = process.cpuUsage(cpu0);
    const main1 = await cpuSeconds(process.pid, process.pid);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    clearInterval(sampler);
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    const counters1 = await run.counters();
    const eldMs = (x: number): number => Math.max(0, x / 1e6 - 1);
    const result: ClientResult = {
      role,
      items: n,
      samplingMs,
      subscribeMs: run.subscribeMs,
      refused: run.refused,
      revisedPublishingMs: run.revisedPublishingMs(),
      revisedSamplingMs: run.revisedSamplingMs,
      seconds,
      values: m.values,
      good: m.good,
      overflows: m.overflows,
      arrivalMs: m.arrival.quantiles(),
      inResponseMs: m.inResponse.quantiles(),
      responses: m.responses,
      handedMs: role === 'gateway' ? m.handed.quantiles() : null,
      handoverMs: role === 'gateway' ? m.handover.quantiles() : null,
      ...tickSummary(m, n),
      negativeLatencies: m.arrival.negative + m.handed.negative,
      emits: m.emits,
      cpu: (cpu.user + cpu.system) / 1e6 / seconds,
      mainThreadCpu: (main1 - main0) / seconds,
      elu,
      eventLoopDelayMs: { p50: eldMs(eld.percentile(50)), p99: eldMs(eld.percentile(99)), max: eldMs(eld.max) },
      rssStartMiB: mib(rssStart),
      rssMaxMiB: mib(rssMax),
      heapUsedMaxMiB: mib(heapMax),
      counters: Object.fromEntries(Object.entries(counters1).map(([k, v]) => [k, v - (counters0[k] ?? 0)])),
      warnings: run.warnings,
    };
    send({ phase: 'done', result });
    await Promise.race([run.close(), sleep(10_000)]);
    process.exit(0);
  } catch (err) {
    send({ phase: 'failed', error: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
}

/** Counts and latencies, touched per value; `measuring` gates them to the span. */
interface Meter {
  measuring: boolean;
  values: number;
  good: number;
  overflows: number;
  emits: number;
  /** Values seen per tick (sourceTimestamp, µs); bounded. */
  ticks: Map<number, number>;
  lastTick: number;
  lastCount: number;
  arrival: Latency;
  handed: Latency;
  /** Gateway: a record's arrival → the call of emit that handed it over. */
  handover: Latency;
  /** A value's arrival − the first value of the same publish response (one synchronous burst). */
  inResponse: Latency;
  responses: number;
}

const newMeter = (): Meter => ({ measuring: false, values: 0, good: 0, overflows: 0, emits: 0, ticks: new Map(), lastTick: -1, lastCount: 0, arrival: new Latency(), handed: new Latency(), handover: new Latency(), inResponse: new Latency(), responses: 0 });

/** A value of a tick (its sourceTimestamp), counted in both clients the same way: a tick's values mostly come in a row. */
function tick(m: Meter, eventUs: number): void {
  if (eventUs === m.lastTick) {
    m.lastCount++;
    return;
  }
  flushTick(m);
  m.lastTick = eventUs;
  m.lastCount = 1;
}

function flushTick(m: Meter): void {
  if (m.lastCount === 0) return;
  const seen = m.ticks.get(m.lastTick);
  if (seen !== undefined || m.ticks.size < 100_000) m.ticks.set(m.lastTick, (seen ?? 0) + m.lastCount);
  m.lastCount = 0;
}

function tickSummary(m: Meter, items: number): Pick<ClientResult, 'ticks' | 'tickGapMs' | 'tickValues'> {
  flushTick(m);
  const t = [...m.ticks.keys()].sort((a, b) => a - b);
  const gaps = t.slice(1).map((x, i) => (x - t[i]!) / 1000).sort((a, b) => a - b);
  const at = (q: number): number => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? Number.NaN;
  const interior = t.slice(1, -1).map((k) => m.ticks.get(k)!);
  return {
    ticks: t.length,
    tickGapMs: { p50: at(0.5), p99: at(0.99) },
    tickValues: { interior: interior.length, complete: interior.filter((v) => v >= items).length, fewest: interior.length === 0 ? Number.NaN : Math.min(...interior) },
  };
}

interface Running {
  meter: Meter;
  subscribeMs: number;
  refused: number;
  revisedPublishingMs(): number[];
  revisedSamplingMs: { min: number; max: number } | null;
  counters(): Promise<Record<string, number>>;
  warnings: string[];
  close(): Promise<void>;
}

/** The source's counters worth reading over the span (metrics.ts), without the gridgate_opcua_ prefix. */
const COUNTERS = ['notifications_total', 'queue_overflows_total', 'updates_lost_estimated_total', 'reconnects_total', 'session_restarts_total', 'watchdog_trips_total'];

/** A: the real OpcuaSource, records counted in its emit. */
async function gateway(endpoint: string, pki: string, nodes: { name: string; nodeId: string }[], samplingMs: number): Promise<Running> {
  const { default: pino } = await import('pino');
  const { Registry } = await import('prom-client');
  const { Value } = await import('@sinclair/typebox/value');
  const { OpcuaSourceSchema } = await import('../src/protocols/opcua/config.js');
  const { OpcuaSource } = await import('../src/protocols/opcua/source.js');
  const { Deadline } = await import('../src/daemon/component.js');
  const { nowUs } = await import('../src/pipeline/record.js');
  const config = Value.Default(OpcuaSourceSchema, {
    name: 'bench',
    type: 'opcua',
    endpoint,
    securityMode: SECURITY,
    securityPolicy: POLICY,
    pki,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    watchdogMs: WATCHDOG_MS,
    groups: { fast: { publishingIntervalMs: PUBLISHING_MS, samplingIntervalMs: samplingMs, queueSize: 1 } },
    items: nodes.map((x) => ({ name: x.name, nodeId: x.nodeId, group: 'fast' })),
  }) as OpcuaSourceConfig;
  await ensureCertificate(config);

  const meter = newMeter();
  const warnings: string[] = [];
  let revised: number[] = [];
  const log = pino({ level: 'info' }, {
    write(line: string) {
      const o = JSON.parse(line) as { level: number; msg: string; subscriptions?: number[] };
      // The session-open line carries the publishing intervals the server granted.
      if (Array.isArray(o.subscriptions)) revised = o.subscriptions;
      if (o.level >= 40 && warnings.length < 20) warnings.push(line.trim().slice(0, 400));
    },
  });
  const registry = new Registry();
  const source = new OpcuaSource(config, {
    log,
    registry,
    emit: (records: SourceRecord[]) => {
      if (!meter.measuring) return true;
      const now = nowUs();
      meter.emits++;
      // The source emits once per turn of the event loop: one publish response's values.
      const first = records[0]!.ingestTimeUs;
      meter.responses++;
      for (const r of records) {
        meter.values++;
        if (r.quality === 0) meter.good++;
        const o = r.body.opcua as { statusCode: number; timeSource: string } | null;
        if (o?.timeSource !== 'source') continue;
        if (((o.statusCode >>> 0) & 0x0c80) === 0x0480) meter.overflows++;
        tick(meter, r.eventTimeUs);
        meter.arrival.record(r.ingestTimeUs - r.eventTimeUs);
        meter.handed.record(now - r.eventTimeUs);
        meter.handover.record(now - r.ingestTimeUs);
        meter.inResponse.record(r.ingestTimeUs - first);
      }
      return true;
    },
    onResume: () => () => undefined,
  });
  await import('node-opcua'); // loaded before the clock starts (start() imports it)
  const t0 = performance.now();
  await source.start();
  // Ready once the session is open and every subscription and item created.
  while (!source.readiness().ready) {
    if (performance.now() - t0 > 60_000) throw new Error(`the source did not open its session within 60 s: ${source.readiness().detail ?? ''}`);
    await sleep(10);
  }
  const subscribeMs = performance.now() - t0;
  const counters = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const name of COUNTERS) {
      const metric = registry.getSingleMetric(`gridgate_opcua_${name}`);
      if (!metric) continue;
      for (const v of (await metric.get()).values) {
        const key = v.labels.reason ? `${name}{${String(v.labels.reason)}}` : name;
        out[key] = (out[key] ?? 0) + v.value;
      }
    }
    return out;
  };
  return {
    meter,
    subscribeMs,
    refused: source.refusedItems(),
    revisedPublishingMs: () => revised,
    revisedSamplingMs: null,
    counters,
    warnings,
    close: () => source.stop(new Deadline(8000)),
  };
}

/** The client certificate, created before any clock starts: the source's own client factory, same application URI. */
async function ensureCertificate(config: OpcuaSourceConfig): Promise<void> {
  const { openPki } = await import('../src/protocols/opcua/pki.js');
  const { createClient } = await import('../src/protocols/opcua/session.js');
  const pki = await openPki(config.pki!);
  try {
    await createClient(config, pki).createDefaultCertificate();
  } finally {
    await pki.dispose();
  }
}

/** B: node-opcua alone, the source's client options and subscription parameters, 'changed' counted. */
async function bare(endpoint: string, pkiDir: string, nodes: { name: string; nodeId: string }[], samplingMs: number): Promise<Running> {
  const ua = await import('node-opcua');
  const { AttributeIds, MessageSecurityMode, OPCUAClient, OPCUACertificateManager, SecurityPolicy, TimestampsToReturn } = ua;
  const pki = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false });
  await pki.initialize();
  const opcua = OPCUAClient.create({
    applicationName: 'gridgate-bare',
    clientCertificateManager: pki,
    securityMode: MessageSecurityMode[SECURITY],
    securityPolicy: SecurityPolicy[POLICY],
    endpointMustExist: false,
    keepSessionAlive: true,
    requestedSessionTimeout: SESSION_TIMEOUT_MS,
    defaultTransactionTimeout: 10_000,
    connectionStrategy: { initialDelay: 100, maxDelay: 1000, maxRetry: 1 },
  });
  await opcua.createDefaultCertificate();
  const meter = newMeter();
  const t0 = performance.now();
  await opcua.connect(endpoint);
  const session = await opcua.createSession();
  // The source's subscription request (subscription.ts), item for item.
  const keepAliveCount = Math.max(1, Math.min(65_535, Math.floor(keepAliveMs / PUBLISHING_MS)));
  const subscription = await session.createSubscription2({
    requestedPublishingInterval: PUBLISHING_MS,
    requestedMaxKeepAliveCount: keepAliveCount,
    requestedLifetimeCount: Math.min(4_000_000, Math.max(3 * keepAliveCount, Math.ceil(SESSION_TIMEOUT_MS / PUBLISHING_MS))),
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 1,
  });
  // One publish response's values arrive in one synchronous burst: its first value and the turn it ends with.
  let first = -1;
  const endBurst = (): void => {
    first = -1;
  };
  let refused = 0;
  let minSampling = Infinity;
  let maxSampling = -Infinity;
  for (let i = 0; i < nodes.length; i += CHUNK) {
    const chunk = nodes.slice(i, i + CHUNK);
    const group = await subscription.monitorItems(
      chunk.map((x) => ({ nodeId: x.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: samplingMs, queueSize: 1, discardOldest: true },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_mi, dv) => {
      if (!meter.measuring) return;
      const arrived = wallUs();
      if (first < 0) {
        first = arrived;
        meter.responses++;
        setImmediate(endBurst);
      }
      meter.inResponse.record(arrived - first);
      meter.values++;
      const code = dv.statusCode.value >>> 0;
      if (code >>> 30 === 0) meter.good++;
      if ((code & 0x0c80) === 0x0480) meter.overflows++;
      const source = dv.sourceTimestamp;
      if (!source) return;
      // As the source takes it (values.ts): ms since the epoch plus the picoseconds, in µs.
      const eventUs = source.getTime() * 1000 + Math.floor((dv.sourcePicoseconds ?? 0) / 1e6);
      tick(meter, eventUs);
      meter.arrival.record(arrived - eventUs);
    });
    for (const mi of group.monitoredItems) {
      if (!mi.statusCode.isGood()) refused++;
      const s = mi.result?.revisedSamplingInterval;
      if (s !== undefined) {
        minSampling = Math.min(minSampling, s);
        maxSampling = Math.max(maxSampling, s);
      }
    }
  }
  const subscribeMs = performance.now() - t0;
  return {
    meter,
    subscribeMs,
    refused,
    revisedPublishingMs: () => [subscription.publishingInterval],
    revisedSamplingMs: Number.isFinite(minSampling) ? { min: minSampling, max: maxSampling } : null,
    counters: async () => ({}),
    warnings: [],
    async close() {
      await subscription.terminate().catch(() => undefined);
      await session.close().catch(() => undefined);
      await opcua.disconnect().catch(() => undefined);
      await pki.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The orchestrator: simulators and clients as child processes, the table.

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) of a process, or of one of its threads, from /proc (NaN elsewhere). */
async function cpuSeconds(pid: number, thread?: number): Promise<number> {
  try {
    const stat = await readFile(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds all processes spent busy (not idle or waiting for I/O), from /proc/stat (NaN elsewhere). */
async function machineCpuSeconds(): Promise<number> {
  try {
    const fields = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/u).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return (total - fields[3]! - fields[4]!) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Resident set of a process, MiB, from /proc (NaN elsewhere). */
async function rssMiB(pid: number): Promise<number> {
  try {
    const m = /^VmRSS:\s+(\d+) kB/mu.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Children still running, killed on the way out whatever happens. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

interface Simulator {
  pid: number;
  endpoint: string;
  namespaceIndex: number;
  certificateFile: string;
  startMs: number;
  close(): Promise<string>;
}

async function startSimulator(dir: string, tags: number): Promise<Simulator> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [SIMULATOR, 'simulate', 'opcua', '--listen', '127.0.0.1:0', '--pki', path.join(dir, 'server-pki'), '--tags', String(tags), '--update-ms', String(UPDATE_MS), '--security', SECURITY === 'None' ? 'all' : 'secure', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
    exited.then((code) => Promise.reject(new Error(`the simulator exited (${code}) before serving: ${stderr}`))),
    sleep(60_000).then(() => Promise.reject(new Error(`the simulator did not serve within 60 s: ${stderr}`))),
  ]);
  const status = JSON.parse(line) as { endpoint: string; namespaceIndex: number; certificateFile: string; tags: number };
  return {
    pid: child.pid!,
    endpoint: status.endpoint,
    namespaceIndex: status.namespaceIndex,
    certificateFile: status.certificateFile,
    startMs: performance.now() - t0,
    async close() {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') child.kill('SIGKILL');
      else if (code !== 0) throw new Error(`the simulator exited with ${code}: ${stderr}`);
      return stderr.trim();
    },
  };
}

interface Row {
  client: ClientResult;
  /** The simulator over the client's measured span. */
  simulatorCpu: number;
  simulatorRssMaxMiB: number;
  /** The client process's CPU over the span as /proc saw it (a check on process.cpuUsage). */
  clientCpuProc: number;
  /** Every other process on the machine over the span (other work sharing the cores), a share of one core. */
  othersCpu: number;
  output: string;
}

interface Result {
  case: Case;
  simulatorStartMs: number;
  /** The simulator's CPU over half a second before each client started (no client connected). */
  simulatorIdleCpu: Partial<Record<Role, number>>;
  gateway: Row;
  bare: Row;
}

async function runClient(role: Role, sim: Simulator, c: Case, pki: string): Promise<Row> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SELF,
      '--role',
      role,
      '--endpoint',
      sim.endpoint,
      '--ns',
      String(sim.namespaceIndex),
      '--pki',
      pki,
      '--items',
      String(c.items),
      '--seconds',
      String(SECONDS),
      '--warmup',
      String(WARMUP),
      '--sampling-ms',
      String(c.samplingMs),
      '--publishing-ms',
      String(PUBLISHING_MS),
      '--update-ms',
      String(UPDATE_MS),
      '--security',
      SECURITY,
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  children.add(child);
  let output = '';
  const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  let simCpu0 = Number.NaN;
  let clientCpu0 = Number.NaN;
  let machineCpu0 = Number.NaN;
  let t0 = 0;
  let simRssMax = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const done = await new Promise<Row>((resolve, reject) => {
      child.on('message', (m: Message) => {
        if (m.phase === 'subscribed') console.log(`    ${role}: ${fmt(c.items)} items subscribed in ${fmt(m.ms)} ms; warming up ${WARMUP} s`);
        else if (m.phase === 'measuring') {
          t0 = performance.now();
          void Promise.all([cpuSeconds(sim.pid), cpuSeconds(child.pid!), machineCpuSeconds()]).then(([s, c, all]) => ((simCpu0 = s), (clientCpu0 = c), (machineCpu0 = all)));
          sampler = setInterval(() => void rssMiB(sim.pid).then((r) => (simRssMax = Math.max(simRssMax, r))), 1000);
        } else if (m.phase === 'done') {
          const wall = (performance.now() - t0) / 1000;
          clearInterval(sampler);
          void Promise.all([cpuSeconds(sim.pid), cpuSeconds(child.pid!), machineCpuSeconds(), rssMiB(sim.pid)]).then(([s, c, all, r]) =>
            resolve({
              client: m.result,
              simulatorCpu: (s - simCpu0) / wall,
              clientCpuProc: (c - clientCpu0) / wall,
              // Reads a few ms apart: a small negative remainder is skew, not work.
              othersCpu: Math.max(0, (all - machineCpu0 - (s - simCpu0) - (c - clientCpu0)) / wall),
              simulatorRssMaxMiB: Math.max(simRssMax, r),
              output,
            }),
          );
        } else reject(new Error(`${role} client failed: ${m.error}\n${output}`));
      });
      void exited.then((code) => reject(new Error(`${role} client exited (${code}) without a result:\n${output}`)));
    });
    const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') child.kill('SIGKILL');
    done.output = output;
    return done;
  } finally {
    clearInterval(sampler);
    if (children.has(child)) child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  const host = machine();
  const offered = (n: number): number => (n * 1000) / UPDATE_MS;
  const security = `${SECURITY}${SECURITY === 'None' ? '' : ` ${POLICY}`}`;
  console.log(
    `OPC UA subscriptions: ${CASES.map((c) => `${fmt(c.items)} items @ ${c.samplingMs} ms sampling`).join(', ')}; publishing ${PUBLISHING_MS} ms, queueSize 1, updates every ${UPDATE_MS} ms, ` +
      `${security}; ${WARMUP} s warm-up + ${SECONDS} s per client; ${host}, not pinned`,
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gridgate-bench-opcua-'));
  const pkis: Record<Role, string> = { gateway: path.join(dir, 'gateway-pki'), bare: path.join(dir, 'bare-pki') };
  const rows: Result[] = [];
  try {
    // One simulator per size; the cases of that size run against it in turn.
    for (const items of [...new Set(CASES.map((c) => c.items))]) {
      const sim = await startSimulator(dir, items);
      console.log(`  ${fmt(items)} tags: simulator pid ${sim.pid} serving ${sim.endpoint} after ${fmt(sim.startMs)} ms (ns=${sim.namespaceIndex})`);
      await sleep(1000); // it is still settling when it prints its status line
      try {
        for (const pki of Object.values(pkis)) {
          await mkdir(path.join(pki, 'trusted', 'certs'), { recursive: true });
          await copyFile(sim.certificateFile, path.join(pki, 'trusted', 'certs', path.basename(sim.certificateFile)));
        }
        for (const c of CASES.filter((x) => x.items === items)) {
          console.log(`  ${fmt(c.items)} items, sampling ${c.samplingMs} ms`);
          const result: Partial<Result> = { case: c, simulatorStartMs: sim.startMs, simulatorIdleCpu: {} };
          for (const role of ['gateway', 'bare'] as const) {
            // The simulator with no client: a session a client failed to close would still be sampling.
            const idle0 = await cpuSeconds(sim.pid);
            await sleep(500);
            result.simulatorIdleCpu![role] = ((await cpuSeconds(sim.pid)) - idle0) / 0.5;
            result[role] = await runClient(role, sim, c, pkis[role]);
            print(result[role], c, result.simulatorIdleCpu![role]);
          }
          rows.push(result as Result);
        }
      } finally {
        const stderr = await sim.close();
        if (stderr !== '') console.log(`  simulator stderr: ${stderr.slice(0, 2000)}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  function print(r: Row, k: Case, idle: number): void {
    const c = r.client;
    console.log(
      `    ${c.role}: ${fmt(c.good / c.seconds)} good values/s of ${fmt(offered(k.items))} offered (${fmt((100 * c.good) / c.seconds / offered(k.items), 1)}%), ${fmt(c.ticks / c.seconds, 2)} simulator ticks/s seen (gaps p50 / p99 ${fmt(c.tickGapMs.p50)} / ${fmt(c.tickGapMs.p99)} ms; ${fmt(c.tickValues.complete)} of ${fmt(c.tickValues.interior)} reached every item, the fewest values ${fmt(c.tickValues.fewest)}); ` +
        `sourceTimestamp → arrival p50/p99/p999/max ${q(c.arrivalMs)} ms${c.handedMs ? `, → emit ${q(c.handedMs)} ms (arrival → emit ${q(c.handoverMs!)} ms)` : ''}; spread within a burst ${q(c.inResponseMs)} ms, ${fmt(c.values / Math.max(1, c.responses))} values per burst; ` +
        `CPU client ${pct(c.cpu)} (/proc ${pct(r.clientCpuProc)}; main thread ${pct(c.mainThreadCpu)}), ELU ${pct(c.elu)}, event-loop delay p99/max ${fmt(c.eventLoopDelayMs.p99, 2)} / ${fmt(c.eventLoopDelayMs.max, 1)} ms, ` +
        `RSS ${fmt(c.rssStartMiB)} → max ${fmt(c.rssMaxMiB)} MiB (heap used max ${fmt(c.heapUsedMaxMiB)} MiB); ` +
        `simulator CPU ${pct(r.simulatorCpu)} (idle before: ${pct(idle)}), other processes ${pct(r.othersCpu)}, RSS ${fmt(r.simulatorRssMaxMiB)} MiB; overflows ${fmt(c.overflows)}, refused ${c.refused}, negative latencies ${c.negativeLatencies}` +
        `${c.revisedSamplingMs ? `, revised sampling ${c.revisedSamplingMs.min}–${c.revisedSamplingMs.max} ms` : ''}, revised publishing ${c.revisedPublishingMs.join(', ')} ms`,
    );
    const counters = Object.entries(c.counters).filter(([k, v]) => v > 0 && !/notifications_total/u.test(k));
    if (counters.length > 0) console.log(`      counters: ${counters.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const w of c.warnings) console.log(`      warning: ${w}`);
  }

  // -------------------------------------------------------------------------------------------
  // The side-by-side table

  const granted = (r: Result): string => {
    const s = r.bare.client.revisedSamplingMs;
    return s && (s.min !== r.case.samplingMs || s.max !== r.case.samplingMs) ? ` (granted ${s.min === s.max ? s.min : `${s.min}–${s.max}`} ms)` : '';
  };
  const head =
    '| items, sampling | client | connect + subscribe | good values/s (of offered) | simulator ticks/s seen (gap between ticks p50) | sourceTimestamp → arrival p50 / p99 / p999 / max | → handed to the pipeline p50 / p99 / p999 / max | spread within a burst p50 / p99 / p999 / max (values per burst) | CPU client, all threads / main thread (all per 1,000 values/s) | client ELU / event-loop delay p99 | client RSS max (heap used max) | CPU simulator / other processes |';
  const rule = '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
  const line = (r: Result, role: Role): string => {
    const c = r[role].client;
    const rate = c.good / c.seconds;
    return (
      `| ${fmt(r.case.items)}, ${r.case.samplingMs} ms${granted(r)} | ${role === 'gateway' ? 'gateway (OpcuaSource)' : 'reference: bare node-opcua client'} | ${fmt(c.subscribeMs)} ms | ` +
      `${fmt(rate)} (${fmt((100 * rate) / offered(r.case.items), 1)}%) | ${fmt(c.ticks / c.seconds, 2)} (${fmt(c.tickGapMs.p50)} ms) | ${q(c.arrivalMs)} ms | ${c.handedMs ? `${q(c.handedMs)} ms` : ''} | ` +
      `${q(c.inResponseMs)} ms (${fmt(c.values / Math.max(1, c.responses))}) | ${pct(c.cpu)} / ${pct(c.mainThreadCpu)} (${pct(c.cpu / (rate / 1000), 2)}) | ${pct(c.elu)} / ${fmt(c.eventLoopDelayMs.p99, 2)} ms | ` +
      `${fmt(c.rssMaxMiB)} MiB (${fmt(c.heapUsedMaxMiB)} MiB) | ${pct(r[role].simulatorCpu)} / ${pct(r[role].othersCpu)} |`
    );
  };
  const table = rows.flatMap((r) => [line(r, 'gateway'), line(r, 'bare')]);
  console.log(`\n${head}\n${rule}\n${table.join('\n')}`);

  const notes: string[] = [];
  for (const r of rows) {
    const g = r.gateway.client;
    const b = r.bare.client;
    const gRate = g.good / g.seconds;
    const bRate = b.good / b.seconds;
    const ticks = (c: ClientResult): string => fmt(c.ticks / c.seconds, 1);
    const bound = (cpu: number, elu: number | null): boolean => cpu >= 0.9 || (elu ?? 0) >= 0.9;
    const who = [
      bound(r.gateway.simulatorCpu, null) || bound(r.bare.simulatorCpu, null) ? `the simulator is CPU-bound (${pct(r.gateway.simulatorCpu)} / ${pct(r.bare.simulatorCpu)} of a core: one event loop)` : '',
      bound(g.cpu, g.elu) ? `the gateway is CPU-bound (${pct(g.cpu)}, event loop ${pct(g.elu)} busy)` : '',
      bound(b.cpu, b.elu) ? `the bare client is CPU-bound (${pct(b.cpu)}, event loop ${pct(b.elu)} busy)` : '',
    ].filter((x) => x !== '');
    const reached = (c: ClientResult): string => `${fmt(c.tickValues.complete)} of ${fmt(c.tickValues.interior)}`;
    const complete = [g, b].every((c) => c.tickValues.complete === c.tickValues.interior);
    const fewest = Math.min(g.tickValues.fewest, b.tickValues.fewest);
    notes.push(
      `${fmt(r.case.items)} items, sampling ${r.case.samplingMs} ms${granted(r)}: offered ${fmt(offered(r.case.items))} values/s; the simulator's ${UPDATE_MS} ms timer ticked ${ticks(g)} / ${ticks(b)} times a second ` +
        `(gaps p50 ${fmt(g.tickGapMs.p50)} / ${fmt(b.tickGapMs.p50)} ms) during the gateway's / the bare client's run, and ${reached(g)} / ${reached(b)} of the ticks seen (the span's first and last aside) reached all ${fmt(r.case.items)} items: ` +
        (complete
          ? `so the shortfall from the offered rate is the simulator's timer running every ~${fmt(Math.max(g.tickGapMs.p50, b.tickGapMs.p50))} ms, not values lost on the way; `
          : `the others arrived short (the fewest values one tick brought: ${fmt(fewest)}), superseded in the server's queue of 1 by the next tick or dropped by the server (no Overflow bit is set with queueSize 1, so the bench cannot tell which); `) +
        `${who.length > 0 ? who.join('; ') : `nothing CPU-bound (simulator ${pct(r.gateway.simulatorCpu)} / ${pct(r.bare.simulatorCpu)}, clients ${pct(g.cpu)} / ${pct(b.cpu)} of a core)`}. ` +
        `Gateway ÷ bare client: values/s × ${fmt(gRate / bRate, 2)}; CPU per 1,000 values/s × ${fmt(g.cpu / gRate / (b.cpu / bRate), 2)} (${pct(g.cpu / (gRate / 1000), 2)} against ${pct(b.cpu / (bRate / 1000), 2)} of a core; main thread alone × ${fmt(g.mainThreadCpu / gRate / (b.mainThreadCpu / bRate), 2)}); ` +
        `spread within a burst p99 ${fmt(g.inResponseMs.p99, 2)} against ${fmt(b.inResponseMs.p99, 2)} ms; event-loop delay p99 ${fmt(g.eventLoopDelayMs.p99, 2)} against ${fmt(b.eventLoopDelayMs.p99, 2)} ms` +
        (g.handoverMs ? `; the hand-over to the pipeline (arrival → emit: the record built, then the rest of the burst, batched to the next turn) p50 ${fmt(g.handoverMs.p50, 2)} ms, p99 ${fmt(g.handoverMs.p99, 2)} ms` : '') +
        `; RSS max × ${fmt(g.rssMaxMiB / b.rssMaxMiB, 2)} (${fmt(g.rssMaxMiB)} against ${fmt(b.rssMaxMiB)} MiB; the simulator's ${fmt(Math.max(r.gateway.simulatorRssMaxMiB, r.bare.simulatorRssMaxMiB))} MiB).`,
    );
  }
  const refused = rows.flatMap((r) => [r.gateway.client.refused, r.bare.client.refused]).reduce((a, b) => a + b, 0);
  const overflows = rows.flatMap((r) => [r.gateway.client.overflows, r.bare.client.overflows]).reduce((a, b) => a + b, 0);
  const negative = rows.flatMap((r) => [r.gateway.client.negativeLatencies, r.bare.client.negativeLatencies]).reduce((a, b) => a + b, 0);
  notes.push(
    `sourceTimestamp → arrival is mostly the protocol's: the wait for the server's next sample of the item (up to the sampling interval) and for the subscription's next publish (up to the publishing interval), ` +
      `whose phases against the simulator's update timer are set when each item and subscription is created, so the two clients' p50s differ by the luck of those phases, not by their own work. ` +
      `The clients' own part is the spread within a burst (a value's arrival − the first value of the same burst, i.e. the same publish response, handled in one turn of the event loop: the work done for the values before it) and, for the gateway, the hand-over. ` +
      `Publishing interval granted: ${[...new Set(rows.flatMap((r) => [...r.gateway.client.revisedPublishingMs, ...r.bare.client.revisedPublishingMs]))].join(', ')} ms; ` +
      `items refused: ${refused}; values with the Overflow bit: ${fmt(overflows)}; latencies below zero (clock skew, counted as 0): ${fmt(negative)}.`,
  );

  const markdown = [
    '## OPC UA subscriptions (bench/opcua.ts)',
    '',
    `\`gridgate simulate opcua\` (dist/, a child process) serving N synthetic Double tags, every value set every ${UPDATE_MS} ms by one timer with that tick as its sourceTimestamp (offered: N × ${fmt(1000 / UPDATE_MS)} values/s); ` +
      `one subscription with every tag a monitored item by NodeId, publishing ${PUBLISHING_MS} ms, queueSize 1, ${security}, loopback. ` +
      `Each client in its own process, one after the other against the same simulator: the gateway's OpcuaSource (records counted in its emit), ` +
      `then the reference, a bare node-opcua \`OPCUAClient\` with the same client options and subscription request, counting 'changed' events. ` +
      `${fmt(WARMUP)} s warm-up, then ${fmt(SECONDS)} s measured per client. "Ticks seen": distinct sourceTimestamps, i.e. how often the simulator's timer actually ran (${fmt(1000 / UPDATE_MS)}/s when it keeps up). ` +
      `CPU is a share of one core (${cores} cores, shared by the client and the simulator), RSS the client process's. On ${host}, not pinned, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    head,
    rule,
    ...table,
    '',
    ...notes.flatMap((x) => [x, '']),
  ].join('\n');

  await writeResults(
    'opcua',
    {
      machine: host,
      cores,
      pinned: false,
      date: new Date().toISOString(),
      security: SECURITY,
      securityPolicy: POLICY,
      publishingMs: PUBLISHING_MS,
      updateMs: UPDATE_MS,
      warmupSeconds: WARMUP,
      seconds: SECONDS,
      simulator: `node ${SIMULATOR} simulate opcua (child process)`,
      runs: rows.map((r) => ({
        ...r.case,
        offeredPerSecond: offered(r.case.items),
        simulatorStartMs: r.simulatorStartMs,
        simulatorIdleCpu: r.simulatorIdleCpu,
        gateway: { ...r.gateway, output: undefined },
        bare: { ...r.bare, output: undefined },
      })),
    },
    markdown,
  );
  console.log('\nwrote bench/results/opcua.json and the opcua section of bench/RESULTS.md');
}

function q(x: Quantiles): string {
  const d = (v: number): string => fmt(v, v < 10 ? 2 : 1);
  return `${d(x.p50)} / ${d(x.p99)} / ${d(x.p999)} / ${d(x.max)}`;
}
function pct(x: number, digits = 1): string {
  return `${fmt(100 * x, digits)}%`;
}
function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x), 2)}`;
}

// Last: everything above is initialised by now.
if (values.role) await client(values.role as Role);
else await main();
