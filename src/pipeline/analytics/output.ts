import type { EncodedBody } from '../encoding/record-encoding.js';
import type { RecordKind } from '../record.js';

// What the analytics engine produces: records whose body the worker has already encoded (JSON
// text or Avro bytes, kafka.encoding), so the main thread only adds the envelope (site, epoch, seq)
// and hands them on.

export type AnalyticsKind = Extract<RecordKind, 'feature-window' | 'anomaly' | 'late-sample'>;

export interface AnalyticsOutput {
  kind: AnalyticsKind;
  source: string;
  stream: string;
  eventTimeUs: number;
  ingestTimeUs: number;
  quality: number;
  /** The record's own fields (schemas/<kind>.avsc), until the engine encodes them at the end of its batch. */
  body: object | undefined;
  /** The same fields encoded; set by the engine, which then drops `body` so that only bytes cross threads. */
  encodedBody?: EncodedBody;
  /** Feature windows: ingest time of the sample whose arrival closed the window (latency metric). */
  firedByIngestUs?: number;
}
