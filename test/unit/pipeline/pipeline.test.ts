import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import avro from 'avsc';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { SpoolEntry } from '../../../src/buffer/entry-codec.js';
import { Deadline } from '../../../src/daemon/component.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { deadLetter, type SourceRecord } from '../../../src/pipeline/record.js';
import { NO_CFG3_FIELDS, type ConfigFrame } from '../../../src/protocols/c37118/cfg-frame.js';
import { DataColumns } from '../../../src/protocols/c37118/data-frame.js';
import { StreamLayout } from '../../../src/protocols/c37118/layout.js';
import { pmuFrameRecords } from '../../../src/protocols/c37118/records.js';
import { Quality } from '../../../src/protocols/shared/quality.js';
import { tempDir } from '../../helpers/spool.js';

const silent = pino({ level: 'silent' });
const TOPICS = {
  pmuFrames: 'grid.pmu.frames',
  scadaValues: 'grid.scada.values',
  features: 'grid.features',
  anomalies: 'grid.anomalies',
  late: 'grid.late',
  deadLetter: 'grid.dlq',
};

const schema = async (name: string): Promise<avro.Type> =>
  avro.Type.forSchema(JSON.parse(await readFile(new URL(`../../../schemas/${name}.avsc`, import.meta.url), 'utf8')));

/** A two-PMU stream (IDCODE 7) with PMU IDCODEs 71 and 72, one polar and one rectangular. */
function twoPmuColumns(): DataColumns {
  const pmu = (idcode: number, format: number): ConfigFrame['pmus'][number] => ({
    station: `PMU ${idcode}`,
    idcode,
    format,
    phasors: [
      { name: 'VA', unit: 'V', raw: 0, factor: 1, magnitudeScale: 1, angleOffsetRad: 0, modificationFlags: 0, component: null },
    ],
    analogs: [{ name: 'MW', type: 1, raw: 0, factor: 1, scale: 1, offset: 0 }],
    digitals: [{ labels: Array(16).fill(''), normal: 0x00ff, valid: 0x0fff }],
    fnom: 50,
    cfgcnt: 3,
    ...NO_CFG3_FIELDS,
  });
  const config: ConfigFrame = { kind: 'cfg2', version: 2, idcode: 7, soc: 0, fracsec: 0, timeBase: 1_000_000, dataRate: 50, pmus: [pmu(71, 0b1111), pmu(72, 0b1110)] };
  const columns = new DataColumns(new StreamLayout(config));
  columns.eventTimeUs = 1_700_000_000_020_000;
  columns.stat.set([0x0000, 0x2000]); // the second PMU has lost sync
  columns.quality.set([0, Quality.SYNC_LOST]);
  columns.freq.set([50.01, NaN]);
  columns.rocof.set([0.1, 0]);
  columns.phasorA.set([230_000, 3]);
  columns.phasorB.set([0.5, 4]);
  columns.analog.set([12.5, 7]);
  columns.digital.set([0x0f0f, 0x00ff]);
  return columns;
}

async function started(offer: (entries: SpoolEntry[]) => Promise<void>): Promise<Pipeline> {
  const pipeline = new Pipeline({ site: 'north', stateDir: await tempDir('gridgate-pipeline-'), topics: TOPICS, offer, log: silent, registry: new Registry() });
  await pipeline.start();
  return pipeline;
}

