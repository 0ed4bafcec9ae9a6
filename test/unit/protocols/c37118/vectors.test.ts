// The reference vectors (test/fixtures/c37118, README.md there): real captures and the standard's
// Annex D, decoded both through decodeAll (the JSON the decode tool prints) and through the
// StreamDecoder's columns, against the values in each *.expected.json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAll, type DecodeLine } from '../../../../src/protocols/c37118/decode-stream.js';
import { Framer } from '../../../../src/protocols/c37118/framer.js';
import type { PmuDataJson } from '../../../../src/protocols/c37118/json.js';
import { StreamDecoder, type Decoded } from '../../../../src/protocols/c37118/stream-decoder.js';
import {
  angleDiff,
  assertClose,
  loadVector,
  VECTOR_NAMES,
  type ExpectedFrame,
  type ExpectedPhasor,
  type ExpectedPmu,
} from '../../../helpers/c37118.js';

// Float values in expected.json were read as float32 and written as decimals (relay_float's to 4
// places: its 0.0032 is 0.0032087 on the wire), hence a small absolute part beside the relative one.
const REL = 1e-5;
const ABS = 1e-5;

interface PmuConfigJson {
  station: string;
  idcode: number;
  fnom: number;
  cfgcnt: number;
  phasors: { name: string }[];
}

const asPmuData = (line: DecodeLine): PmuDataJson[] => line['pmus'] as PmuDataJson[];
const asPmuConfig = (line: DecodeLine): PmuConfigJson[] => line['pmus'] as PmuConfigJson[];
const timeOf = (line: DecodeLine): { epoch: number; epochNs: string; iso: string } =>
  line['time'] as { epoch: number; epochNs: string; iso: string };

function assertPhasorNames(got: string[], want: string[], what: string): void {
  // four_pmu_tcp.expected.json lists only some of PMU2–4's 14 phasor names: then each listed name
  // must be there, in order.
  if (got.length === want.length) {
    assert.deepEqual(got, want, what);
    return;
  }
  let from = 0;
  for (const name of want) {
    const at = got.indexOf(name, from);
    assert.ok(at >= 0, `${what}: ${name} not among ${got.join(', ')} (after index ${from})`);
    from = at + 1;
  }
}

function assertPhasorValue(got: { magnitude: number | null; angleRad: number | null; re: number | null; im: number | null }, want: ExpectedPhasor, what: string): void {
  assertClose(got.magnitude, want.magnitude, `${what} magnitude`, REL, ABS);
  // re and im carry the error of the magnitude and of the angle times the magnitude.
  const componentAbs = ABS + 2e-5 * want.magnitude;
  assertClose(got.re, want.re, `${what} re`, REL, componentAbs);
  assertClose(got.im, want.im, `${what} im`, REL, componentAbs);
  if (want.magnitude > 1e-3) {
    assert.ok(Math.abs(angleDiff(got.angleRad!, want.angle_rad)) <= 1e-5, `${what} angle ${got.angleRad} vs ${want.angle_rad}`);
  }
}

function assertConfigLine(line: DecodeLine, want: ExpectedFrame, what: string): void {
  assert.equal(line['timeBase'], want.time_base, `${what} TIME_BASE`);
  assert.equal(line['dataRate'], want.data_rate, `${what} DATA_RATE`);
  const pmus = asPmuConfig(line);
  assert.equal(pmus.length, want.pmus!.length, `${what} NUM_PMU`);
  want.pmus!.forEach((pmu, p) => {
    const got = pmus[p]!;
    const at = `${what} PMU ${p}`;
    assert.equal(got.station, pmu.stn, `${at} STN`);
    assert.equal(got.idcode, pmu.idcode, `${at} IDCODE`);
    assert.equal(got.fnom, pmu.fnom, `${at} FNOM`);
    assert.equal(got.cfgcnt, pmu.cfgcnt, `${at} CFGCNT`);
    assertPhasorNames(
      got.phasors.map((ph) => ph.name),
      pmu.phasors as string[],
      `${at} phasor names`,
    );
  });
}

