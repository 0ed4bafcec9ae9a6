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

/** Feed records (pmu-frame) as the main thread would, `batchRows` to a batch. */
export function feedRecords(engine: AnalyticsEngine, records: SourceRecord[], settings: SourceAnalytics, batchRows = 3): AnalyticsOutput[] {
  const out: AnalyticsOutput[] = [];
  const b = new BatchBuilder();
  const slots = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    let slot = slots.get(r.stream);
    if (slot === undefined) {
      slots.set(r.stream, (slot = slots.size + 1));
      b.describe(pmuDescriptor(r, { slot, key: `site/pmu/${r.stream}`, source: 'pmu' }, settings));
    }
    const at = b.row(slot, r.eventTimeUs, r.ingestTimeUs, r.quality, pmuValueCount(r));
    pmuValues(r, b.buffer, at);
    if ((i + 1) % batchRows === 0) out.push(...engine.process(b.take(r.ingestTimeUs)).outputs);
  }
  const lastIngest = records.at(-1)?.ingestTimeUs ?? 0;
  out.push(...engine.process(b.take(lastIngest)).outputs);
  return out;
}

export type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const bodies = (outputs: AnalyticsOutput[], kind: AnalyticsOutput['kind']): Body[] =>
  outputs.filter((o) => o.kind === kind).map((o) => JSON.parse(o.bodyJson) as Body);
