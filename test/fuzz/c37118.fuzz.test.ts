// Property tests of the C37.118 codec under a time budget (each property stops after its runs or
// its time limit, whichever comes first). A failure prints fast-check's seed and path; replay it
// with FUZZ_SEED=<seed> (and the path in the message, via fc.assert's `path`).
//
//   (a) any bytes: Framer + StreamDecoder and JsonStreamDecoder never throw, and the framer
//       accounts for every input byte exactly once (frames + garbage = input, in order);
//   (b) the reference vectors with bytes flipped, inserted and deleted: never throw, and every
//       frame no mutation touched still comes out, byte for byte, where it now sits;
//   (c) random configurations (CFG-1/2/3, every FORMAT, names, scales) encode and decode to the
//       same configuration, also through CFG-3 fragments; random data frames decode and encode
//       back to the same bytes; random values survive the CFG-3 scale and rotation within float
//       precision.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NO_CFG3_FIELDS, type ConfigFrame, type PmuConfig } from '../../src/protocols/c37118/cfg-frame.js';
import { FrameType } from '../../src/protocols/c37118/constants.js';
import { crcMatches } from '../../src/protocols/c37118/frame-header.js';
import { DataColumns } from '../../src/protocols/c37118/data-frame.js';
import { JsonStreamDecoder } from '../../src/protocols/c37118/decode-stream.js';
import { encodeCfg12, encodeCfg3, encodeCommand, encodeData, encodeFrame, encodeHeader } from '../../src/protocols/c37118/encoder.js';
import { Framer } from '../../src/protocols/c37118/framer.js';
import { StreamLayout } from '../../src/protocols/c37118/layout.js';
import { StreamDecoder, type Decoded } from '../../src/protocols/c37118/stream-decoder.js';
import {
  analog12,
  analog3,
  assertAccountsFor,
  comparable,
  digitalWord,
  frameChunks,
  frameSpans,
  framesOf,
  loadVectors,
  phasor12,
  phasor3,
  pmuConfig,
  type Out,
} from '../helpers/c37118.js';

const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
/** Runs and wall-clock budget of each property. */
const budget = (numRuns: number, ms = 4000) => ({
  numRuns,
  ...(SEED === undefined ? {} : { seed: SEED }),
  plugins: [fc.interruptAfterTimeLimit(ms)],
});

const vectorFrames = loadVectors().flatMap((v) => framesOf(v.bytes));
const time = { idcode: 7, soc: 1_700_000_000, fracsec: 0 };
const extraFrames = [
  encodeHeader(time, ''),
  encodeCommand(time, 0x0002),
  encodeCommand(time, 0x0008, Buffer.from([1, 2, 3])), // a malformed command: odd extended data
  encodeFrame(FrameType.DATA, { ...time, idcode: 60 }, Buffer.alloc(10)), // stream 60, wrong size
  encodeFrame(FrameType.CFG3, time, Buffer.from([0, 1, 2])), // a first fragment, then nonsense
  encodeFrame(FrameType.HEADER, { ...time, version: 3 }, Buffer.from('v3')),
];
const allFrames = [...vectorFrames, ...extraFrames];

// ── Byte stream arbitraries ───────────────────────────────────────────────────────────────────

/** Bytes that make the framer work: sync bytes, second bytes of every type, small sizes. */
const framingByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0xaa, 0x01, 0x02, 0x11, 0x21, 0x31, 0x41, 0x51, 0x52, 0x61, 0x71, 0x81, 0x00, 0x10, 0xff) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** A header that looks like a frame start with a random FRAMESIZE (often a lie). */
const frameShapedHeader = fc
  .tuple(fc.constantFrom(0x01, 0x02, 0x11, 0x31, 0x41, 0x51, 0x13), fc.integer({ min: 0, max: 0xffff }))
  .map(([second, size]) => Buffer.from([0xaa, second, size >> 8, size & 0xff]));

const piece = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(framingByte, { minLength: 1, maxLength: 32 }).map((b) => Buffer.from(b)),
  frameShapedHeader,
  fc.constantFrom(...allFrames),
);

const byteStream = fc.array(piece, { maxLength: 24 }).map((pieces) => Buffer.concat(pieces));

/** Chunk sizes to cut a stream with (cycled). */
const chunkSizes = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 });

