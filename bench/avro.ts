// bench/avro: Avro encoding of whole pmu-frame records (envelope + body) on one core, the
// gateway's hand-written writer (src/pipeline/encoding/pmu-frame-avro.ts) beside avsc's generated
// one, the reference, in the same run:
// - load: the records the c37118 source builds for 100 PMUs (test/helpers/pmu-records.ts: 6 float
//   polar phasors and 2 analogs each, as in bench/e2e), with their envelopes, made before timing;
// - avsc: Type.encode of the whole record into a reused buffer and a copy out (AvroWriter did the
//   same before, in two encodes, envelope then body, into one buffer); ours: PmuFrameAvro.write;
// - rounds alternate between the two, each over every record; the median round is reported, in
//   µs per record. Both outputs are compared once, byte for byte, before timing.
// Not pinned. No target: the figure is what a PMU record's encoding costs the main thread.
//   npm run bench:avro [-- --rounds R --pmus N]
import { parseArgs } from 'node:util';
import { avroRecordType, type Envelope } from '../src/pipeline/encoding/avro.js';
import { PmuFrameAvro, type PmuFrameBody } from '../src/pipeline/encoding/pmu-frame-avro.js';
import { simulatedRecords } from '../test/helpers/pmu-records.js';
import { fmt, machine, writeResults } from './lib/report.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, pmus: { type: 'string', default: '100' } } });
const ROUNDS = Number(args.rounds);
const PMUS = Number(args.pmus);

const records = simulatedRecords({ seconds: 2, pmus: PMUS, phasors: 6 }).map((r, i) => {
  const envelope: Envelope = { site: 'bench', source: 'pdc-1', stream: r.stream, epoch: 3, seq: 1_000 + i, eventTime: r.eventTimeUs, ingestTime: r.ingestTimeUs, quality: { level: 'good', reasons: [] } };
  const body = r.body as unknown as PmuFrameBody;
  return { envelope, body, whole: { ...envelope, ...body } };
});

const avsc = avroRecordType('pmu-frame');
const scratch = Buffer.allocUnsafe(16 * 1024);
const viaAvsc = (value: object): Buffer => {
  const end = avsc.encode(value, scratch, 0);
  if (end < 0) throw new Error('scratch too small');
  return Buffer.from(scratch.subarray(0, end));
};
const writer = new PmuFrameAvro();

for (const r of records) {
  if (!writer.write(r.envelope, r.body).equals(viaAvsc(r.whole))) throw new Error(`bytes differ for ${JSON.stringify(r.whole)}`);
}

let sink = 0;
function round(encode: (r: (typeof records)[number]) => Buffer): number {
  const t0 = performance.now();
  for (const r of records) sink += encode(r).length;
  return ((performance.now() - t0) * 1000) / records.length;
}
const times = { ours: [] as number[], avsc: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  times.avsc.push(round((r) => viaAvsc(r.whole)));
  times.ours.push(round((r) => writer.write(r.envelope, r.body)));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = { records: records.length, rounds: ROUNDS, bytesPerRecord: sink / (2 * ROUNDS * records.length), oursUs: median(times.ours), avscUs: median(times.avsc) };

const markdown = [
  '## avro (bench/avro.ts)',
  '',
  `Whole pmu-frame records (envelope + body) as the c37118 source builds them for ${fmt(PMUS)} PMUs (6 float polar phasors, 2 analogs, no digital words, as bench/e2e; ${fmt(result.bytesPerRecord)} B each), ${fmt(records.length)} records a round, ${ROUNDS} rounds alternating, median; on ${machine()}, ${new Date().toISOString().slice(0, 10)}. Same bytes checked first.`,
  '',
  '| writer | µs per record | ÷ avsc |',
  '| --- | --- | --- |',
  `| PmuFrameAvro (hand-written) | ${fmt(result.oursUs, 2)} | ${fmt(result.oursUs / result.avscUs, 2)} |`,
  `| avsc Type.encode + copy (reference) | ${fmt(result.avscUs, 2)} | 1.00 |`,
].join('\n');
console.log(markdown);
await writeResults('avro', { machine: machine(), ...result }, markdown);
console.log('\nwrote bench/results/avro.json and the avro section of bench/RESULTS.md');
