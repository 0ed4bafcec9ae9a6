import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../observability/logger.js';
import { Backoff } from '../../protocols/shared/backoff.js';
import { nowUs, type SourceRecord } from '../record.js';
import { Affinity } from './affinity.js';
import { resolvePairs, type ResolvedPair } from './angle-pair.js';
import { BatchBuilder } from './batch-builder.js';
import type { RecordEncoding } from '../encoding/record-encoding.js';
import type { AnalyticsConfig, SourceAnalytics } from './config.js';
import { AnalyticsEngine, type AnalyticsBatch, type AnalyticsResult } from './engine.js';
import type { AnalyticsOutput } from './output.js';
import type { StreamDescriptor } from './stream-descriptor.js';
import { EXTRACTORS } from './extractors.js';
import { NO_PHASORS } from './scada-extract.js';

// The main thread's half of the analytics: it turns records into sample rows, batches them per
// worker and every batchMs moves each batch to its worker (transferred typed arrays, never a
// message per frame), then hands the records the workers produce back to the pipeline.
//
//   pipeline.emit ─▶ observe(record) ─▶ BatchBuilder[shard] ──every batchMs──▶ Piscina[shard] (1 thread)
//                                                                                    │
//   pipeline.enqueue ◀──────────── outputs (feature-window, anomaly, late-sample) ◀──┘
//
// One single-thread pool per shard and one batch in it at a time: a stream's batches run in order,
// in the one thread that holds its window state (stream affinity). A shard with maxQueuedSamples
// waiting is full: whenFull pause-sources makes the pipeline refuse (sources pause),
// skip-analytics drops the shard's samples for the analytics only (counted; raw records flow on).
// A backlog goes to the worker in batches of at most MAX_BATCH_ROWS, back to back, so that
// neither the worker's heap nor its answer grows with the backlog (maxQueuedSamples).
//
// The analytics must never stop the raw records. A worker whose thread cannot load, dies outside a
// batch, or does not answer a batch within its deadline is down: its pool is destroyed, its
// samples are dropped (counted) instead of queued, so a down shard is never full, and a new pool is
// started after a back-off from 1 s doubling to 60 s until one answers a batch. Its streams start over.

export interface AnalyticsOptions {
  config: AnalyticsConfig;
  site: string;
  /** The sources whose records feed the analytics: their settings and IDCODE (angle pair buses). */
  sources: ReadonlyMap<string, { settings?: SourceAnalytics; idcode?: number }>;
  /** How the workers encode the bodies of their records (kafka.encoding); JSON when absent. */
  encoding?: RecordEncoding;
  /** Where the records the analytics produce go (the pipeline's queue). */
  deliver: (source: string, records: SourceRecord[]) => void;
  /** Called once a full shard has room again (pause-sources). */
  onRoom: () => void;
  log: Logger;
  registry: Registry;
  /** Tests: the worker module (default: worker.ts/js beside this file). */
  workerUrl?: URL;
  /** Tests: a fixed batch deadline, ms (default: see batchDeadlineMs). */
  batchDeadlineMs?: number;
}

interface Shard {
  readonly index: number;
  readonly builder: BatchBuilder;
  /** Batches the builder filled to MAX_BATCH_ROWS while the worker was busy, oldest first. */
  sealed: AnalyticsBatch[];
  sealedRows: number;
  pool: Piscina | undefined;
  /** The worker failed and is being replaced: its samples are dropped, never waited for. */
  down: boolean;
  /** Restarts since a batch last succeeded, and the wait before the next. */
  readonly restarts: Backoff;
  restartTimer: NodeJS.Timeout | undefined;
  /** A batch is in the worker. */
  busy: boolean;
  /** The batch timer fired while busy: send as soon as the worker answers. */
  due: boolean;
  /** Streams this shard has ever been told about (it needs ticks for idleness even without rows). */
  streams: number;
  /**
   * Ingest time of the sample that filled the builder to maxQueuedSamples, until the next batch
   * leaves: that batch's clock (see #send).
   */
  fullSinceUs: number | undefined;
}

interface StreamSlot {
  slot: number;
  kind: SourceRecord['kind'];
  shape: unknown;
  shard: number;
  values: number;
  /** Sent again after a worker failed, so its streams start over. */
  descriptor: StreamDescriptor;
}

// Built: dist/…/worker.js. From source (tests, tsx): worker.ts, with tsx loaded in the thread too.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url);

const RESTART = { initialMs: 1_000, maxMs: 60_000 };

