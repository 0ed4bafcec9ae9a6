import type { EncodedBody } from './encoding/record-encoding.js';

// What a source hands the pipeline: a record without its envelope's gateway-assigned parts. The
// pipeline adds site, source, epoch and seq, routes it to a topic by kind and encodes it
// (ARCHITECTURE.md, the record contract; docs/records.md for consumers).

export type RecordKind = 'pmu-frame' | 'scada-value' | 'dead-letter' | 'feature-window' | 'anomaly' | 'late-sample';

export interface SourceRecord {
  kind: RecordKind;
  /** The stream inside the source: a PMU IDCODE, a Modbus device/tag, an OPC UA node; 'dlq' for dead letters. */
  stream: string;
  /** Device time, microseconds since the epoch (ingest time for dead letters). */
  eventTimeUs: number;
  /** When gridgate received it, microseconds since the epoch. */
  ingestTimeUs: number;
  /** Quality flags (src/protocols/shared/quality.ts). */
  quality: number;
  /** The kind's own fields, in their JSON shape (schemas/<kind>.avsc). */
  body: Record<string, unknown>;
  /** The same, already encoded in the run's encoding (records built in a worker); wins over body. */
  encodedBody?: EncodedBody;
}

/** Why bytes became a dead letter, and where. */
export interface DeadLetterBody {
  /** The pipeline stage that gave up: framing (not a frame) or decoding (a frame we cannot use). */
  stage: 'framing' | 'decoding';
  /** A stable, short reason (crc-mismatch, size-mismatch, no-config, …). */
  reason: string;
  detail: string;
  /** The raw bytes, base64. */
  bytes: string;
  length: number;
  /** Where they came from: the peer (HOST:PORT) and the offset in the connection's byte stream. */
  peer: string;
  streamOffset: number;
}

/** Build a dead-letter record from raw bytes. */
export function deadLetter(
  fields: Omit<DeadLetterBody, 'bytes' | 'length'> & { raw: Uint8Array },
  ingestTimeUs: number,
  quality: number,
): SourceRecord {
  const { raw, ...rest } = fields;
  const body: DeadLetterBody = { ...rest, bytes: Buffer.from(raw).toString('base64'), length: raw.length };
  return { kind: 'dead-letter', stream: 'dlq', eventTimeUs: ingestTimeUs, ingestTimeUs, quality, body: { ...body } };
}

/** The source side of the pipeline: false means "downstream is full, pause"; the records were taken. */
export type Emit = (records: SourceRecord[]) => boolean;

/** A number field of a record: JSON has no NaN or Infinity, and the schemas' unions say null. */
export const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Wall clock in microseconds. */
export const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);