function assertDataLine(line: DecodeLine, want: ExpectedFrame, what: string): void {
  const time = timeOf(line);
  // A double holds epoch seconds to ~0.2 µs; the expected value is the exact ratio.
  assert.ok(Math.abs(time.epoch - want.time!) < 1e-6, `${what} time ${time.epoch} vs ${want.time}`);
  const ns = BigInt(time.epochNs);
  const wantNs = BigInt(Math.round(want.time! * 1e6)) * 1000n;
  assert.ok(ns - wantNs < 1000n && wantNs - ns < 1000n, `${what} epochNs ${ns} vs ${wantNs}`);
  const pmus = asPmuData(line);
  assert.equal(pmus.length, want.pmus!.length, `${what} PMU blocks`);
  want.pmus!.forEach((pmu: ExpectedPmu, p) => {
    const got = pmus[p]!;
    const at = `${what} PMU ${pmu.idcode}`;
    assert.equal(got.idcode, pmu.idcode, `${at} IDCODE`);
    assertClose(got.freq, pmu.freq!, `${at} FREQ`, REL, ABS);
    assertClose(got.rocof, pmu.rocof!, `${at} DFREQ`, REL, ABS);
    if (pmu.stat !== undefined) assert.equal(got.stat.raw, pmu.stat, `${at} STAT`);
    const phasors = pmu.phasors as ExpectedPhasor[];
    // four_pmu_tcp lists only the first phasor of PMUs 2–4: compare what is listed, in order.
    assert.ok(got.phasors.length >= phasors.length, `${at}: ${got.phasors.length} phasors`);
    phasors.forEach((ph, k) => assertPhasorValue(got.phasors[k]!, ph, `${at} phasor ${k}`));
    if (pmu.analogs && pmu.analogs.length > 0) {
      assert.equal(got.analogs.length, pmu.analogs.length, `${at} ANNMR`);
      pmu.analogs.forEach((an, k) => assertClose(got.analogs[k]!.value, an.value, `${at} analog ${k}`, REL, ABS));
    }
    assert.deepEqual(
      got.digitals.map((d) => d.word),
      pmu.digitals,
      `${at} digital words`,
    );
  });
}

function assertLines(name: string, lines: DecodeLine[], expected: ExpectedFrame[]): void {
  assert.deepEqual(
    lines.map((l) => l.type),
    expected.map((e) => e.type),
    `${name}: frame types (an 'error' line is a fault or garbage)`,
  );
  expected.forEach((want, i) => {
    const line = lines[i]!;
    const what = `${name} frame ${i} (${want.type} at byte ${line.offset})`;
    assert.equal(line['idcode'], want.idcode, `${what} IDCODE`);
    switch (want.type) {
      case 'command':
        assert.equal(line['command'], want.command, `${what} CMD`);
        break;
      case 'header':
        assert.equal(line['text'], want.text, `${what} text`);
        break;
      case 'cfg1':
      case 'cfg2':
      case 'cfg3':
        assertConfigLine(line, want, what);
        break;
      case 'data':
        assertDataLine(line, want, what);
        break;
    }
  });
}

/** Frame by frame through Framer + StreamDecoder, copying what the reused objects hold. */
function decodeColumns(bytes: Buffer): { decoded: Decoded; eventTimeUs: number; freq: number[]; a: number[]; b: number[]; digital: number[] }[] {
  const framer = new Framer();
  const decoder = new StreamDecoder();
  framer.push(bytes);
  const results = [];
  for (let out = framer.flush(); out.kind !== 'none'; out = framer.flush()) {
    assert.equal(out.kind, 'frame', `garbage (${out.reason}) at ${out.streamOffset}`);
    const decoded = decoder.decode(out.buf, out.offset, out.length);
    if (decoded.kind === 'data') {
      const c = decoded.columns;
      results.push({ decoded, eventTimeUs: c.eventTimeUs, freq: [...c.freq], a: [...c.phasorA], b: [...c.phasorB], digital: [...c.digital] });
    } else {
      results.push({ decoded, eventTimeUs: NaN, freq: [], a: [], b: [], digital: [] });
    }
  }
  return results;
}

const KIND_OF_TYPE: Record<ExpectedFrame['type'], Decoded['kind']> = {
  command: 'command',
  header: 'header',
  cfg1: 'config',
  cfg2: 'config',
  cfg3: 'config',
  data: 'data',
};