function chunk(stream: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Frame and decode `chunks`; returns the framer's outputs. Throws only if the code under test does. */
function frameAndDecode(chunks: Buffer[]): Out[] {
  const outs = frameChunks(new Framer(), chunks);
  const decoder = new StreamDecoder();
  for (const out of outs) {
    if (out.kind !== 'frame') continue;
    // Every frame the framer admits is whole and CRC-valid.
    assert.equal(out.bytes.readUInt16BE(2), out.bytes.length);
    assert.ok(crcMatches(out.bytes, 0, out.bytes.length));
    const decoded: Decoded = decoder.decode(out.bytes, 0, out.bytes.length);
    assert.ok(['data', 'config', 'header', 'command', 'fragment', 'fault'].includes(decoded.kind));
  }
  return outs;
}

/** JsonStreamDecoder's lines must tile the input: each starts where the previous one ended. */
function assertJsonTiles(stream: Buffer, chunks: Buffer[]): void {
  const decoder = new JsonStreamDecoder();
  const lines = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
  let at = 0;
  for (const line of lines) {
    assert.equal(line.offset, at, `a line at ${line.offset}, expected ${at}`);
    // Garbage lines carry their length; frame lines are as long as their FRAMESIZE.
    at += typeof line['length'] === 'number' ? line['length'] : stream.readUInt16BE(at + 2);
    JSON.stringify(line); // every line serialises
  }
  assert.equal(at, stream.length);
}

// ── Mutations ─────────────────────────────────────────────────────────────────────────────────

type Mutation = { pos: number } & ({ kind: 'flip'; xor: number } | { kind: 'delete' } | { kind: 'insert'; bytes: Buffer });

const mutation = (length: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), pos: fc.integer({ min: 0, max: length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), pos: fc.integer({ min: 0, max: length - 1 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      pos: fc.integer({ min: 0, max: length }),
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)),
        fc.array(framingByte, { minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)),
        frameShapedHeader,
      ),
    }),
  );

/** Apply mutations given in original coordinates, one per position. */
function mutate(stream: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(stream);
  for (const m of [...mutations].sort((a, b) => b.pos - a.pos)) {
    if (m.kind === 'flip') out[m.pos]! ^= m.xor;
    else if (m.kind === 'delete') out = Buffer.concat([out.subarray(0, m.pos), out.subarray(m.pos + 1)]);
    else out = Buffer.concat([out.subarray(0, m.pos), m.bytes, out.subarray(m.pos)]);
  }
  return out;
}

/** Where the byte at original offset `at` now sits (inserts at `at` push it right). */
function shifted(at: number, mutations: Mutation[]): number {
  let to = at;
  for (const m of mutations) {
    if (m.kind === 'insert' && m.pos <= at) to += m.bytes.length;
    if (m.kind === 'delete' && m.pos < at) to -= 1;
  }
  return to;
}

const touches = (m: Mutation, start: number, end: number): boolean =>
  m.kind === 'insert' ? m.pos > start && m.pos < end : m.pos >= start && m.pos < end;

// ── Configuration arbitraries ─────────────────────────────────────────────────────────────────

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const i32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });

/** A CFG-1/2 name: up to 16 Latin-1 characters, without the padding the parser trims. */
const name12 = fc
  .string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789 -_./#éÅ'), maxLength: 16 })
  .map((s) => s.replace(/^ +| +$/gu, ''));

/** A CFG-3 name: well-formed Unicode, at most 255 UTF-8 bytes, empty allowed. */
const name3 = fc.string({ unit: 'grapheme', maxLength: 24 }).filter((s) => Buffer.byteLength(s, 'utf8') <= 255);

const float32 = fc.float();
const finiteNonZero32 = fc.float({ noNaN: true, noDefaultInfinity: true }).filter((x) => x !== 0 && Number.isFinite(x));
const coordinate = fc.option(fc.float({ noNaN: true, noDefaultInfinity: true }), { nil: null });

interface ConfigOptions {
  /** Only scales that make decode → encode the identity (no zero factors, no rotation, M = 1, B = 0). */
  invertible: boolean;
}

