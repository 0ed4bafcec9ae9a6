import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AvroWriter, avroRecordType, type Envelope } from '../../../../src/pipeline/encoding/avro.js';
import { PmuFrameAvro, type PmuFrameBody } from '../../../../src/pipeline/encoding/pmu-frame-avro.js';
import { simulatedRecords } from '../../../helpers/pmu-records.js';
import { mulberry32 } from '../../../helpers/wait.js';

// The hand-written pmu-frame record writer against avsc's, on the same objects: the same bytes for
// every record the schema takes, and a throw for what it refuses (the pipeline's JSON fallback
// depends on that).

const avsc = avroRecordType('pmu-frame');
const expected = (envelope: Envelope, body: PmuFrameBody): Buffer => avsc.toBuffer({ ...envelope, ...body });

function record(random: () => number): { envelope: Envelope; body: PmuFrameBody } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const number = (): number => pick([0, -0, 1, -1, 0.1, 132_790.25, -1e-300, 1.7976931348623157e308, 5e-324, Number.NaN, (random() - 0.5) * 1e6]);
  const optional = (): number | null => (random() < 0.2 ? null : number());
  const long = (): number => pick([0, 1, 63, 64, 127, 128, 8191, 8192, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 2, -1, -64, -65, -(2 ** 53) + 2, Math.floor(random() * 1e6)]);
  const int = (): number => pick([0, 1, 63, 64, 0xffff, 2 ** 31 - 1, -(2 ** 31), -1]);
  const name = (): string => pick(['VA', 'VB', 'IC', 'Ω-Ströme', '', 'a'.repeat(200), 'freq']);
  const count = (max: number): number => Math.floor(random() * (max + 1));
  const t = 1_795_000_000_000_000 + Math.floor(random() * 1e12);
  return {
    envelope: {
      site: pick(['site', 'Umspannwerk Süd']),
      source: pick(['pmu-1', 'pdc']),
      stream: String(int()),
      epoch: long(),
      seq: long(),
      eventTime: t,
      ingestTime: t + Math.floor(random() * 1e6),
      quality: { level: pick(['good', 'uncertain', 'bad']), reasons: pick([[], ['stale'], ['sync_lost', 'trigger']]) },
    },
    body: {
      pmu: { idcode: int(), station: name(), streamIdcode: int(), cfgcnt: int(), fnom: pick([50, 60]), dataRate: pick([60, 50, -5]) },
      stat: int(),
      timeQuality: int(),
      freq: optional(),
      rocof: optional(),
      phasors: Array.from({ length: count(8) }, () => ({ name: name(), unit: pick(['V', 'A']), magnitude: optional(), angle: optional(), re: optional(), im: optional() })),
      analogs: Array.from({ length: count(3) }, () => ({ name: name(), value: optional() })),
      digitals: Array.from({ length: count(2) }, () => ({ word: int(), alarms: int() })),
    },
  };
}

describe('the pmu-frame Avro record writer', () => {
  it("writes avsc's bytes for every record, whatever its numbers, names and array lengths", () => {
    const random = mulberry32(13);
    const writer = new PmuFrameAvro();
    for (let i = 0; i < 3000; i++) {
      const { envelope, body } = record(random);
      assert.deepEqual(writer.write(envelope, body), expected(envelope, body), JSON.stringify({ envelope, body }));
    }
  });

  it('is what AvroWriter writes for the records the c37118 source builds', () => {
    const writer = new AvroWriter();
    for (const [i, r] of simulatedRecords({ seconds: 1, pmus: 3 }).entries()) {
      const envelope: Envelope = { site: 's', source: 'pmu', stream: r.stream, epoch: 2, seq: i, eventTime: r.eventTimeUs, ingestTime: r.ingestTimeUs, quality: { level: 'good', reasons: [] } };
      assert.deepEqual(writer.record('pmu-frame', envelope, r.body), expected(envelope, r.body as unknown as PmuFrameBody));
    }
  });

  it('returns bytes of its own, not a view of its scratch buffer', () => {
    const random = mulberry32(3);
    const writer = new PmuFrameAvro();
    const a = record(random);
    const first = writer.write(a.envelope, a.body);
    const copy = Buffer.from(first);
    const b = record(random);
    writer.write(b.envelope, b.body);
    assert.deepEqual(first, copy);
  });

  it('refuses what avsc refuses', () => {
    const random = mulberry32(5);
    const writer = new PmuFrameAvro();
    type R = { envelope: Envelope; body: PmuFrameBody };
    const bad: ((r: R) => void)[] = [
      (r) => ((r.body.pmu as { idcode: number }).idcode = 1.5),
      (r) => ((r.body.pmu as { station: unknown }).station = 7),
      (r) => (r.body.stat = 2 ** 31),
      (r) => ((r.body as { freq: unknown }).freq = undefined),
      (r) => ((r.body as { rocof: unknown }).rocof = '0.1'),
      (r) => (r.body.phasors = [{ name: 'VA', unit: 'W', magnitude: 1, angle: 0, re: 1, im: 0 }]),
      (r) => (r.body.analogs = [{ name: 'x', value: undefined as unknown as null }]),
      (r) => (r.body.digitals = [{ word: 1, alarms: 0.5 }]),
      (r) => (r.envelope.seq = 2 ** 53 - 1),
      (r) => (r.envelope.quality = { level: 'great', reasons: [] }),
      (r) => (r.envelope.quality = { level: 'bad', reasons: [3 as unknown as string] }),
    ];
    for (const [i, spoil] of bad.entries()) {
      const r = record(random);
      spoil(r);
      assert.throws(() => expected(r.envelope, r.body), `avsc refuses case ${i}`);
      assert.throws(() => writer.write(r.envelope, r.body), `and so does the writer, case ${i}`);
    }
  });
});