describe('the record pipeline', () => {
  it('makes one record per PMU block, keyed by the PMU IDCODE, that the Avro schema accepts', async () => {
    const taken: SpoolEntry[] = [];
    const pipeline = await started(async (entries) => void taken.push(...entries));
    const records: SourceRecord[] = [];
    pmuFrameRecords(twoPmuColumns(), 1_700_000_000_030_000, 0, records);
    assert.equal(pipeline.emitter('pmu-a')(records), true);
    await pipeline.drained();

    const type = await schema('pmu-frame');
    assert.deepEqual(taken.map((e) => e.key), ['north/pmu-a/71', 'north/pmu-a/72']);
    const [first, second] = taken.map((e) => JSON.parse(Buffer.from(e.value).toString()));
    for (const [entry, value] of [[taken[0]!, first], [taken[1]!, second]] as const) {
      assert.equal(entry.topic, 'grid.pmu.frames');
      assert.deepEqual(entry.headers, { site: 'north', schema: 'gridgate.pmu-frame/1', 'content-type': 'application/json' });
      assert.equal(entry.timestampMs, 1_700_000_000_030, 'the Kafka timestamp is the ingest time');
      assert.ok(type.isValid(value, { errorHook: (path) => assert.fail(`not valid at ${path.join('.')}`) }));
    }
    assert.equal(first.epoch, pipeline.epoch);
    assert.deepEqual([first.seq, second.seq], [1, 1], 'each PMU is its own stream');
    assert.equal(first.eventTime, 1_700_000_000_020_000);
    assert.deepEqual(first.pmu, { idcode: 71, station: 'PMU 71', streamIdcode: 7, cfgcnt: 3, fnom: 50, dataRate: 50 });
    // Polar: magnitude and angle as sent, re/im computed.
    assert.equal(first.phasors[0].magnitude, 230_000);
    assert.ok(Math.abs(first.phasors[0].re - 230_000 * Math.cos(0.5)) < 1e-6);
    // Rectangular: re/im as sent, magnitude and angle computed.
    assert.deepEqual([second.phasors[0].re, second.phasors[0].im, second.phasors[0].magnitude], [3, 4, 5]);
    assert.deepEqual(first.digitals, [{ word: 0x0f0f, alarms: (0x0f0f ^ 0x00ff) & 0x0fff }]);
    assert.deepEqual(first.quality, { level: 'good', reasons: [] });
    assert.equal(second.freq, null, 'an absent frequency is null');
    assert.deepEqual(second.quality, { level: 'bad', reasons: ['absent', 'sync_lost'] });
    await pipeline.stop(new Deadline(1000));
  });

  it('numbers each stream gap-free in emit order and routes dead letters to their topic', async () => {
    const taken: SpoolEntry[] = [];
    const pipeline = await started(async (entries) => void taken.push(...entries));
    const emit = pipeline.emitter('pmu-a');
    for (let i = 0; i < 5; i++) {
      const records: SourceRecord[] = [];
      pmuFrameRecords(twoPmuColumns(), 1, 0, records);
      records.push(
        deadLetter({ stage: 'framing', reason: 'crc-mismatch', detail: 'x', peer: '10.0.0.1:4712', streamOffset: i, raw: Buffer.from([0xaa, i]) }, 5, Quality.DATA_INVALID),
      );
      emit(records);
    }
    await pipeline.drained();
    const values = taken.map((e) => ({ key: e.key, topic: e.topic, v: JSON.parse(Buffer.from(e.value).toString()) }));
    for (const key of ['north/pmu-a/71', 'north/pmu-a/72', 'north/pmu-a/dlq']) {
      assert.deepEqual(values.filter((x) => x.key === key).map((x) => x.v.seq), [1, 2, 3, 4, 5], key);
    }
    const dlq = values.filter((x) => x.key === 'north/pmu-a/dlq');
    assert.ok(dlq.every((x) => x.topic === 'grid.dlq'));
    const type = await schema('dead-letter');
    assert.ok(type.isValid(dlq[0]!.v, { errorHook: (path) => assert.fail(`not valid at ${path.join('.')}`) }));
    assert.equal(Buffer.from(dlq[3]!.v.bytes, 'base64').toString('hex'), 'aa03');
    assert.equal(taken.find((e) => e.key.endsWith('/dlq'))!.headers!.schema, 'gridgate.dead-letter/1');
    await pipeline.stop(new Deadline(1000));
  });

  it("routes a source's records and dead letters to its own topics when it names them", async () => {
    const taken: SpoolEntry[] = [];
    const pipeline = await started(async (entries) => void taken.push(...entries));
    for (const [source, topics] of [['pmu-a', { records: 'substation.a.frames', deadLetter: 'substation.a.dlq' }], ['pmu-b', {}]] as const) {
      const records: SourceRecord[] = [];
      pmuFrameRecords(twoPmuColumns(), 1, 0, records);
      records.push(deadLetter({ stage: 'framing', reason: 'bad-sync', detail: '', peer: 'p', streamOffset: 0, raw: Buffer.alloc(1) }, 1, 0));
      pipeline.emitter(source, topics)(records);
    }
    await pipeline.drained();
    assert.deepEqual(
      taken.map((e) => `${e.key} → ${e.topic}`),
      [
        'north/pmu-a/71 → substation.a.frames',
        'north/pmu-a/72 → substation.a.frames',
        'north/pmu-a/dlq → substation.a.dlq',
        'north/pmu-b/71 → grid.pmu.frames',
        'north/pmu-b/72 → grid.pmu.frames',
        'north/pmu-b/dlq → grid.dlq',
      ],
    );
    await pipeline.stop(new Deadline(1000));
  });

  it('lets the event loop turn between batches while it drains a deep queue, in order', async () => {
    // The sink takes each batch at once (offer resolves immediately, as it does while Kafka keeps
    // up): a timer due meanwhile must still run before the queue is empty. The first burst makes
    // the sequencer reserve a block big enough for the second, which then never waits on its disk
    // (a wait that would let the timer in whatever the pump does).
    const taken: SpoolEntry[] = [];
    const pipeline = await started(async (entries) => void taken.push(...entries));
    const emit = pipeline.emitter('pmu-a');
    const burst = (): SourceRecord[] =>
      Array.from({ length: 20_000 }, (_, i) => deadLetter({ stage: 'framing', reason: 'bad-sync', detail: '', peer: 'p', streamOffset: i, raw: Buffer.alloc(1) }, 1, 0));
    emit(burst());
    await pipeline.drained();
    const takenWhenTimerRan: number[] = [];
    setTimeout(() => takenWhenTimerRan.push(taken.length), 0);
    emit(burst());
    await pipeline.drained();
    assert.equal(takenWhenTimerRan.length, 1);
    assert.ok(takenWhenTimerRan[0]! < 40_000, `the timer ran after ${takenWhenTimerRan[0]! - 20_000} of the second 20,000 records, not after all of them`);
    assert.deepEqual(taken.map((e) => JSON.parse(Buffer.from(e.value).toString()).seq), taken.map((_, i) => i + 1));
    await pipeline.stop(new Deadline(1000));
  });

  it('asks sources to pause when the sink falls behind and resumes them when it catches up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pipeline = await started(() => gate);
    const emit = pipeline.emitter('pmu-a');
    let resumed = 0;
    pipeline.onResume(() => resumed++);
    const records: SourceRecord[] = [];
    for (let i = 0; i < 60_000; i++) records.push(deadLetter({ stage: 'framing', reason: 'bad-sync', detail: '', peer: 'p', streamOffset: i, raw: Buffer.alloc(1) }, 1, 0));
    assert.equal(emit(records), false, 'past the high mark: pause');
    assert.equal(resumed, 0);
    release();
    await pipeline.drained();
    assert.equal(resumed, 1);
    assert.equal(emit(records.slice(0, 1)), true);
    await pipeline.stop(new Deadline(5000));
  });
});
