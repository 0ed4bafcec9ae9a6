import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { analyticsRecords, kindOf, publish, sourceRecords } from '../helpers/encoded-records.js';
import { runPythonJson } from '../helpers/python.js';

// kafka.encoding avro against an Avro implementation nobody here wrote and the gateway does not
// use: fastavro (Python, C-accelerated) decodes every kind of record from schemas/*.avsc alone,
// and each must be exactly the record the JSON encoding writes (numbers compared after both went
// through JSON's shortest round-trip form, which is exact for doubles).

const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));
const DECODER = fileURLToPath(new URL('./reference/avro_decode.py', import.meta.url));

describe('Avro records read by fastavro', () => {
  it('decodes every kind to the record JSON carries, with no byte left over', async () => {
    const avro = await publish('avro', [...sourceRecords(), ...analyticsRecords('avro')]);
    const json = await publish('json', [...sourceRecords(), ...analyticsRecords('json')]);
    const records = avro.entries.map((e) => ({ kind: kindOf(e), avro: Buffer.from(e.value).toString('base64') }));
    const decoded = runPythonJson<{ fastavro: string; records: unknown[] }>(DECODER, { schemas: SCHEMAS, records });
    assert.equal(decoded.records.length, json.entries.length);
    for (const [i, entry] of json.entries.entries()) {
      assert.deepEqual(decoded.records[i], JSON.parse(Buffer.from(entry.value).toString()), `${records[i]!.kind} ${entry.key} (fastavro ${decoded.fastavro})`);
    }
    assert.deepEqual([...new Set(records.map((r) => r.kind))].sort(), ['anomaly', 'dead-letter', 'feature-window', 'late-sample', 'pmu-frame', 'scada-value']);
  });
});
