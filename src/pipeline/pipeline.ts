import { Counter, Gauge, type Registry } from 'prom-client';
import type { SpoolEntry } from '../buffer/entry-codec.js';
import type { Component, Deadline, Readiness } from '../daemon/component.js';
import type { Logger } from '../observability/logger.js';
import { qualityJson } from '../protocols/shared/quality.js';
import type { TopicsConfig } from '../sinks/kafka/config.js';
import { Analytics } from './analytics/analytics.js';
import type { AnalyticsConfig, SourceAnalytics } from './analytics/config.js';
import type { SourceTopics } from './config.js';
import { CONTENT_TYPE, JSON_ENCODER, recordEncoder, type RecordEncoder, type RecordEncoding } from './encoding/record-encoding.js';
import { nowUs, type RecordKind, type SourceRecord } from './record.js';
import { Sequencer } from './sequencer.js';

// The pipeline between the sources and the sink: stamps each record with epoch and per-stream
// seq, wraps it in the envelope, routes it to its topic and encodes it (kafka.encoding: JSON or
// Avro binary, both of the schemas in schemas/). Each measurement record is also observed by the
// analytics (windowed features and anomaly flags in worker threads), whose records join the same
// queue.
//
//   sources ──emit(records)──▶ queue ──pump──▶ stamp + encode ──offer──▶ sink (spool/Kafka)
//                 │              ▲
//                 └─▶ analytics ─┘ (feature-window, anomaly, late-sample)
//
// emit() never drops and never blocks: it queues and returns false once the queue passes its high
// mark, which is the sources' signal to pause (TCP) or shed (UDP); onResume fires below the low
// mark. One pump drains the queue in order, so per-stream order is emit order. Between batches
// the pump lets the event loop turn (setImmediate): the sink's offer resolves at once when Kafka
// keeps up, so without it a deep queue (a worker's answer after an overload holds hundreds of
// thousands of records) was drained in one turn of promise callbacks, with no socket read, delivery
// report, metrics scrape or systemd watchdog ping for as long as that took (23 s at 1,000 PMUs).

const HIGH_WATER = 50_000;
const LOW_WATER = 10_000;
const BATCH = 2_000;

export const RECORD_SCHEMAS: Readonly<Record<RecordKind, string>> = {
  'pmu-frame': 'gridgate.pmu-frame/1',
  'scada-value': 'gridgate.scada-value/1',
  'dead-letter': 'gridgate.dead-letter/1',
  'feature-window': 'gridgate.feature-window/1',
  anomaly: 'gridgate.anomaly/1',
  'late-sample': 'gridgate.late-sample/1',
};

const TOPIC_OF: Readonly<Record<RecordKind, keyof TopicsConfig>> = {
  'pmu-frame': 'pmuFrames',
  'scada-value': 'scadaValues',
  'dead-letter': 'deadLetter',
  'feature-window': 'features',
  anomaly: 'anomalies',
  'late-sample': 'late',
};

const KINDS = Object.keys(RECORD_SCHEMAS) as RecordKind[];

/** Resolves after the event loop's next check phase: I/O and timers that were due have run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The seq counter of a record: per key and topic, so each topic's records of a stream are gap-free
 * on their own. Measurements and dead letters keep the bare key (their keys never collide).
 */
const seqKey = (key: string, kind: RecordKind): string => (kind === 'pmu-frame' || kind === 'scada-value' || kind === 'dead-letter' ? key : `${key}#${kind}`);

/** A stream's record key (site/source/stream) and its seq counter per record kind. */
interface StreamKeys {
  key: string;
  counters: Partial<Record<RecordKind, string>>;
}

export interface PipelineOptions {
  site: string;
  stateDir: string;
  topics: TopicsConfig;
  /** How records are written (kafka.encoding); JSON when absent. */
  encoding?: RecordEncoding;
  /** The sink's offer: resolves when the records are taken (spooled or in flight). */
  offer: (entries: SpoolEntry[]) => Promise<void>;
  /** Windowed features and anomaly flags; absent or mode off: raw records only. */
  analytics?: { config: AnalyticsConfig; sources: ReadonlyMap<string, { settings?: SourceAnalytics; idcode?: number }> };
  log: Logger;
  registry: Registry;
}

