import type { RecordKind } from '../record.js';

// What the analytics engine produces: records whose body is already JSON text, built in the
// worker so the main thread only adds the envelope (site, epoch, seq) and hands them on.

export type AnalyticsKind = Extract<RecordKind, 'feature-window' | 'anomaly' | 'late-sample'>;

export interface AnalyticsOutput {
  kind: AnalyticsKind;
  source: string;
  stream: string;
  eventTimeUs: number;
  ingestTimeUs: number;
  quality: number;
  /** The record's own fields as a JSON object text (schemas/<kind>.avsc). */
  bodyJson: string;
  /** Feature windows: ingest time of the sample whose arrival closed the window (latency metric). */
  firedByIngestUs?: number;
}

/** JSON number or null: JSON has no NaN or Infinity. */
export const num = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');