/**
 * Rows in one batch at most. At 1,000 PMUs a 50 ms batch holds 3,000; a worker that fell behind
 * by maxQueuedSamples (100,000) got them in one batch, and its heap reached 587 MiB on the answer
 * (bench/e2e --watch).
 */
export const MAX_BATCH_ROWS = 10_000;

/**
 * How long a worker may take to answer a batch before it is taken for hung: a minute plus 1 ms per
 * row, some 50 times what a row costs (about 20 µs), so a legitimately big batch after an overload
 * (maxQueuedSamples can be 10 million) is never cut short.
 */
const batchDeadlineMs = (rows: number): number => 60_000 + rows;

export class Analytics {
  readonly #o: AnalyticsOptions;
  readonly #shards: Shard[] = [];
  /** source → stream → its slot: no key string is built per frame. */
  readonly #streams = new Map<string, Map<string, StreamSlot>>();
  readonly #affinity: Affinity;
  readonly #pairs: ResolvedPair[];
  /** analytics.mode main-thread: the engine runs here, shard 0 only. */
  readonly #local: AnalyticsEngine | undefined;
  #nextSlot = 1;
  #samples = 0;
  #skipped = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #full = false;
  /** Since when the pipeline holds the sources back, while it does (sourcesPaused). */
  #pausedSinceUs: number | undefined;
  #stopped = false;
  readonly #pending = new Set<Promise<void>>();
  readonly #m: {
    samples: Counter;
    channelSamples: Counter;
    skipped: Counter;
    records: Counter<'kind'>;
    late: Counter;
    latency: Histogram;
    busy: Counter<'worker'>;
    failures: Counter;
    unusable: Counter;
    dropped: Counter;
    restarts: Counter<'worker'>;
    heapUsed: Gauge<'worker'>;
    heapTotal: Gauge<'worker'>;
  };

  constructor(options: AnalyticsOptions) {
    this.#o = options;
    const { config } = options;
    const threads = config.mode === 'workers' ? (config.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1))) : 1;
    this.#pairs = resolvePairs(options.site, config.anglePairs, (s) => options.sources.get(s)?.idcode);
    this.#affinity = new Affinity(threads, this.#pairs);
    this.#local = config.mode === 'main-thread' ? new AnalyticsEngine(config, this.#pairs, options.encoding) : undefined;
    for (let i = 0; i < threads; i++) {
      this.#shards.push({ index: i, builder: new BatchBuilder(), sealed: [], sealedRows: 0, pool: undefined, down: false, restarts: new Backoff(RESTART), restartTimer: undefined, busy: false, due: false, streams: 0, fullSinceUs: undefined });
    }
    const registers = [options.registry];
    this.#m = {
      samples: new Counter({ name: 'gridgate_analytics_samples_total', help: 'Frames (samples) handed to the analytics.', registers }),
      channelSamples: new Counter({
        name: 'gridgate_analytics_channel_samples_total',
        help: 'Channel values processed by the analytics workers.',
        registers,
      }),
      skipped: new Counter({
        name: 'gridgate_analytics_skipped_samples_total',
        help: 'Samples left out of the analytics because a worker was behind (whenFull: skip-analytics).',
        registers,
      }),
      records: new Counter({ name: 'gridgate_analytics_records_total', help: 'Records produced by the analytics, by kind.', labelNames: ['kind'], registers }),
      late: new Counter({ name: 'gridgate_analytics_late_samples_total', help: 'Samples later than the allowed lateness (sent to the late topic).', registers }),
      latency: new Histogram({
        name: 'gridgate_analytics_latency_seconds',
        help: 'From the arrival of the frame that closed a window to its feature record back on the main thread.',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
        registers,
      }),
      busy: new Counter({
        name: 'gridgate_analytics_worker_busy_seconds_total',
        help: 'Wall-clock time each worker spent on batches (includes time descheduled when threads outnumber free cores).',
        labelNames: ['worker'],
        registers,
      }),
      unusable: new Counter({
        name: 'gridgate_analytics_unusable_samples_total',
        help: 'Samples a worker could not use: of a stream it was not told about, or with a time that is not a number.',
        registers,
      }),
      failures: new Counter({ name: 'gridgate_analytics_batch_failures_total', help: 'Batches a worker failed on (its window state restarts).', registers }),
      dropped: new Counter({
        name: 'gridgate_analytics_dropped_samples_total',
        help: 'Samples left out of the analytics because their worker was down (being replaced); raw records still flow.',
        registers,
      }),
      restarts: new Counter({
        name: 'gridgate_analytics_worker_restarts_total',
        help: 'Analytics workers replaced after their thread could not load, died, or did not answer a batch in time.',
        labelNames: ['worker'],
        registers,
      }),
      heapUsed: new Gauge({
        name: 'gridgate_analytics_worker_heap_size_used_bytes',
        help: "Each analytics worker thread's V8 heap in use after its last batch (the nodejs_heap_* metrics are the main thread's only).",
        labelNames: ['worker'],
        registers,
      }),
      heapTotal: new Gauge({
        name: 'gridgate_analytics_worker_heap_size_total_bytes',
        help: "Each analytics worker thread's V8 heap size after its last batch.",
        labelNames: ['worker'],
        registers,
      }),
    };
    const down: Gauge = new Gauge({
      name: 'gridgate_analytics_workers_down',
      help: 'Analytics workers down and waiting to be replaced: their streams get no features meanwhile.',
      registers,
      collect: () => down.set(this.downWorkers),
    });
    const queued: Gauge = new Gauge({
      name: 'gridgate_analytics_queued_samples',
      help: 'Samples waiting for their worker (it is busy with the previous batch).',
      registers,
      collect: () => queued.set(this.#shards.reduce((n, s) => n + queuedRows(s), 0)),
    });
  }

  get threads(): number {
    return this.#local ? 0 : this.#shards.length;
  }

  /** Workers down and waiting to be replaced. */
  get downWorkers(): number {
    return this.#shards.reduce((n, s) => n + (s.down ? 1 : 0), 0);
  }

  start(): void {
    if (!this.#local) for (const shard of this.#shards) this.#startPool(shard);
    this.#timer = setInterval(() => this.#flushAll(false), this.#o.config.batchMs);
    this.#timer.unref();
  }

  #startPool(shard: Shard): void {
    const pool = new Piscina({
      filename: (this.#o.workerUrl ?? WORKER).href,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      workerData: { config: this.#o.config, pairs: this.#pairs, encoding: this.#o.encoding },
      ...(FROM_SOURCE ? { execArgv: ['--import', 'tsx'] } : {}),
    });
    // piscina emits 'error' for a worker that fails with no batch in it: at load, or dead between
    // batches. Unheard, that event would end the process.
    pool.on('error', (err: Error) => this.#down(shard, pool, err));
    shard.pool = pool;
  }

  /**
   * The shard's worker is gone or hung: destroy its pool (a batch in it fails, and is lost), drop
   * what waits for it, and start a new pool after the backoff. The new pool hears of every stream
   * again, as after a failed batch.
   */
  #down(shard: Shard, pool: Piscina, err: Error): void {
    if (shard.pool !== pool) return;
    shard.pool = undefined;
    shard.down = true;
    shard.due = false;
    this.#dropped += queuedRows(shard);
    shard.builder.take(0);
    shard.sealed = [];
    shard.sealedRows = 0;
    shard.fullSinceUs = undefined;
    // Destroying also fails the batch in it, or queued in it: nothing waits on a dead pool (stop).
    pool.destroy().catch(() => {});
    const delayMs = shard.restarts.next();
    this.#o.log.error(
      { err: err.message, worker: shard.index, restartInMs: this.#stopped ? undefined : delayMs, restarts: shard.restarts.attempts },
      'an analytics worker is down; its samples are dropped until a new one answers (raw records flow on)',
    );
    this.#checkRoom();
    if (this.#stopped) return;
    shard.restartTimer = setTimeout(() => {
      shard.restartTimer = undefined;
      if (this.#stopped) return;
      this.#m.restarts.inc({ worker: String(shard.index) });
      shard.builder.take(0);
      for (const s of this.#streamsOf(shard)) shard.builder.describe(s.descriptor);
      shard.down = false;
      this.#startPool(shard);
    }, delayMs);
    shard.restartTimer.unref();
  }

  *#streamsOf(shard: Shard): Iterable<StreamSlot> {
    for (const streams of this.#streams.values()) for (const s of streams.values()) if (s.shard === shard.index) yield s;
  }

  /**
   * The pipeline holds the sources back from `atUs` (its queue is full, or a shard is), or lets
   * them go again (undefined). Meanwhile batch clocks stop at `atUs`: a stream the gateway itself
   * is not reading is not idle (see #send).
   */
  sourcesPaused(atUs: number | undefined): void {
    this.#pausedSinceUs = atUs;
  }

  /** The clock of the shard's next batch: now, unless the shard filled or the sources were paused earlier. */
  #clock(shard: Shard): number {
    const held = Math.min(shard.fullSinceUs ?? Infinity, this.#pausedSinceUs ?? Infinity);
    return held === Infinity ? nowUs() : held;
  }

  /** True when a shard is full and whenFull is pause-sources: the pipeline should push back. */
  get full(): boolean {
    return this.#full;
  }

  /** Take a record's sample, if it is one the analytics understand. Nothing is allocated per frame. */
  observe(source: string, record: SourceRecord): void {
    const extractor = EXTRACTORS[record.kind];
    if (!extractor || this.#stopped) return;
    let streams = this.#streams.get(source);
    if (!streams) this.#streams.set(source, (streams = new Map()));
    let s = streams.get(record.stream);
    if (!s || s.kind !== record.kind || !extractor.sameShape(record, s.shape)) {
      const entry = this.#o.sources.get(source);
      if (!entry) return;
      const settings = entry.settings ?? NO_PHASORS;
      const key = `${this.#o.site}/${source}/${record.stream}`;
      const index = s?.shard ?? this.#affinity.shardOf(key);
      const slot = this.#nextSlot++;
      const descriptor = extractor.descriptor(record, { slot, key, source }, settings);
      s = { slot, kind: record.kind, shape: extractor.shape(record), shard: index, values: extractor.count(record), descriptor };
      streams.set(record.stream, s);
      this.#shards[index]!.builder.describe(s.descriptor);
      this.#shards[index]!.streams++;
    }
    const shard = this.#shards[s.shard]!;
    if (shard.down) {
      this.#dropped++;
      return;
    }
    const max = this.#o.config.maxQueuedSamples;
    if (this.#o.config.whenFull === 'skip-analytics' && queuedRows(shard) >= max) {
      this.#skipped++;
      return;
    }
    const at = shard.builder.row(s.slot, record.eventTimeUs, record.ingestTimeUs, record.quality, s.values);
    extractor.values(record, shard.builder.buffer, at);
    this.#samples++;
    if (shard.fullSinceUs === undefined && queuedRows(shard) >= max) shard.fullSinceUs = record.ingestTimeUs;
    if (shard.builder.rowCount >= MAX_BATCH_ROWS) {
      const batch = shard.builder.take(this.#clock(shard));
      shard.sealed.push(batch);
      shard.sealedRows += batch.rowCount;
    }
  }

  /**
   * Send each idle shard its batch. A shard has at most one batch in its worker: piscina does not
   * run queued tasks in submission order, and a stream's batches must run in order. Samples that
   * arrive meanwhile wait in the shard's builder and go as one bigger batch.
   */
  #flushAll(flush: boolean): void {
    this.#publishCounts();
    for (const shard of this.#shards) {
      if (shard.streams === 0 || shard.down) continue;
      if (shard.busy) shard.due = true;
      else this.#send(shard, flush);
    }
    this.#checkRoom();
  }

  #send(shard: Shard, flush: boolean): void {
    // A batch's clock judges idleness (a stream silent for idleTimeoutMs closes its windows and is
    // flagged stale). A shard that filled up stopped hearing its streams because of us: its sources
    // were paused (pause-sources) or its samples dropped (skip-analytics) until the worker caught
    // up. Its next batch therefore reads the time it filled, not the wall clock: otherwise a worker
    // busy longer than idleTimeoutMs made every stream of the shard idle at once (a stale flag
    // each), and the samples that followed late (48,500 late-sample records in 30 s at 1,000 PMUs).
    // The same holds while the pipeline pauses the sources because its own queue is full (Kafka
    // or the spool behind): the clock stops when they were paused (sourcesPaused).
    const sealed = shard.sealed.shift();
    if (sealed) shard.sealedRows -= sealed.rowCount;
    const batch = sealed ?? shard.builder.take(this.#clock(shard));
    if (!sealed) shard.fullSinceUs = undefined;
    // Only the last batch of a stop fires every open window (stop() sends the sealed ones first).
    if (flush && !sealed) batch.flush = true;
    shard.busy = true;
    const pool = shard.pool;
    const ms = this.#o.batchDeadlineMs ?? batchDeadlineMs(batch.rowCount);
    const hung = (): void => this.#down(shard, pool!, new Error(`no answer to a batch of ${batch.rowCount} samples in ${ms / 1000} s`));
    const deadline = pool ? setTimeout(hung, ms) : undefined;
    const done = this.#run(shard, batch).then(
      (result) => {
        if (shard.restarts.attempts > 0) this.#o.log.info({ worker: shard.index, restarts: shard.restarts.attempts }, 'an analytics worker is back');
        shard.restarts.reset();
        this.#accept(shard, result);
      },
      (err: Error) => {
        // The batch's windows are lost, and the worker's state may be half updated (or gone, with
        // a new thread): describe its streams again, which starts each one over. A pool that went
        // down was logged as such, and its successor hears of every stream (#down).
        this.#m.failures.inc();
        if (shard.down) return;
        this.#o.log.error({ err: err.message, worker: shard.index }, 'an analytics worker failed on a batch; its window state restarts');
        // The worker hears of its streams again before any further row: in the next batch to go.
        const next = shard.sealed[0];
        for (const s of this.#streamsOf(shard)) {
          if (next) next.describe.unshift(s.descriptor);
          else shard.builder.describe(s.descriptor);
        }
      },
    );
    const tracked = done.finally(() => {
      clearTimeout(deadline);
      shard.busy = false;
      this.#pending.delete(tracked);
      // A tick missed while the worker was busy, or a backlog: what waited goes now, not a whole
      // tick later.
      if ((shard.due || shard.sealed.length > 0) && !this.#stopped && !shard.down) {
        shard.due = false;
        this.#send(shard, false);
      }
      this.#checkRoom();
    });
    this.#pending.add(tracked);
  }

  async #run(shard: Shard, batch: AnalyticsBatch): Promise<AnalyticsResult> {
    if (this.#local) return this.#local.process(batch);
    return shard.pool!.run(batch, { transferList: [batch.rows.buffer as ArrayBuffer] });
  }

  #accept(shard: Shard, result: AnalyticsResult): void {
    this.#m.channelSamples.inc(result.channelSamples);
    this.#m.late.inc(result.lateSamples);
    this.#m.unusable.inc(result.unusableRows);
    const worker = String(shard.index);
    this.#m.busy.inc({ worker }, result.busyUs / 1e6);
    if (result.heap) {
      this.#m.heapUsed.set({ worker }, result.heap.usedBytes);
      this.#m.heapTotal.set({ worker }, result.heap.totalBytes);
    }
    if (result.outputs.length === 0) return;
    const now = nowUs();
    const bySource = new Map<string, SourceRecord[]>();
    for (const o of result.outputs) {
      this.#m.records.inc({ kind: o.kind });
      if (o.kind === 'feature-window' && o.firedByIngestUs !== undefined) this.#m.latency.observe((now - o.firedByIngestUs) / 1e6);
      let list = bySource.get(o.source);
      if (!list) bySource.set(o.source, (list = []));
      list.push(toRecord(o));
    }
    for (const [source, records] of bySource) this.#o.deliver(source, records);
  }

  #checkRoom(): void {
    if (this.#o.config.whenFull !== 'pause-sources') return;
    const full = this.#shards.some((s) => !s.down && queuedRows(s) >= this.#o.config.maxQueuedSamples);
    if (this.#full && !full) {
      this.#full = false;
      this.#o.onRoom();
    } else this.#full = full;
  }

  /** Resolves when every batch sent so far has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stop: the last samples go out with flush (every open window fires), then the workers end. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const shard of this.#shards) clearTimeout(shard.restartTimer);
    await this.settled();
    this.#publishCounts();
    for (const shard of this.#shards) {
      if (shard.streams === 0) continue;
      while (!shard.down && shard.sealed.length > 0) {
        this.#send(shard, false);
        await this.settled();
      }
      if (!shard.down) this.#send(shard, true);
    }
    await this.settled();
    await Promise.all(this.#shards.map((s) => s.pool?.destroy()));
  }

  /** Counted in locals per frame, published per batch. */
  #publishCounts(): void {
    this.#m.samples.inc(this.#samples);
    this.#m.skipped.inc(this.#skipped);
    this.#m.dropped.inc(this.#dropped);
    this.#samples = this.#skipped = this.#dropped = 0;
  }
}

/** Samples waiting for the shard's worker: sealed batches and the one being built. */
function queuedRows(shard: Shard): number {
  return shard.sealedRows + shard.builder.rowCount;
}

function toRecord(o: AnalyticsOutput): SourceRecord {
  return {
    kind: o.kind,
    stream: o.stream,
    eventTimeUs: o.eventTimeUs,
    ingestTimeUs: o.ingestTimeUs,
    quality: o.quality,
    body: {},
    encodedBody: o.encodedBody,
  };
}