export class Pipeline implements Component {
  readonly name = 'pipeline';
  readonly #o: PipelineOptions;
  readonly #queue: { source: string; record: SourceRecord }[] = [];
  #head = 0;
  readonly #resumers = new Set<() => void>();
  /** Per-source topic overrides (the source's `topics` key). */
  readonly #routes = new Map<string, SourceTopics>();
  #sequencer: Sequencer | undefined;
  #pumping: Promise<void> | undefined;
  #paused = false;
  #stopped = false;
  #lastError: string | undefined;
  readonly #analytics: Analytics | undefined;
  /** One frozen headers object per encoding and record kind: the producer converts each only once. */
  readonly #headers: Readonly<Record<RecordEncoding, Readonly<Record<RecordKind, Readonly<Record<string, string>>>>>>;
  readonly #encoder: RecordEncoder;
  readonly #fallbacks: Counter<'kind'>;
  readonly #fallbackLogged = new Set<RecordKind>();
  readonly #records: Counter<'kind'>;
  readonly #queued: Gauge;
  /** Per source and stream: as many entries as the sequencer has streams. */
  readonly #keys = new Map<string, Map<string, StreamKeys>>();

  constructor(options: PipelineOptions) {
    this.#o = options;
    this.#encoder = recordEncoder(options.encoding ?? 'json');
    const headers = (encoding: RecordEncoding): Record<RecordKind, Readonly<Record<string, string>>> => {
      const header = (kind: RecordKind): Readonly<Record<string, string>> => Object.freeze({ site: options.site, schema: RECORD_SCHEMAS[kind], 'content-type': CONTENT_TYPE[encoding] });
      return Object.fromEntries(KINDS.map((k) => [k, header(k)])) as Record<RecordKind, Readonly<Record<string, string>>>;
    };
    this.#headers = { json: headers('json'), avro: headers('avro') };
    const a = options.analytics;
    if (a && a.config.mode !== 'off') {
      this.#analytics = new Analytics({
        config: a.config,
        site: options.site,
        sources: a.sources,
        encoding: this.#encoder.encoding,
        deliver: (source, records) => this.#enqueue(source, records),
        onRoom: () => this.#maybeResume(),
        log: options.log.child({ component: 'analytics' }),
        registry: options.registry,
      });
    }
    this.#records = new Counter({
      name: 'gridgate_pipeline_records_total',
      help: 'Records stamped and handed to the sink, by kind.',
      labelNames: ['kind'],
      registers: [options.registry],
    });
    this.#fallbacks = new Counter({
      name: 'gridgate_pipeline_encoding_fallbacks_total',
      help: 'Records their Avro schema could not encode, sent as JSON instead (content-type application/json), by kind. Always 0 unless the gateway has a bug.',
      labelNames: ['kind'],
      registers: [options.registry],
    });
    this.#queued = new Gauge({
      name: 'gridgate_pipeline_queued_records',
      help: 'Records emitted by sources and not yet handed to the sink.',
      registers: [options.registry],
      collect: () => this.#queued.set(this.#queue.length - this.#head),
    });
  }

  /** The epoch of this run (after start). */
  get epoch(): number | undefined {
    return this.#sequencer?.epoch;
  }

  async start(): Promise<void> {
    this.#sequencer = await Sequencer.open(this.#o.stateDir, this.#o.log);
    this.#analytics?.start();
  }

  /** A source's emit: bound to its name and its topic overrides. */
  emitter(source: string, topics: SourceTopics = {}): (records: SourceRecord[]) => boolean {
    this.#routes.set(source, topics);
    return (records) => this.#emit(source, records);
  }

  /** Call `resume` when the queue has room again after an emit returned false. */
  onResume(resume: () => void): () => void {
    this.#resumers.add(resume);
    return () => this.#resumers.delete(resume);
  }

  #emit(source: string, records: SourceRecord[]): boolean {
    const analytics = this.#analytics;
    if (analytics) for (const record of records) analytics.observe(source, record);
    this.#enqueue(source, records);
    if (analytics?.full) this.#pause();
    return !this.#paused;
  }

  #enqueue(source: string, records: SourceRecord[]): void {
    for (const record of records) this.#queue.push({ source, record });
    this.#pumping ??= this.#pump().finally(() => (this.#pumping = undefined));
    if (this.#queue.length - this.#head >= HIGH_WATER) this.#pause();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#analytics?.sourcesPaused(nowUs());
  }

  /** Sources resume once the queue is below its low mark and the analytics have room. */
  #maybeResume(): void {
    if (!this.#paused || this.#queue.length - this.#head > LOW_WATER || this.#analytics?.full) return;
    this.#paused = false;
    this.#analytics?.sourcesPaused(undefined);
    for (const resume of this.#resumers) resume();
  }

  async #pump(): Promise<void> {
    const sequencer = this.#sequencer;
    if (!sequencer) throw new Error('pipeline: emit before start');
    while (this.#head < this.#queue.length) {
      const end = Math.min(this.#queue.length, this.#head + BATCH);
      const keys: string[] = [];
      const counters: string[] = [];
      for (let i = this.#head; i < end; i++) {
        const { source, record } = this.#queue[i]!;
        const k = this.#keysOf(source, record.stream);
        keys.push(k.key);
        counters.push((k.counters[record.kind] ??= seqKey(k.key, record.kind)));
      }
      sequencer.prepare(counters);
      const entries: SpoolEntry[] = [];
      const kinds = new Map<RecordKind, number>();
      for (let i = this.#head, j = 0; i < end; i++, j++) {
        const { source, record } = this.#queue[i]!;
        const counter = counters[j]!;
        let seq = sequencer.tryAssign(counter);
        if (seq < 0) seq = await sequencer.assign(counter);
        entries.push(this.#encode(source, keys[j]!, seq, sequencer.epoch, record));
        kinds.set(record.kind, (kinds.get(record.kind) ?? 0) + 1);
      }
      // Counted per batch: a labelled prom-client call per record showed in profiles.
      for (const [kind, n] of kinds) this.#records.inc({ kind }, n);
      this.#head = end;
      try {
        await this.#o.offer(entries);
        this.#lastError = undefined;
      } catch (err) {
        // Only a stopped sink refuses; the records were stamped and are lost to this run.
        this.#lastError = (err as Error).message;
        this.#o.log.error({ err: this.#lastError, records: entries.length }, 'the sink refused records');
      }
      if (this.#head > 4 * BATCH && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#maybeResume();
      if (this.#head < this.#queue.length) await turn();
    }
    this.#queue.length = 0;
    this.#head = 0;
  }

  /** The stream's key and seq counters, made once: fresh strings per record cost an allocation and a hash each. */
  #keysOf(source: string, stream: string): StreamKeys {
    let ofSource = this.#keys.get(source);
    if (!ofSource) this.#keys.set(source, (ofSource = new Map()));
    let keys = ofSource.get(stream);
    if (!keys) ofSource.set(stream, (keys = { key: `${this.#o.site}/${source}/${stream}`, counters: {} }));
    return keys;
  }

  #encode(source: string, key: string, seq: number, epoch: number, record: SourceRecord): SpoolEntry {
    const envelope = {
      site: this.#o.site,
      source,
      stream: record.stream,
      epoch,
      seq,
      eventTime: record.eventTimeUs,
      ingestTime: record.ingestTimeUs,
      quality: qualityJson(record.quality),
    };
    let value: Buffer;
    let headers = this.#headers[this.#encoder.encoding][record.kind];
    try {
      value = this.#encoder.record(record.kind, envelope, record.encodedBody ?? record.body);
    } catch (err) {
      // A body its Avro schema cannot take (a gateway bug, never the device's doing): it goes out as
      // JSON, labelled so by its content-type, rather than being lost or stopping the pipeline.
      const body = typeof record.encodedBody === 'string' ? record.encodedBody : record.body;
      value = JSON_ENCODER.record(record.kind, envelope, body);
      headers = this.#headers.json[record.kind];
      this.#fallbacks.inc({ kind: record.kind });
      if (!this.#fallbackLogged.has(record.kind)) {
        this.#fallbackLogged.add(record.kind);
        this.#o.log.error({ err: (err as Error).message, kind: record.kind, key }, 'a record its schema cannot encode was sent as JSON (logged once per kind)');
      }
    }
    const route = this.#routes.get(source);
    const override = record.kind === 'dead-letter' ? route?.deadLetter : record.kind === 'pmu-frame' || record.kind === 'scada-value' ? route?.records : undefined;
    return {
      topic: override ?? this.#o.topics[TOPIC_OF[record.kind]],
      key,
      value,
      timestampMs: Math.floor(record.ingestTimeUs / 1000),
      headers,
    };
  }

  /** Resolves when everything emitted so far has been handed to the sink. */
  async drained(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  async stop(deadline: Deadline): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Sources stopped first; the analytics close their open windows (shutdown results), the sink
    // gets everything emitted, then the exact next seqs are persisted.
    if (this.#analytics) await deadline.race(this.#analytics.stop());
    await deadline.race(this.drained());
    await this.#sequencer?.close();
  }

  readiness(): Readiness {
    if (!this.#sequencer) return { ready: false, detail: 'not started' };
    if (this.#lastError) return { ready: false, detail: this.#lastError };
    if (this.#paused) return { ready: true, detail: 'back-pressure: sources paused' };
    // Raw records flow without the analytics: a down worker is reported, not unready.
    const down = this.#analytics?.downWorkers ?? 0;
    return down > 0 ? { ready: true, detail: `analytics: ${down} worker(s) down, being replaced` } : { ready: true };
  }
}