function pmuArb(kind: ConfigFrame['kind'], { invertible }: ConfigOptions): fc.Arbitrary<PmuConfig> {
  const cfg3 = kind === 'cfg3';
  const name = cfg3 ? name3 : name12;
  const phunit = invertible ? u32.filter((raw) => (raw & 0xffffff) !== 0) : u32;
  const anunit = invertible ? u32.filter((raw) => (raw & 0xffffff) !== 0) : u32;
  const phasor = cfg3
    ? fc
        .record({
          name,
          unit: fc.constantFrom('V' as const, 'A' as const),
          component: fc.integer({ min: 0, max: 7 }),
          flags: u16,
          user: fc.integer({ min: 0, max: 255 }),
          y: invertible ? finiteNonZero32 : float32,
          thetaRad: invertible ? fc.constant(0) : float32,
        })
        .map(({ name: n, ...opts }) => phasor3(n, opts))
    : fc.tuple(name, phunit).map(([n, raw]) => phasor12(n, raw));
  const analog = cfg3
    ? invertible
      ? name.map((n) => analog3(n))
      : fc.tuple(name, float32, float32).map(([n, m, b]) => analog3(n, m, b))
    : fc.tuple(name, anunit).map(([n, raw]) => analog12(n, raw));
  const digital = fc.tuple(fc.array(name, { minLength: 16, maxLength: 16 }), u16, u16).map(([labels, normal, valid]) => digitalWord(labels, normal, valid));
  return fc
    .record({
      station: name,
      idcode: u16,
      format: fc.integer({ min: 0, max: 15 }),
      phasors: fc.array(phasor, { maxLength: 6 }),
      analogs: fc.array(analog, { maxLength: 4 }),
      digitals: fc.array(digital, { maxLength: 2 }),
      fnom: fc.constantFrom(50 as const, 60 as const),
      cfgcnt: u16,
      globalPmuId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
      latitude: coordinate,
      longitude: coordinate,
      elevation: coordinate,
      serviceClass: fc.constantFrom('M', 'P'),
      windowUs: i32,
      groupDelayUs: i32,
    })
    .map((p) =>
      cfg3
        ? pmuConfig(p)
        : pmuConfig({
            ...p,
            ...NO_CFG3_FIELDS,
          }),
    );
}

const configArb = (options: ConfigOptions, kinds: ConfigFrame['kind'][] = ['cfg1', 'cfg2', 'cfg3']): fc.Arbitrary<ConfigFrame> =>
  fc.constantFrom(...kinds).chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      version: fc.constantFrom(1, 2),
      idcode: u16,
      soc: u32,
      fracsec: u32,
      timeBase: fc.integer({ min: 1, max: 0xffffff }),
      dataRate: fc.integer({ min: -32768, max: 32767 }),
      pmus: fc.array(pmuArb(kind, options), { maxLength: 4 }),
    }),
  );

const encodeConfig = (config: ConfigFrame, maxFrameSize?: number): Buffer[] =>
  config.kind === 'cfg3' ? encodeCfg3(config, maxFrameSize) : [encodeCfg12(config)];

function decodeConfig(frames: Buffer[], decoder = new StreamDecoder()): ConfigFrame {
  let last: Decoded | undefined;
  for (const frame of frames) last = decoder.decode(frame, 0, frame.length);
  assert.equal(last?.kind, 'config', JSON.stringify(last));
  return (last as Extract<Decoded, { kind: 'config' }>).config;
}

/**
 * Random bytes for the body of a data frame under `layout`, made canonical where the codec
 * legitimately normalises: any float NaN becomes the quiet NaN the encoder writes, and a float
 * analog of −0 becomes +0 (X × 1 + 0 = +0).
 */
function canonicalBody(layout: StreamLayout, random: Uint8Array): Buffer {
  const body = Buffer.from(random);
  const nan = (at: number) => {
    if (Number.isNaN(body.readFloatBE(at))) body.writeUInt32BE(0x7fc0_0000, at);
  };
  let at = 0;
  for (let p = 0; p < layout.pmuCount; p++) {
    const format = layout.format[p]!;
    const pmu = layout.config.pmus[p]!;
    at += 2;
    for (let i = 0; i < pmu.phasors.length; i++) {
      if (format & 0x2) {
        nan(at);
        nan(at + 4);
        at += 8;
      } else at += 4;
    }
    if (format & 0x8) {
      nan(at);
      nan(at + 4);
      at += 8;
    } else at += 4;
    for (let i = 0; i < pmu.analogs.length; i++) {
      if (format & 0x4) {
        nan(at);
        if (body.readUInt32BE(at) === 0x8000_0000) body.writeUInt32BE(0, at);
        at += 4;
      } else at += 2;
    }
    at += 2 * pmu.digitals.length;
  }
  assert.equal(at, body.length);
  return body;
}

