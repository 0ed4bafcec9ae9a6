// CFG-3 (C37.118.2-2011 Table 11): CONT_IDX, length-prefixed UTF-8 names, PHSCALE, ANSCALE,
// position and filter fields, and fragments (notes/c37118.md 20–24).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameType } from '../../../../src/protocols/c37118/constants.js';
import { encodeCfg3, encodeFrame } from '../../../../src/protocols/c37118/encoder.js';
import { Framer } from '../../../../src/protocols/c37118/framer.js';
import { configJson, dataJson } from '../../../../src/protocols/c37118/json.js';
import { StreamDecoder, type Decoded } from '../../../../src/protocols/c37118/stream-decoder.js';
import {
  analog3,
  assertClose,
  assertFault,
  comparable,
  configFrame,
  configOf,
  decodeFrame,
  digitalWord,
  drain,
  f32,
  i16,
  i32,
  name3,
  phasor3,
  pmuConfig3,
  u16,
  u32,
} from '../../../helpers/c37118.js';

const TIME = { idcode: 60, soc: 1_700_000_000, fracsec: 0 };

describe('C37.118 CFG-3', () => {
  /** Table 11, written out field by field: one PMU, int rectangular, 1 phasor, 1 analog, 1 digital word. */
  function handWrittenCfg3(): Buffer {
    const body = Buffer.concat([
      u16(0), // CONT_IDX: the only frame
      u32(0x00_0f4240), // TIME_BASE, two bytes later than in CFG-2
      u16(1), // NUM_PMU
      name3('Zürich Ost'),
      u16(61),
      Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'), // G_PMU_ID
      u16(0x0000), // FORMAT
      u16(1),
      u16(1),
      u16(1),
      name3('VA'),
      name3('ÅNLG'),
      name3('BRK'),
      ...Array.from({ length: 15 }, () => name3('')),
      u32((0x0002 << 16) | (0x01 << 8) | 0x07), // PHSCALE flags, type (voltage, phase A), user byte
      f32(2),
      f32(0.5),
      f32(0.5), // ANSCALE M
      f32(10), // ANSCALE B
      u16(0x0001),
      u16(0x00ff), // DIGUNIT
      f32(Infinity), // PMU_LAT: unspecified
      f32(-122.25), // PMU_LON
      f32(Infinity), // PMU_ELEV: unspecified
      Buffer.from('P'),
      i32(-20_000), // WINDOW µs
      i32(-2_147_483_648), // GRP_DLY µs
      u16(1), // FNOM: 50 Hz
      u16(7), // CFGCNT
      i16(-5), // DATA_RATE
    ]);
    return encodeFrame(FrameType.CFG3, TIME, body);
  }

  it('parses a hand-written CFG-3, CONT_IDX shifting TIME_BASE two bytes, with length-prefixed UTF-8 names', () => {
    const frame = handWrittenCfg3();
    assert.equal(frame[1], 0x52, 'SYNC 0xAA52');
    const config = configOf(decodeFrame(frame));
    assert.equal(config.kind, 'cfg3');
    assert.equal(config.timeBase, 1_000_000);
    assert.equal(config.dataRate, -5);
    const pmu = config.pmus[0]!;
    assert.equal(pmu.station, 'Zürich Ost');
    assert.equal(pmu.idcode, 61);
    assert.equal(pmu.globalPmuId, '000102030405060708090a0b0c0d0e0f');
    assert.equal(pmu.phasors[0]!.name, 'VA');
    assert.equal(pmu.analogs[0]!.name, 'ÅNLG');
    assert.deepEqual(pmu.digitals[0]!.labels, ['BRK', ...Array<string>(15).fill('')]);
    assert.deepEqual(pmu.digitals[0]!.normal, 1);
    assert.deepEqual(pmu.digitals[0]!.valid, 0xff);
    const ph = pmu.phasors[0]!;
    assert.deepEqual([ph.unit, ph.component, ph.modificationFlags, ph.magnitudeScale, ph.angleOffsetRad], ['V', 1, 2, 2, 0.5]);
    assert.deepEqual([pmu.analogs[0]!.scale, pmu.analogs[0]!.offset], [0.5, 10]);
    assert.deepEqual([pmu.latitude, pmu.longitude, pmu.elevation], [null, -122.25, null]);
    assert.equal(pmu.serviceClass, 'P');
    assert.equal(pmu.windowUs, -20_000);
    assert.equal(pmu.groupDelayUs, -2_147_483_648);
    assert.equal(pmu.fnom, 50);
    assert.equal(pmu.cfgcnt, 7);
    const json = configJson(config) as { pmus: Record<string, unknown>[] };
    assert.equal(json.pmus[0]!['latitude'], null);
    assert.match(JSON.stringify(json), /"elevation":null/);
  });

  it('writes name lengths in bytes, not characters, and takes empty and non-ASCII names', () => {
    const names = ['', 'Zürich Ost', '北京 变电站', 'emoji 🔌', 'x'.repeat(255)];
    const config = configFrame({
      kind: 'cfg3',
      pmus: [
        pmuConfig3({
          station: names[1]!,
          phasors: names.map((n) => phasor3(n)),
          digitals: [digitalWord(names)],
        }),
      ],
    });
    const [frame] = encodeCfg3(config);
    // STN sits after CONT_IDX, TIME_BASE and NUM_PMU: 14 + 2 + 4 + 2.
    assert.equal(frame![22], Buffer.byteLength('Zürich Ost'));
    assert.equal(frame!.toString('utf8', 23, 23 + 11), 'Zürich Ost');
    const pmu = configOf(decodeFrame(frame!)).pmus[0]!;
    assert.deepEqual(
      pmu.phasors.map((p) => p.name),
      names,
    );
    assert.deepEqual(pmu.digitals[0]!.labels.slice(0, 5), names);
  });

  it('applies PHSCALE Y and θ to integer and float phasors, rotating rectangular data by −θ', () => {
    const y = 2;
    const theta = 0.5;
    const pmu = (idcode: number, format: number) =>
      pmuConfig3({ idcode, format, fnom: 50, phasors: [phasor3('X', { y, thetaRad: theta })], analogs: [analog3('A', 0.5, 10)] });
    const config = configFrame({ kind: 'cfg3', idcode: 60, pmus: [pmu(1, 0x0), pmu(2, 0x1), pmu(3, 0x6), pmu(4, 0x7)] });
    const decoder = new StreamDecoder();
    configOf(decodeFrame(encodeCfg3(config)[0]!, decoder));
    const data = encodeFrame(
      FrameType.DATA,
      TIME,
      Buffer.concat([
        // int rectangular (1000, 0); int analog 100
        ...[u16(0), i16(1000), i16(0), i16(0), i16(0), i16(100)],
        // int polar: magnitude 1000, angle 1 rad; int analog 100
        ...[u16(0), u16(1000), i16(10_000), i16(0), i16(0), i16(100)],
        // float rectangular (3, 4); float analog 2.5
        ...[u16(0), f32(3), f32(4), i16(0), i16(0), f32(2.5)],
        // float polar: 10 at 0.2 rad; float analog 2.5
        ...[u16(0), f32(10), f32(0.2), i16(0), i16(0), f32(2.5)],
      ]),
    );
    const decoded = decodeFrame(data, decoder);
    assert.equal(decoded.kind, 'data', JSON.stringify(decoded));
    const columns = (decoded as Extract<Decoded, { kind: 'data' }>).columns;
    // X · Y · e^(−jθ)
    const rotate = (re: number, im: number): [number, number] => [
      y * (re * Math.cos(theta) + im * Math.sin(theta)),
      y * (im * Math.cos(theta) - re * Math.sin(theta)),
    ];
    const [re1, im1] = rotate(1000, 0);
    assertClose(columns.phasorA[0], re1, 'int rectangular re');
    assertClose(columns.phasorB[0], im1, 'int rectangular im');
    assertClose(columns.phasorA[1], 2000, 'int polar magnitude');
    assertClose(columns.phasorB[1], 1 - theta, 'int polar angle');
    const [re3, im3] = rotate(3, 4);
    assertClose(columns.phasorA[2], re3, 'float rectangular re', 1e-6);
    assertClose(columns.phasorB[2], im3, 'float rectangular im', 1e-6);
    assertClose(columns.phasorA[3], 20, 'float polar magnitude');
    assertClose(columns.phasorB[3], Math.fround(0.2) - theta, 'float polar angle');
    const json = dataJson(columns);
    assertClose(json[2]!.phasors[0]!.magnitude, 10, 'float rectangular |X·Y|', 1e-6);
    assertClose(json[2]!.phasors[0]!.angleRad, Math.atan2(4, 3) - theta, 'float rectangular angle', 1e-6);
    // ANSCALE: M × X + B for integer and float analogs.
    assert.deepEqual([...columns.analog], [60, 60, 11.25, 11.25]);
  });

  it('does not apply PHUNIT-style × 10^-5 scaling to CFG-3 integer phasors', () => {
    const config = configFrame({ kind: 'cfg3', idcode: 60, pmus: [pmuConfig3({ format: 0, phasors: [phasor3('X')] })] });
    const decoder = new StreamDecoder();
    configOf(decodeFrame(encodeCfg3(config)[0]!, decoder));
    const decoded = decodeFrame(encodeFrame(FrameType.DATA, TIME, Buffer.concat([u16(0), i16(1234), i16(-5), i16(0), i16(0)])), decoder);
    const columns = (decoded as Extract<Decoded, { kind: 'data' }>).columns;
    assert.deepEqual([columns.phasorA[0], columns.phasorB[0]], [1234, -5]);
  });

  it('round-trips every CFG-3 field through the encoder', () => {
    const config = configFrame({
      kind: 'cfg3',
      idcode: 4000,
      timeBase: 0xffffff,
      dataRate: -60,
      pmus: [
        pmuConfig3({
          station: 'Bus 1 — Nord',
          idcode: 1,
          format: 0x5,
          fnom: 50,
          cfgcnt: 3,
          globalPmuId: 'fedcba98765432100123456789abcdef',
          phasors: [phasor3('VA', { y: 1.5, thetaRad: -0.25, component: 1, flags: 0x8001, user: 9 }), phasor3('IA', { unit: 'A', component: 7 })],
          analogs: [analog3('MW', 0.001, -5)],
          digitals: [digitalWord(['a', 'b'], 0x0f0f, 0x00ff)],
          latitude: Math.fround(46.5),
          longitude: Math.fround(-122.25),
          elevation: null,
          serviceClass: 'P',
          windowUs: -1,
          groupDelayUs: 2_147_483_647,
        }),
        pmuConfig3({ station: '', idcode: 2, format: 0xa, latitude: null, longitude: null, elevation: Math.fround(-10.5) }),
      ],
    });
    const parsed = configOf(decodeFrame(encodeCfg3(config)[0]!));
    assert.deepEqual(comparable(parsed), comparable(config));
  });

  describe('fragments (CONT_IDX)', () => {
    const big = configFrame({
      kind: 'cfg3',
      idcode: 70,
      pmus: [1, 2, 3].map((p) =>
        pmuConfig3({
          station: `PMU ${p}`,
          idcode: p,
          format: 0x2,
          phasors: Array.from({ length: 10 }, (_, i) => phasor3(`PMU${p} phasor ${i}`, { y: 1 + i / 8 })),
          digitals: [digitalWord(['x', 'y', 'z'])],
        }),
      ),
    });

    it('splits a CFG-3 larger than maxFrameSize into CONT_IDX 1, 2, … 0xFFFF, each frame CRC-valid', () => {
      const fragments = encodeCfg3(big, 200);
      assert.ok(fragments.length >= 4, `${fragments.length} fragments`);
      const indexes = fragments.map((f) => f.readUInt16BE(14));
      assert.deepEqual(indexes, [...Array.from({ length: fragments.length - 1 }, (_, i) => i + 1), 0xffff]);
      for (const f of fragments) assert.ok(f.length <= 200);
      const framer = new Framer();
      framer.push(Buffer.concat(fragments));
      assert.deepEqual(
        drain(framer).map((o) => o.kind),
        fragments.map(() => 'frame'),
      );
    });

    it('reassembles the fragments into the same configuration as one whole frame', () => {
      const decoder = new StreamDecoder();
      const fragments = encodeCfg3(big, 200);
      const results = fragments.map((f) => decodeFrame(f, decoder));
      assert.deepEqual(
        results.slice(0, -1).map((r) => [r.kind, (r as { contIdx?: number }).contIdx]),
        fragments.slice(0, -1).map((_, i) => ['fragment', i + 1]),
      );
      const whole = configOf(decodeFrame(encodeCfg3(big)[0]!));
      const last = results.at(-1)!;
      assert.deepEqual(configOf(last), whole);
      assert.deepEqual(comparable(whole), comparable(big));
      assert.equal((last as { active?: boolean }).active, true);
      assert.ok(decoder.layout(70));
    });

    it('reports fragments out of order as cfg3-fragment, activates nothing, then takes a complete sequence', () => {
      const fragments = encodeCfg3(big, 200);
      const decoder = new StreamDecoder();
      const order = [0, 2, 1, ...fragments.slice(3).map((_, i) => i + 3)];
      const results = order.map((i) => decodeFrame(fragments[i]!, decoder));
      assert.equal(results[0]!.kind, 'fragment');
      assertFault(results[1]!, 'cfg3-fragment', 'CONT_IDX 3 after 1');
      for (const r of results.slice(2)) assert.equal(r.kind, 'fault', JSON.stringify(r));
      assert.equal(decoder.layout(70), undefined);
      const again = fragments.map((f) => decodeFrame(f, decoder));
      assert.equal(again.at(-1)!.kind, 'config');
    });

    it('never activates a configuration with a fragment missing', () => {
      const fragments = encodeCfg3(big, 200);
      for (let lost = 0; lost < fragments.length; lost++) {
        const decoder = new StreamDecoder();
        const results = fragments.filter((_, i) => i !== lost).map((f) => decodeFrame(f, decoder));
        assert.ok(
          results.every((r) => r.kind !== 'config'),
          `fragment ${lost} lost: ${JSON.stringify(results.map((r) => r.kind))}`,
        );
        assert.equal(decoder.layout(70), undefined);
      }
    });

    it('reports a continuation with no first fragment as cfg3-fragment', () => {
      const fragments = encodeCfg3(big, 200);
      assertFault(decodeFrame(fragments[1]!), 'cfg3-fragment', 'CONT_IDX 2 first');
      assertFault(decodeFrame(fragments.at(-1)!), 'cfg3-fragment', 'CONT_IDX 0xFFFF first');
    });

    it('reassembles the fragments of two streams interleaved, keyed by stream IDCODE', () => {
      const other = { ...big, idcode: 71 };
      const a = encodeCfg3(big, 200);
      const b = encodeCfg3(other, 200);
      const decoder = new StreamDecoder();
      const results: Decoded[] = [];
      for (let i = 0; i < a.length; i++) results.push(decodeFrame(a[i]!, decoder), decodeFrame(b[i]!, decoder));
      assert.deepEqual(
        results.slice(-2).map((r) => [r.kind, r.idcode]),
        [
          ['config', 70],
          ['config', 71],
        ],
      );
    });
  });
});
