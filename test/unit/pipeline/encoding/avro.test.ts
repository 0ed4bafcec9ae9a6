import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Analytics } from '../../../../src/pipeline/analytics/analytics.js';
import { avroBodyType, avroRecordType } from '../../../../src/pipeline/encoding/avro.js';
import { nowUs, type RecordKind, type SourceRecord } from '../../../../src/pipeline/record.js';
import { scadaValueRecord } from '../../../../src/protocols/modbus/records.js';
import { auditTopic } from '../../../../src/sinks/kafka/topic-audit.js';
import { analyticsConfig, sourceAnalytics } from '../../../helpers/analytics.js';
import { analyticsRecords, kindOf, MODBUS, publish, sourceRecords } from '../../../helpers/encoded-records.js';
import { simulatedRecords } from '../../../helpers/pmu-records.js';

// kafka.encoding avro: every kind of record, through a real Pipeline (and the analytics engine
// that encodes bodies in the worker), decodes with its schema (avsc, reading schemas/*.avsc as a
// consumer would) to exactly the record the JSON encoding writes: same fields, same numbers.

const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });

/** avsc decodes records into classes of its own; compare plain data. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('Avro binary records (kafka.encoding avro)', () => {
  it('decode with their schemas to exactly the records JSON writes, for every kind', async () => {
    const json = await publish('json', [...sourceRecords(), ...analyticsRecords('json')]);
    const avro = await publish('avro', [...sourceRecords(), ...analyticsRecords('avro')]);
    assert.equal(avro.entries.length, json.entries.length);
    const kinds = new Set<RecordKind>();
    let jsonBytes = 0;
    let avroBytes = 0;
    for (const [i, a] of avro.entries.entries()) {
      const j = json.entries[i]!;
      const kind = kindOf(a);
      kinds.add(kind);
      assert.deepEqual(a.headers, { ...j.headers, 'content-type': 'avro/binary' });
      assert.deepEqual([a.topic, a.key, a.timestampMs], [j.topic, j.key, j.timestampMs]);
      const decoded = avroRecordType(kind).fromBuffer(Buffer.from(a.value));
      assert.deepEqual(plain(decoded), JSON.parse(Buffer.from(j.value).toString()), `${kind} ${a.key}`);
      jsonBytes += j.value.length;
      avroBytes += a.value.length;
    }
    assert.deepEqual([...kinds].sort(), ['anomaly', 'dead-letter', 'feature-window', 'late-sample', 'pmu-frame', 'scada-value']);
    assert.ok(avroBytes < jsonBytes / 2, `Avro ${avroBytes} B against JSON ${jsonBytes} B`);
  });

  it('are read by verify-topic like JSON records: per stream, by epoch and seq', async () => {
    const { entries } = await publish('avro', sourceRecords());
    const report = auditTopic(entries.map((e, i) => ({ partition: 0, offset: i, key: e.key, value: Buffer.from(e.value) })));
    assert.equal(report.unparseable, 0);
    assert.equal(report.clean, true);
    assert.deepEqual(
      report.streams.map((s) => [s.key, s.records]),
      [
        ['north/pmu/101', 6],
        ['north/pmu/102', 6],
        ['north/pmu/breaker', 2],
        ['north/pmu/dlq', 1],
        ['north/pmu/rtu1/on', 1],
        ['north/pmu/rtu1/p', 3],
      ],
    );
    const truncated = auditTopic([{ partition: 0, offset: 0, key: 'k', value: Buffer.from(entries[0]!.value).subarray(0, 10) }]);
    assert.equal(truncated.unparseable, 1);
  });

  it('sends a record its schema cannot take as JSON, labelled so and counted, instead of losing it', async () => {
    const odd = scadaValueRecord(MODBUS, 1, [], { sentUs: 1, receivedUs: 2 }, 0, undefined);
    odd.body.value = { not: 'in the union' };
    const { entries, registry } = await publish('avro', [odd, ...sourceRecords().slice(-1)]);
    assert.equal(entries[0]!.headers!['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(Buffer.from(entries[0]!.value).toString()).value, { not: 'in the union' });
    assert.equal(entries[1]!.headers!['content-type'], 'avro/binary');
    assert.match(await registry.getSingleMetricAsString('gridgate_pipeline_encoding_fallbacks_total'), /kind="scada-value"} 1\b/);
  });

  it('are encoded in the worker threads, bytes and not objects crossing to the main thread', async () => {
    const delivered: SourceRecord[] = [];
    const analytics = new Analytics({
      config: analyticsConfig({ mode: 'workers', workers: 1, batchMs: 20 }),
      site: 'north',
      sources: new Map([['pmu', { settings, idcode: 1 }]]),
      encoding: 'avro',
      deliver: (_source, rs) => delivered.push(...rs),
      onRoom: () => undefined,
      log: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    analytics.start();
    const shift = nowUs() - 1_763_776_800_000_000;
    for (const r of simulatedRecords({ seconds: 2 })) analytics.observe('pmu', { ...r, eventTimeUs: r.eventTimeUs + shift, ingestTimeUs: r.ingestTimeUs + shift });
    await analytics.stop();
    const features = delivered.filter((r) => r.kind === 'feature-window');
    assert.ok(features.length > 10, `${features.length} feature windows`);
    for (const r of features) {
      assert.ok(r.encodedBody instanceof Uint8Array);
      const body = avroBodyType('feature-window').fromBuffer(Buffer.from(r.encodedBody)) as { window: { name: string }; channels: Record<string, { unit: string }> };
      assert.ok(['100ms', '200ms', '1s'].includes(body.window.name));
      assert.equal(body.channels['freq']!.unit, 'Hz');
    }
  });
});
