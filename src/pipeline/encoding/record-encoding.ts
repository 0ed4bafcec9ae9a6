import type { RecordKind } from '../record.js';
import { AvroWriter, type Envelope } from './avro.js';

// How records are written to Kafka (kafka.encoding): JSON text (the default, readable with any
// tool) or Avro binary (schemas/<kind>.avsc; a quarter to a third of the bytes, and no number
// formatting, which was most of what JSON cost the gateway per record). The `content-type` header says which;
// the `schema` header names the schema either way. docs/records.md has both for consumers.

export const RECORD_ENCODINGS = ['json', 'avro'] as const;
export type RecordEncoding = (typeof RECORD_ENCODINGS)[number];

/** `avro/binary` is the Avro specification's own name for its binary encoding (its HTTP transport). */
export const CONTENT_TYPE: Readonly<Record<RecordEncoding, string>> = { json: 'application/json', avro: 'avro/binary' };

/**
 * Which encoding a record value is in, from its first byte, for readers without its headers
 * (verify-topic, the e2e probe): JSON opens with `{` (0x7B), which as the zig-zag varint that
 * starts an Avro record (the site's length) would be -62.
 */
export const isJsonValue = (value: Uint8Array): boolean => value[0] === 0x7b;

/** A body encoded where it was built (an analytics worker): JSON object text or Avro bytes. */
export type EncodedBody = string | Uint8Array;

export interface RecordEncoder {
  readonly encoding: RecordEncoding;
  /** A body alone, to be joined to its envelope later by record(). */
  body(kind: RecordKind, body: object): EncodedBody;
  /** A whole record: envelope first, then the body as an object or as body() encoded it. */
  record(kind: RecordKind, envelope: Envelope, body: object | EncodedBody): Buffer;
}

export function recordEncoder(encoding: RecordEncoding): RecordEncoder {
  return encoding === 'avro' ? avroEncoder() : JSON_ENCODER;
}

export const JSON_ENCODER: RecordEncoder = {
  encoding: 'json',
  body: (_kind, body) => JSON.stringify(body),
  record(_kind, envelope, body) {
    if (body instanceof Uint8Array) throw new Error('an Avro body given to the JSON encoder');
    // A body encoded earlier joins the envelope as text: `{envelope…,` + `body…}`.
    const json = typeof body === 'string' ? `${JSON.stringify(envelope).slice(0, -1)},${body.slice(1)}` : JSON.stringify({ ...envelope, ...body });
    return Buffer.from(json);
  },
};

function avroEncoder(): RecordEncoder {
  const writer = new AvroWriter();
  return {
    encoding: 'avro',
    body: (kind, body) => writer.body(kind, body),
    record(kind, envelope, body) {
      if (typeof body === 'string') throw new Error('a JSON body given to the Avro encoder');
      return writer.record(kind, envelope, body);
    },
  };
}
