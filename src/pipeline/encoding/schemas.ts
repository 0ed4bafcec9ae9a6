import { readFileSync } from 'node:fs';
import { packageFile } from '../../package-file.js';
import type { RecordKind } from '../record.js';

// The record schemas (schemas/<kind>.avsc, the contract) as parsed JSON. They ship beside dist/ in
// the package and the bundle, at the package root.

export interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
}
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroField[];
}

/** The fields every record starts with, in this order (ARCHITECTURE.md, the record contract). */
export const ENVELOPE_FIELDS = ['site', 'source', 'stream', 'epoch', 'seq', 'eventTime', 'ingestTime', 'quality'] as const;

const cache = new Map<RecordKind, AvroRecordSchema>();

export function recordSchema(kind: RecordKind): AvroRecordSchema {
  let schema = cache.get(kind);
  if (!schema) {
    schema = readSchema(`${kind}.avsc`);
    const names = schema.fields.slice(0, ENVELOPE_FIELDS.length).map((f) => f.name);
    if (names.join() !== ENVELOPE_FIELDS.join()) throw new Error(`schemas/${kind}.avsc: the first fields must be ${ENVELOPE_FIELDS.join(', ')}, not ${names.join(', ')}`);
    cache.set(kind, schema);
  }
  return schema;
}

function readSchema(file: string): AvroRecordSchema {
  const path = packageFile(`schemas/${file}`, import.meta.url);
  if (!path) throw new Error(`record schema ${file} not found (no schemas/ above ${import.meta.url})`);
  return JSON.parse(readFileSync(path, 'utf8')) as AvroRecordSchema;
}
