import avro from 'avsc';
import type { RecordKind } from '../record.js';
import { FeatureWindowAvro, type FeatureWindowBody } from './feature-window-avro.js';
import { PmuFrameAvro, type PmuFrameBody } from './pmu-frame-avro.js';
import { ENVELOPE_FIELDS, recordSchema, type AvroRecordSchema } from './schemas.js';

// Avro binary (the Avro 1.11 specification's binary encoding, no container file and no
// registry framing): a record is its fields' encodings one after the other, in schema order. Every
// schema starts with the envelope fields, so a record is `envelope bytes ‖ body bytes`, and the
// body can be encoded where it is built (an analytics worker) and the envelope later, on the main
// thread, once the record has its seq. Unions are written from plain values (null or a number),
// which is also the JSON shape, so one body object serves both encodings.

export interface Envelope {
  site: string;
  source: string;
  stream: string;
  epoch: number;
  seq: number;
  eventTime: number;
  ingestTime: number;
  quality: { level: string; reasons: readonly string[] };
}

type AvroType = ReturnType<typeof avro.Type.forSchema>;

const typeOf = (schema: object): AvroType => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false, registry: {} });

function part(schema: AvroRecordSchema, suffix: string, fields: AvroRecordSchema['fields']): AvroType {
  return typeOf({ type: 'record', name: `${schema.name}${suffix}`, namespace: schema.namespace ?? 'gridgate', fields });
}

const envelopeType = part(recordSchema('pmu-frame'), 'Envelope', recordSchema('pmu-frame').fields.slice(0, ENVELOPE_FIELDS.length));
const bodyTypes = new Map<RecordKind, AvroType>();
const fullTypes = new Map<RecordKind, AvroType>();

/** The type of a kind's fields after the envelope. */
export function avroBodyType(kind: RecordKind): AvroType {
  let t = bodyTypes.get(kind);
  if (!t) {
    const schema = recordSchema(kind);
    t = part(schema, 'Body', schema.fields.slice(ENVELOPE_FIELDS.length));
    bodyTypes.set(kind, t);
  }
  return t;
}

/** The whole record's type, as a consumer reads it (tests and tools). */
export function avroRecordType(kind: RecordKind): AvroType {
  let t = fullTypes.get(kind);
  if (!t) fullTypes.set(kind, (t = typeOf(recordSchema(kind))));
  return t;
}

/**
 * Encodes into one reused scratch buffer and copies each result out: avsc's toBuffer() guesses a
 * size and encodes twice when a record is larger, which PMU and feature records are. The two kinds
 * written most, feature-window bodies (in the workers) and whole pmu-frame records (here), have
 * hand-written writers giving avsc's bytes (bench/avro.ts); every other kind goes through avsc.
 */
export class AvroWriter {
  #scratch = Buffer.allocUnsafe(16 * 1024);
  readonly #featureWindows = new FeatureWindowAvro();
  readonly #pmuFrames = new PmuFrameAvro();

  /** A body alone (what a worker sends to the main thread): its own exact-size ArrayBuffer, cheap to clone. */
  body(kind: RecordKind, body: object): Uint8Array {
    if (kind === 'feature-window') return this.#featureWindows.write(body as FeatureWindowBody);
    const end = this.#write(avroBodyType(kind), body, 0);
    return new Uint8Array(this.#scratch.subarray(0, end));
  }

  /** A whole record: the envelope, then the body given as an object or as its encoded bytes. */
  record(kind: RecordKind, envelope: Envelope, body: object | Uint8Array): Buffer {
    if (kind === 'pmu-frame' && !(body instanceof Uint8Array)) return this.#pmuFrames.write(envelope, body as PmuFrameBody);
    const at = this.#write(envelopeType, envelope, 0);
    if (body instanceof Uint8Array) {
      const out = Buffer.allocUnsafe(at + body.length);
      this.#scratch.copy(out, 0, 0, at);
      out.set(body, at);
      return out;
    }
    const end = this.#write(avroBodyType(kind), body, at);
    return Buffer.from(this.#scratch.subarray(0, end));
  }

  #write(type: AvroType, value: object, at: number): number {
    for (;;) {
      const end = type.encode(value, this.#scratch, at);
      if (end >= 0) return end;
      // encode() returns minus the bytes missing; keep what is written before `at`.
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.#scratch.length, this.#scratch.length - end));
      this.#scratch.copy(bigger, 0, 0, at);
      this.#scratch = bigger;
    }
  }
}

/** The envelope of an Avro-encoded record (its first fields), or undefined if the bytes are not one. */
export function readAvroEnvelope(value: Uint8Array): Envelope | undefined {
  try {
    const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const { value: envelope, offset } = envelopeType.decode(buf, 0);
    return offset < 0 ? undefined : (envelope as Envelope);
  } catch {
    return undefined;
  }
}
