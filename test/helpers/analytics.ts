// Builders for the analytics tests: the site's analytics config with defaults filled in, a small
// stream descriptor, and a way to push samples through an AnalyticsEngine in chosen batches.
import { Value } from '@sinclair/typebox/value';
import { AnalyticsSchema, SourceAnalyticsSchema, type AnalyticsConfig, type SourceAnalytics } from '../../src/pipeline/analytics/config.js';
import { BatchBuilder } from '../../src/pipeline/analytics/batch-builder.js';
import type { AnalyticsEngine } from '../../src/pipeline/analytics/engine.js';
import type { AnalyticsOutput } from '../../src/pipeline/analytics/output.js';
import { pmuDescriptor, pmuValueCount, pmuValues } from '../../src/pipeline/analytics/pmu-extract.js';
import type { StreamDescriptor } from '../../src/pipeline/analytics/stream-descriptor.js';
import type { SourceRecord } from '../../src/pipeline/record.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export function analyticsConfig(overrides: DeepPartial<AnalyticsConfig> = {}): AnalyticsConfig {
  return Value.Default(AnalyticsSchema, structuredClone(overrides)) as AnalyticsConfig;
}

export function sourceAnalytics(overrides: Partial<SourceAnalytics> = {}): SourceAnalytics {
  return Value.Default(SourceAnalyticsSchema, structuredClone(overrides)) as SourceAnalytics;
}

/** A stream with just frequency and ROCOF: enough for window semantics. */
export function freqDescriptor(slot = 1, periodUs = 20_000, stream = '7'): StreamDescriptor {
  return {
    slot,
    key: `site/src/${stream}`,
    source: 'src',
    stream,
    kind: 'pmu',
    channels: ['freq', 'rocof'],
    units: ['Hz', 'Hz/s'],
    periodUs,
    fnom: 50,
    settings: sourceAnalytics(),
  };
}

export interface Sample {
  slot?: number;
  tUs: number;
  freq: number;
  /** Ingest time; event time + 1 ms when absent. */
  ingestUs?: number;
  quality?: number;
}

/** Feed samples (freq, rocof 0) in batches of `batchRows`; returns every output in order. */
export function feedFreq(engine: AnalyticsEngine, describe: StreamDescriptor[], samples: Sample[], batchRows = 1, nowUs?: number): AnalyticsOutput[] {
  const out: AnalyticsOutput[] = [];
  const b = new BatchBuilder();
  for (const d of describe) b.describe(d);
  let last = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const ingest = s.ingestUs ?? s.tUs + 1000;
    last = Math.max(last, ingest);
    const at = b.row(s.slot ?? 1, s.tUs, ingest, s.quality ?? 0, 2);
    b.buffer[at] = s.freq;
    b.buffer[at + 1] = 0;
    if ((i + 1) % batchRows === 0) out.push(...engine.process(b.take(nowUs ?? last)).outputs);
  }
  if (b.rowCount > 0 || describe.length > 0) out.push(...engine.process(b.take(nowUs ?? last)).outputs);
  return out;
}

const NO_ROWS = { describe: [], rows: new Float64Array(0), rowCount: 0 };

/**
 * Feeds pmu-frame records to one engine as the main thread would (each stream described once,
 * `batchRows` rows to a batch), across as many calls as a test needs; collects every output.
 */
export class RecordFeeder {
  readonly out: AnalyticsOutput[] = [];
  readonly #b = new BatchBuilder();
  readonly #slots = new Map<string, number>();
  lastIngestUs = 0;

  constructor(
    readonly engine: AnalyticsEngine,
    private readonly settings: SourceAnalytics,
    private readonly batchRows = 3,
    private readonly keyPrefix = 'site/pmu/',
  ) {}

  feed(records: SourceRecord[]): this {
    const b = this.#b;
    records.forEach((r, i) => {
      let slot = this.#slots.get(r.stream);
      if (slot === undefined) {
        this.#slots.set(r.stream, (slot = this.#slots.size + 1));
        b.describe(pmuDescriptor(r, { slot, key: `${this.keyPrefix}${r.stream}`, source: 'pmu' }, this.settings));
      }
      const at = b.row(slot, r.eventTimeUs, r.ingestTimeUs, r.quality, pmuValueCount(r));
      pmuValues(r, b.buffer, at);
      this.lastIngestUs = Math.max(this.lastIngestUs, r.ingestTimeUs);
      if ((i + 1) % this.batchRows === 0) this.out.push(...this.engine.process(b.take(r.ingestTimeUs)).outputs);
    });
    this.out.push(...this.engine.process(b.take(this.lastIngestUs)).outputs);
    return this;
  }

  /** A batch without rows at wall-clock time nowUs (idleness). */
  tick(nowUs: number): this {
    this.out.push(...this.engine.process({ nowUs, ...NO_ROWS }).outputs);
    return this;
  }

  /** The gateway stops: every open window fires (shutdown). */
  stop(): AnalyticsOutput[] {
    this.out.push(...this.engine.process({ nowUs: this.lastIngestUs, ...NO_ROWS, flush: true }).outputs);
    return this.out;
  }
}

/** Feed records (pmu-frame) as the main thread would, `batchRows` to a batch. */
export function feedRecords(engine: AnalyticsEngine, records: SourceRecord[], settings: SourceAnalytics, batchRows = 3): AnalyticsOutput[] {
  return new RecordFeeder(engine, settings, batchRows).feed(records).out;
}

export type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const bodies = (outputs: AnalyticsOutput[], kind: AnalyticsOutput['kind']): Body[] =>
  outputs.filter((o) => o.kind === kind).map((o) => JSON.parse(o.encodedBody as string) as Body);
