import type { RecordKind, SourceRecord } from '../record.js';
import type { SourceAnalytics } from './config.js';
import { pmuDescriptor, pmuShape, pmuValueCount, pmuValues, sameShape, type PmuShape } from './pmu-extract.js';
import { SCADA_EXTRACTOR } from './scada-extract.js';
import type { StreamDescriptor } from './stream-descriptor.js';

// Which records the analytics take samples from, and how: an explicit map from record kind to its
// extractor (the descriptor once per stream shape, the values per record, nothing allocated).

export interface SampleExtractor<Shape> {
  shape(record: SourceRecord): Shape;
  sameShape(record: SourceRecord, shape: Shape): boolean;
  /** Values per record (the descriptor's channels). */
  count(record: SourceRecord): number;
  descriptor(record: SourceRecord, ids: { slot: number; key: string; source: string }, settings: SourceAnalytics): StreamDescriptor;
  values(record: SourceRecord, into: Float64Array, at: number): void;
}

const PMU_EXTRACTOR: SampleExtractor<PmuShape> = {
  shape: pmuShape,
  sameShape,
  count: pmuValueCount,
  descriptor: pmuDescriptor,
  values: pmuValues,
};

export const EXTRACTORS: Partial<Record<RecordKind, SampleExtractor<unknown>>> = {
  'pmu-frame': PMU_EXTRACTOR as SampleExtractor<unknown>,
  'scada-value': SCADA_EXTRACTOR as SampleExtractor<unknown>,
};