// ── Properties ────────────────────────────────────────────────────────────────────────────────

describe('C37.118 codec properties (fast-check)', () => {
  it('never throws on arbitrary bytes, and the framer accounts for every byte exactly once', () => {
    fc.assert(
      fc.property(byteStream, chunkSizes, (stream, sizes) => {
        const chunks = chunk(stream, sizes);
        const outs = frameAndDecode(chunks);
        assertAccountsFor(outs, stream);
        assertJsonTiles(stream, chunks);
      }),
      budget(40_000),
    );
  });

  it('never throws on mutated vector streams, and every frame no mutation touched still comes out', () => {
    const base = fc.array(fc.integer({ min: 0, max: vectorFrames.length - 1 }), { minLength: 1, maxLength: 14 }).map((picks) => {
      const frames = picks.map((i) => vectorFrames[i]!);
      return Buffer.concat(frames);
    });
    const arb = base.chain((stream) =>
      fc.tuple(
        fc.constant(stream),
        fc.uniqueArray(mutation(stream.length), { minLength: 1, maxLength: 6, selector: (m) => m.pos }),
        chunkSizes,
      ),
    );
    fc.assert(
      fc.property(arb, ([stream, mutations, sizes]) => {
        const mutated = mutate(stream, mutations);
        const outs = frameAndDecode(chunk(mutated, sizes));
        assertAccountsFor(outs, mutated);
        assertJsonTiles(mutated, chunk(mutated, sizes));
        const frames = outs.filter((o) => o.kind === 'frame');
        const spans = frameSpans(stream);
        const untouched = spans.filter((s) => !mutations.some((m) => touches(m, s.offset, s.offset + s.length)));
        const untouchedStarts = new Set(untouched.map((s) => shifted(s.offset, mutations)));
        for (const span of untouched) {
          const at = shifted(span.offset, mutations);
          const found = frames.find((f) => f.streamOffset === at);
          if (found) {
            assert.ok(found.bytes.equals(stream.subarray(span.offset, span.offset + span.length)), `frame at ${at} changed`);
            continue;
          }
          // The one excuse: damaged bytes that happen to form a CRC-valid frame (a 1 in 65536
          // coincidence per candidate) and overlap this one.
          const spurious = frames.find(
            (f) => !untouchedStarts.has(f.streamOffset) && f.streamOffset < at + span.length && at < f.streamOffset + f.bytes.length,
          );
          assert.ok(spurious, `the untouched frame at ${at} (originally ${span.offset}, ${span.length} bytes) did not come out`);
        }
      }),
      budget(12_000),
    );
  });

  it('round-trips random configurations (CFG-1, CFG-2, CFG-3, every FORMAT) through encoder and decoder', () => {
    fc.assert(
      fc.property(configArb({ invertible: false }), (config) => {
        const decoded = decodeConfig(encodeConfig(config));
        assert.deepEqual(comparable(decoded), comparable(config));
      }),
      budget(12_000),
    );
  });

  it('reassembles random CFG-3 configurations from fragments of random sizes', () => {
    fc.assert(
      fc.property(configArb({ invertible: false }, ['cfg3']), fc.integer({ min: 19, max: 600 }), (config, maxFrameSize) => {
        const fragments = encodeCfg3(config, maxFrameSize);
        for (const f of fragments) assert.ok(f.length <= maxFrameSize);
        const framed = frameChunks(new Framer(), [Buffer.concat(fragments)]);
        assert.ok(framed.every((o) => o.kind === 'frame'));
        assert.deepEqual(comparable(decodeConfig(fragments)), comparable(config));
      }),
      budget(6000),
    );
  });

  it('decodes random data frames under random configurations and encodes them back to the same bytes', () => {
    const arb = configArb({ invertible: true }, ['cfg2', 'cfg3']).chain((config) => {
      const layout = new StreamLayout(config);
      return fc.tuple(fc.constant(config), fc.uint8Array({ minLength: layout.frameSize - 16, maxLength: layout.frameSize - 16 }));
    });
    fc.assert(
      fc.property(arb, ([config, random]) => {
        const decoder = new StreamDecoder();
        decodeConfig(encodeConfig(config), decoder);
        const layout = decoder.layout(config.idcode)!;
        const frameTime = { idcode: config.idcode, soc: config.soc, fracsec: config.fracsec, version: config.version };
        const frame = encodeFrame(FrameType.DATA, frameTime, canonicalBody(layout, random));
        const decoded = decoder.decode(frame, 0, frame.length);
        assert.equal(decoded.kind, 'data', JSON.stringify(decoded));
        const again = encodeData((decoded as Extract<Decoded, { kind: 'data' }>).columns, frameTime);
        assert.equal(again.toString('hex'), frame.toString('hex'));
      }),
      budget(12_000),
    );
  });

  it('carries random float values through CFG-3 scale, rotation and ANSCALE within float precision', () => {
    const scale = fc.float({ min: Math.fround(1e-3), max: Math.fround(1e3), noNaN: true });
    const theta = fc.float({ min: Math.fround(-Math.PI), max: Math.fround(Math.PI), noNaN: true });
    const value = fc.float({ min: Math.fround(-1e6), max: Math.fround(1e6), noNaN: true });
    const arb = fc.record({
      format: fc.constantFrom(0x6, 0x7, 0xe, 0xf),
      phasors: fc.array(fc.record({ y: scale, thetaRad: theta, a: value, b: value }), { minLength: 1, maxLength: 4 }),
      analogs: fc.array(fc.record({ m: scale, b: value, x: value }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ format, phasors, analogs }) => {
        const polar = (format & 1) !== 0;
        const config: ConfigFrame = {
          kind: 'cfg3',
          version: 2,
          idcode: 9,
          soc: 0,
          fracsec: 0,
          timeBase: 1_000_000,
          dataRate: 50,
          pmus: [
            pmuConfig({
              idcode: 9,
              format,
              phasors: phasors.map((p, i) => phasor3(`P${i}`, { y: p.y, thetaRad: p.thetaRad })),
              analogs: analogs.map((a, i) => analog3(`A${i}`, a.m, a.b)),
            }),
          ],
        };
        const decoder = new StreamDecoder();
        decodeConfig(encodeCfg3(config), decoder);
        const columns = new DataColumns(decoder.layout(9)!);
        phasors.forEach((p, i) => {
          // Polar angles stay within a turn so that "close" needs no folding.
          columns.phasorA[i] = polar ? Math.abs(p.a) : p.a;
          columns.phasorB[i] = polar ? p.thetaRad / 2 : p.b;
        });
        analogs.forEach((a, i) => (columns.analog[i] = a.x));
        columns.freq[0] = 50;
        const sentA = [...columns.phasorA];
        const sentB = [...columns.phasorB];
        const sentAnalog = [...columns.analog];
        const frame = encodeData(columns, { idcode: 9, soc: 0, fracsec: 0 });
        const got = (decoder.decode(frame, 0, frame.length) as Extract<Decoded, { kind: 'data' }>).columns;
        phasors.forEach((_, i) => {
          const size = Math.hypot(sentA[i]!, sentB[i]!) + 1e-30;
          const tolerance = polar ? 1e-6 * Math.max(1, Math.abs(sentA[i]!)) : 1e-6 * size;
          assert.ok(Math.abs(got.phasorA[i]! - sentA[i]!) <= tolerance, `phasor ${i} A ${got.phasorA[i]} vs ${sentA[i]}`);
          const toleranceB = polar ? 1e-5 : 1e-6 * size;
          assert.ok(Math.abs(got.phasorB[i]! - sentB[i]!) <= toleranceB, `phasor ${i} B ${got.phasorB[i]} vs ${sentB[i]}`);
        });
        analogs.forEach((a, i) => {
          const tolerance = 1e-6 * (Math.abs(sentAnalog[i]!) + Math.abs(a.b) + 1);
          assert.ok(Math.abs(got.analog[i]! - sentAnalog[i]!) <= tolerance, `analog ${i} ${got.analog[i]} vs ${sentAnalog[i]}`);
        });
      }),
      budget(20_000),
    );
  });
});
