import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avroBodyType } from '../../../../src/pipeline/encoding/avro.js';
import { FeatureWindowAvro, type FeatureWindowBody } from '../../../../src/pipeline/encoding/feature-window-avro.js';
import { mulberry32 } from '../../../helpers/wait.js';

// The hand-written feature-window body writer against avsc's, on the same objects: the same bytes
// for every body the schema takes, and a throw for what it refuses (the engine's JSON fallback
// depends on that).

const avsc = avroBodyType('feature-window');

function body(random: () => number, channels: string[]): FeatureWindowBody {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const number = (): number => pick([0, -0, 1, -1, 0.1, 132_790.25, -1e-300, 1.7976931348623157e308, 5e-324, (random() - 0.5) * 1e6]);
  const optional = (): number | null => (random() < 0.2 ? null : number());
  const long = (): number => pick([0, 1, 63, 64, 127, 128, 8191, 8192, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 2, -1, -64, -65, -(2 ** 53) + 2, Math.floor(random() * 1e6)]);
  const start = 1_795_000_000_000_000 + Math.floor(random() * 1e12);
  return {
    window: { name: pick(['100ms', '200ms', '1s', 'ω-window']), start, end: start + 100_000, sizeMs: pick([100, 200, 1000, 0.5]), slideMs: pick([100, 50]) },
    revision: pick([0, 1, 2, 300, 2 ** 31 - 1]),
    closedBy: pick(['watermark', 'idle', 'late', 'shutdown']),
    complete: random() < 0.5,
    samples: long(),
    expected: long(),
    missing: long(),
    duplicates: long(),
    completeness: optional(),
    fnom: pick([50, 60]),
    rocofDerived: optional(),
    powerFactor: optional(),
    channels: Object.fromEntries(
      channels.map((name) => [
        name,
        { unit: pick(['Hz', 'V', 'A', 'W', 'var', '°', '']), count: long(), mean: optional(), min: optional(), max: optional(), std: optional(), rms: optional(), first: optional(), last: optional() },
      ]),
    ),
  };
}

describe('the feature-window Avro body writer', () => {
  it("writes avsc's bytes for every body, whatever its numbers, names and number of channels", () => {
    const random = mulberry32(7);
    const writer = new FeatureWindowAvro();
    const names = ['freq', 'rocof', 'VA.mag', 'VA.ang', 'seq.V1', 'power.P', 'Ω-Ströme', '12', '3', 'a'.repeat(200)];
    for (let i = 0; i < 3000; i++) {
      const channels = names.filter(() => random() < 0.7);
      const b = body(random, channels);
      assert.deepEqual(Buffer.from(writer.write(b)), avsc.toBuffer(b), JSON.stringify(b));
    }
    const empty = body(random, []);
    assert.deepEqual(Buffer.from(writer.write(empty)), avsc.toBuffer(empty), 'no channels: the empty map');
  });

  it('keeps giving the same bytes past its string cache and for big bodies', () => {
    const random = mulberry32(11);
    const writer = new FeatureWindowAvro();
    for (let i = 0; i < 60; i++) {
      const b = body(random, Array.from({ length: 100 }, (_, k) => `ch${i}-${k}`)); // 6,000 names, beyond the cache
      assert.deepEqual(Buffer.from(writer.write(b)), avsc.toBuffer(b));
    }
  });

  it('returns bytes of their own, not a view of its scratch buffer', () => {
    const random = mulberry32(3);
    const writer = new FeatureWindowAvro();
    const first = writer.write(body(random, ['freq']));
    const copy = Buffer.from(first);
    writer.write(body(random, ['freq', 'VA.mag']));
    assert.deepEqual(Buffer.from(first), copy);
    assert.equal(first.byteOffset, 0);
    assert.equal(first.buffer.byteLength, first.byteLength);
  });

  it('refuses what avsc refuses', () => {
    const random = mulberry32(5);
    const writer = new FeatureWindowAvro();
    const bad: ((b: FeatureWindowBody) => void)[] = [
      (b) => (b.samples = 1.5),
      (b) => (b.window.start = Number.NaN),
      (b) => (b.revision = 2 ** 31),
      (b) => (b.fnom = 50.5),
      (b) => ((b as { complete: unknown }).complete = 1),
      (b) => ((b as { closedBy: unknown }).closedBy = 3),
      (b) => ((b.window as { sizeMs: unknown }).sizeMs = '100'),
      (b) => ((b as { completeness: unknown }).completeness = undefined),
      (b) => ((b.channels.freq as { unit: unknown }).unit = null),
      (b) => ((b.channels.freq as { mean: unknown }).mean = 'x'),
      (b) => (b.missing = 2 ** 53 - 1),
      (b) => (b.duplicates = -(2 ** 53) + 1),
    ];
    for (const [i, spoil] of bad.entries()) {
      const b = body(random, ['freq']);
      spoil(b);
      assert.throws(() => avsc.toBuffer(b), `avsc refuses case ${i}`);
      assert.throws(() => writer.write(b), `and so does the writer, case ${i}`);
    }
  });
});
