import pino from 'pino';
import { Registry } from 'prom-client';
import type { SpoolEntry } from '../../src/buffer/entry-codec.js';
import { Deadline } from '../../src/daemon/component.js';
import { AnalyticsEngine } from '../../src/pipeline/analytics/engine.js';
import type { RecordEncoding } from '../../src/pipeline/encoding/record-encoding.js';
import { Pipeline, RECORD_SCHEMAS } from '../../src/pipeline/pipeline.js';
import { deadLetter, type RecordKind, type SourceRecord } from '../../src/pipeline/record.js';
import { scadaValueRecord } from '../../src/protocols/modbus/records.js';
import { opcuaValueRecord } from '../../src/protocols/opcua/records.js';
import { Quality } from '../../src/protocols/shared/quality.js';
import { analyticsConfig, RecordFeeder, sourceAnalytics } from './analytics.js';
import { simulatedRecords } from './pmu-records.js';
import { tempDir } from './spool.js';

// Records of every kind, as the gateway publishes them in either encoding (kafka.encoding): the
// fixtures of the encoding tests (test/unit/pipeline/encoding, and the fastavro peer test).

const TOPICS = { pmuFrames: 'f', scadaValues: 's', features: 'w', anomalies: 'a', late: 'l', deadLetter: 'd' };
const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });
export const MODBUS = { device: 'rtu1', tag: 'p', unitId: 1, area: 'holding', address: 7, functionCode: 3, type: 'float32', unit: 'kW' };

/** Source records of every kind a source makes, and every shape of scada value. */
export function sourceRecords(): SourceRecord[] {
  const t = { sentUs: 1_700_000_000_000_000, receivedUs: 1_700_000_000_004_321 };
  const opcua = (value: string | number | null) =>
    opcuaValueRecord(
      { device: 'scada', tag: 'breaker', unit: '', nodeId: 'ns=2;s=Breaker' },
      { value, dataType: 'String', statusCode: 0, statusName: 'Good', eventTimeUs: t.sentUs, timeSource: 'source', serverTimeUs: null, ingestTimeUs: t.receivedUs },
      0,
      null,
    );
  return [
    ...simulatedRecords({ seconds: 0.1, pmus: 2 }),
    scadaValueRecord(MODBUS, 12.5, [0x4148, 0], t, 0, undefined),
    scadaValueRecord(MODBUS, NaN, [0x7fc0, 0], t, 0, undefined),
    scadaValueRecord({ ...MODBUS, tag: 'on', type: 'bool' }, true, [1], t, 0, undefined),
    scadaValueRecord(MODBUS, null, [], t, Quality.COMMS_FAILURE, { kind: 'exception', code: 2, detail: 'illegal data address' }),
    opcua('CLOSED'),
    opcua(null),
    deadLetter({ stage: 'framing', reason: 'crc-mismatch', detail: 'CRC 0x1234', peer: '10.0.0.1:4712', streamOffset: 9, raw: Buffer.from([0xaa, 0x31, 0]) }, t.receivedUs, Quality.DATA_INVALID),
  ];
}

/** Analytics records of a 0.8 pu sag (features, anomalies) and a frame 2.5 s late (late-sample), their bodies encoded by the engine. */
export function analyticsRecords(encoding: RecordEncoding): SourceRecord[] {
  const engine = new AnalyticsEngine(analyticsConfig(), [], encoding);
  const frames = simulatedRecords({ seconds: 3, scenario: { events: [{ type: 'voltage', at: 1, pu: 0.8, durationS: 0.5 }] } });
  const late = { ...frames[30]!, ingestTimeUs: frames.at(-1)!.ingestTimeUs + 100 };
  return new RecordFeeder(engine, settings, 5, 'north/pmu/')
    .feed([...frames, late])
    .stop()
    .map((o): SourceRecord => ({ ...o, body: {} }));
}

export async function publish(encoding: RecordEncoding, records: SourceRecord[]): Promise<{ entries: SpoolEntry[]; registry: Registry }> {
  const entries: SpoolEntry[] = [];
  const registry = new Registry();
  const options = { site: 'north', stateDir: await tempDir('gridgate-avro-'), topics: TOPICS, encoding, log: pino({ level: 'silent' }), registry };
  const pipeline = new Pipeline({ ...options, offer: async (e) => void entries.push(...e) });
  await pipeline.start();
  pipeline.emitter('pmu')(records);
  await pipeline.drained();
  await pipeline.stop(new Deadline(1000));
  return { entries, registry };
}

/** The kind of a published record, from its schema header (the pipeline's RECORD_SCHEMAS, read backwards). */
export function kindOf(entry: SpoolEntry): RecordKind {
  const kind = (Object.keys(RECORD_SCHEMAS) as RecordKind[]).find((k) => RECORD_SCHEMAS[k] === entry.headers?.schema);
  if (!kind) throw new Error(`no record kind has the schema header ${entry.headers?.schema}`);
  return kind;
}