describe('C37.118 reference vectors', () => {
  it('has the five vectors the README lists, copied into the repository', () => {
    for (const name of ['annex_d', 'blue_pmu_tcp', 'udp_polar_pmu', 'relay_float', 'four_pmu_tcp']) {
      assert.ok(VECTOR_NAMES.includes(name), `${name} is missing from test/fixtures/c37118`);
    }
  });

  for (const name of VECTOR_NAMES) {
    it(`decodes ${name} with decodeAll to every value in its expected.json`, () => {
      const { bytes, expected } = loadVector(name);
      assertLines(name, decodeAll(bytes), expected);
    });

    it(`decodes ${name} through Framer and StreamDecoder to the expected kinds, IDCODEs, times and values`, () => {
      const { bytes, expected } = loadVector(name);
      const results = decodeColumns(bytes);
      assert.deepEqual(
        results.map((r) => r.decoded.kind),
        expected.map((e) => KIND_OF_TYPE[e.type]),
      );
      expected.forEach((want, i) => {
        const r = results[i]!;
        assert.equal(r.decoded.idcode, want.idcode);
        if (r.decoded.kind === 'config') {
          assert.equal(r.decoded.active, want.type !== 'cfg1');
          assert.equal(r.decoded.config.kind, want.type);
          assert.equal(r.decoded.config.timeBase, want.time_base);
          assert.equal(r.decoded.config.dataRate, want.data_rate);
          assert.deepEqual(
            r.decoded.config.pmus.map((p) => [p.station, p.idcode, p.fnom, p.cfgcnt]),
            want.pmus!.map((p) => [p.stn, p.idcode, p.fnom, p.cfgcnt]),
          );
        }
        if (r.decoded.kind === 'data') {
          // eventTimeUs: integer microseconds, the fraction rounded.
          assert.equal(r.eventTimeUs, Math.round(want.time! * 1e6), `${name} eventTimeUs`);
          const layout = r.decoded.columns.layout;
          want.pmus!.forEach((pmu, p) => {
            assertClose(r.freq[p], pmu.freq!, `${name} FREQ column`, REL, ABS);
            const polar = r.decoded.kind === 'data' && r.decoded.columns.polar(p);
            (pmu.phasors as ExpectedPhasor[]).forEach((ph, k) => {
              const j = layout.phasorStart[p]! + k;
              const [wa, wb] = polar ? [ph.magnitude, ph.angle_rad] : [ph.re, ph.im];
              assertClose(r.a[j], wa, `${name} phasorA[${j}]`, REL, ABS + 2e-5 * ph.magnitude);
              assertClose(r.b[j], wb, `${name} phasorB[${j}]`, REL, ABS + 2e-5 * ph.magnitude);
            });
            assert.deepEqual(r.digital.slice(layout.digitalStart[p]!, layout.digitalStart[p + 1]!), pmu.digitals);
          });
        }
        if (r.decoded.kind === 'command') assert.equal(r.decoded.command.command, want.command);
        if (r.decoded.kind === 'header') assert.equal(r.decoded.text, want.text);
      });
    });
  }

  describe('what each vector exercises', () => {
    const lines = (name: string): DecodeLine[] => decodeAll(loadVector(name).bytes);

    it('annex_d: a version-1 CFG-2 with integer rectangular phasors scaled by PHUNIT, float analogs and a data-on command', () => {
      const [cfg, data, cmd] = lines('annex_d');
      const pmu = asPmuConfig(cfg!)[0]! as unknown as Omit<PmuConfigJson, 'phasors'> & {
        format: { raw: number };
        phasors: { name: string; unit: string; phunit: number; factor: number }[];
        analogs: { type: string; factor: number }[];
        digitals: { labels: string[]; normal: number; valid: number }[];
      };
      assert.equal(pmu.format.raw, 0x0004);
      assert.deepEqual(
        pmu.phasors.map((p) => p.unit),
        ['V', 'V', 'V', 'A'],
      );
      assertClose(pmu.phasors[0]!.factor, 9.15527, 'PHUNIT 915527 × 10^-5');
      assertClose(pmu.phasors[3]!.factor, 0.45776, 'PHUNIT 45776 × 10^-5');
      assert.deepEqual(
        pmu.analogs.map((a) => a.type),
        ['pow', 'rms', 'peak'],
      );
      assert.equal(pmu.digitals[0]!.labels[0], 'BREAKER 1 STATUS');
      assert.equal(pmu.digitals[0]!.valid, 0xffff);
      assert.equal(timeOf(data!).iso, '2006-06-06T08:00:00.016817000Z', 'trust the bytes, not the prose of Annex D');
      assert.equal(cmd!['commandName'], 'data-on');
    });

    it('blue_pmu_tcp: a command with SOC = 0 is a real time, and TIME_BASE 0xFFFFFF gives exact nanoseconds', () => {
      const [cmd, cfg, data1, data2] = lines('blue_pmu_tcp');
      assert.equal(timeOf(cmd!).epoch, 0);
      assert.equal(timeOf(cmd!).iso, '1970-01-01T00:00:00.000000000Z');
      assert.equal(cmd!['commandName'], 'send-cfg2');
      assert.equal(cfg!['timeBase'], 0xffffff);
      // 2013266 / 16777215 s = 120 000 011.92… ns; 2348810 / 16777215 s = 139 999 994.04… ns.
      assert.equal(timeOf(data1!).epochNs, '1217606730120000012');
      assert.equal(timeOf(data2!).epochNs, '1217606730139999994');
      const stat = asPmuData(data1!)[0]!.stat;
      assert.equal(stat.trigger, true);
      assert.deepEqual(asPmuData(data1!)[0]!.quality, { level: 'good', reasons: ['trigger'] });
    });

    it('udp_polar_pmu: the stream IDCODE (60) keys the configuration, not the PMU IDCODE (61)', () => {
      const { bytes } = loadVector('udp_polar_pmu');
      const decoder = new StreamDecoder();
      const framer = new Framer();
      framer.push(bytes);
      const kinds: string[] = [];
      for (let out = framer.flush(); out.kind !== 'none'; out = framer.flush()) kinds.push(decoder.decode(out.buf, out.offset, out.length).kind);
      assert.deepEqual(kinds, ['config', 'data']);
      assert.ok(decoder.layout(60));
      assert.equal(decoder.layout(61), undefined);
      assert.equal(decoder.layout(60)!.pmuIndex(61), 0);
      const pmu = asPmuData(lines('udp_polar_pmu')[1]!)[0]!;
      assert.equal(pmu.idcode, 61);
    });

    it('relay_float: a 16-byte header frame, float FREQ/DFREQ, STAT 0x21F0 with a failed clock, and blank digital labels', () => {
      const [header, cfg, data] = lines('relay_float');
      assert.equal(header!['text'], '');
      const digitals = (asPmuConfig(cfg!)[0]! as unknown as { digitals: { labels: string[]; valid: number }[] }).digitals;
      assert.equal(digitals.length, 3);
      assert.deepEqual(digitals[0]!.labels.slice(8), ['IN9', 'IN10', '', '', '', '', '', '']);
      assert.equal(digitals[2]!.valid, 0x000f);
      const pmu = asPmuData(data!)[0]!;
      assert.equal(pmu.stat.raw, 0x21f0);
      assert.equal(pmu.stat.pmuSync, false);
      assert.equal(pmu.stat.unlockedTime, 'gt-1000s');
      assert.equal(pmu.stat.pmuTimeQuality, 'gt-10ms-or-unknown');
      const quality = (timeOf(data!) as unknown as { quality: { code: number; clockFailure: boolean } }).quality;
      assert.equal(quality.code, 0xf);
      assert.equal(quality.clockFailure, true);
      assert.deepEqual(pmu.quality, { level: 'bad', reasons: ['clock_failure', 'sync_lost', 'time_unlocked'] });
      // Alarms: word 0x000D against normal 0 and valid 0x000F.
      assert.equal(pmu.digitals[2]!.alarms, 0x000d);
    });

    it('four_pmu_tcp: four PMU blocks, user-defined ANUNIT types kept, integer FREQ as a deviation from FNOM', () => {
      const [cfg, data] = lines('four_pmu_tcp');
      const pmus = asPmuConfig(cfg!) as (PmuConfigJson & { analogs: { type: string; anunit: number }[] })[];
      assert.deepEqual(
        pmus.map((p) => p.phasors.length),
        [3, 14, 14, 14],
      );
      assert.deepEqual(
        pmus.map((p) => p.analogs.length),
        [0, 8, 4, 0],
      );
      assert.deepEqual(
        pmus[1]!.analogs.map((a) => a.type),
        ['user-70', 'user-70', 'user-70', 'user-70', 'user-66', 'user-66', 'user-66', 'user-66'],
      );
      assert.equal(pmus[1]!.analogs[0]!.anunit >>> 24, 70);
      const blocks = asPmuData(data!);
      // FREQ raw 0x3CB0 = 15536 mHz above FNOM 50 Hz.
      assert.deepEqual(
        blocks.map((b) => b.freq),
        [50, 65.536, 65.536, 65.536],
      );
      assert.deepEqual(
        blocks.map((b) => b.phasors.length),
        [3, 14, 14, 14],
      );
      for (const block of blocks.slice(1)) for (const ph of block.phasors) assert.equal(ph.magnitude, 0);
    });
  });

  it("reads each frame's own time quality byte: Annex D's CFG-2 has a leap second pending, its data frame not", () => {
    // The CFG-2's FRACSEC carries time quality 0x56 (leap pending, delete, code 6); the data
    // frame's is 0: each frame's time quality is its own.
    const [cfg, data] = decodeAll(loadVector('annex_d').bytes);
    const q = (line: DecodeLine) => (line['time'] as { quality: { code: number; leapSecondPending: boolean } }).quality;
    assert.equal(q(cfg!).code, 6);
    assert.equal(q(cfg!).leapSecondPending, true);
    assert.equal(q(data!).code, 0);
    assert.equal(asPmuData(data!)[0]!.quality.level, 'good');
  });
});
