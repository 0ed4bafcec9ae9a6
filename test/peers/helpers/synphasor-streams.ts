// Test helper for ../tshark-decoder.test.ts: builds the C37.118 streams A–D listed in the test's
// head comment, with our configuration model, encoder and PMU simulator.
import assert from 'node:assert/strict';
import type { AnalogChannel, ConfigFrame, PhasorChannel, PmuConfig } from '../../../src/protocols/c37118/cfg-frame.js';
import { DataColumns } from '../../../src/protocols/c37118/data-frame.js';
import { encodeCfg12, encodeCfg3, encodeCommand, encodeData, encodeHeader, type FrameTime } from '../../../src/protocols/c37118/encoder.js';
import { StreamLayout } from '../../../src/protocols/c37118/layout.js';
import { PmuModel } from '../../../src/protocols/c37118/simulator/pmu-model.js';
import { parseScenario } from '../../../src/protocols/c37118/simulator/scenario.js';
import { phasor12, pmuConfig } from '../../helpers/c37118.js';
import { seededRandom } from '../../helpers/wait.js';

/** The frames of one TCP stream, one per segment, and the PMU's (non-default) port. */
export interface Stream {
  frames: Buffer[];
  port: number;
}

// ---------------------------------------------------------------------------------------------
// Building configurations with our model

/** A CFG-1/2 phasor: PHUNIT = unit byte (0 V, 1 A) and a 24-bit factor in 10^-5 V or A. */
const phunit = (name: string, unit: 'V' | 'A', factor24: number): PhasorChannel => phasor12(name, ((unit === 'A' ? 1 : 0) << 24) | factor24);

/** A CFG-1/2 analog: ANUNIT = type byte and a signed 24-bit scale. */
const anunit = (name: string, type: number, factor: number): AnalogChannel => ({
  name,
  type,
  raw: ((type << 24) | (factor & 0xffffff)) >>> 0,
  factor,
  scale: 1,
  offset: 0,
});

/** A CFG-3 phasor: PHSCALE flags, type, user byte, Y and θ (float32 values, as they travel). */
const phscale = (name: string, unit: 'V' | 'A', y: number, theta: number, component: number, flags: number, user: number): PhasorChannel => ({
  name,
  unit,
  raw: ((flags << 16) | (((unit === 'A' ? 8 : 0) | component) << 8) | user) >>> 0,
  factor: 1,
  magnitudeScale: Math.fround(y),
  angleOffsetRad: Math.fround(theta),
  modificationFlags: flags,
  component,
});

const anscale = (name: string, m: number, b: number): AnalogChannel => ({
  name,
  type: 0,
  raw: 0,
  factor: 1,
  scale: Math.fround(m),
  offset: Math.fround(b),
});

const labels = (prefix: string, blanks: number[] = []): string[] =>
  Array.from({ length: 16 }, (_, b) => (blanks.includes(b) ? '' : `${prefix}${b}`));

// ---------------------------------------------------------------------------------------------
// Filling data frames (seeded, so every run sends the same bytes)

type Random = () => number;
const uniform = (r: Random, lo: number, hi: number): number => lo + r() * (hi - lo);
const intIn = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const maybeAbsent = (r: Random, x: number, p = 0.07): number => (r() < p ? NaN : x);
const float32 = (r: Random): number => Math.fround(Math.sign(r() - 0.5) * 10 ** uniform(r, -3, 6));

/** Engineering values for one frame; our encoder turns them into wire values (rounding, saturating). */
function fill(columns: DataColumns, r: Random, stats: number[]): void {
  const layout = columns.layout;
  const cfg3 = layout.config.kind === 'cfg3';
  for (let p = 0; p < layout.pmuCount; p++) {
    const format = layout.format[p]!;
    const polar = (format & 1) !== 0;
    columns.stat[p] = stats.shift() ?? intIn(r, 0, 0xffff);
    for (let i = layout.phasorStart[p]!; i < layout.phasorStart[p + 1]!; i++) {
      const scale = layout.phasorFactor[i]!;
      if (format & 2) {
        columns.phasorA[i] = maybeAbsent(r, polar ? Math.abs(float32(r)) * (r() < 0.1 ? -1 : 1) : float32(r));
        columns.phasorB[i] = maybeAbsent(r, polar ? uniform(r, -7, 7) : float32(r)); // polar angles may pass ±π
      } else if (polar) {
        columns.phasorA[i] = uniform(r, 0, 65535) * scale; // unsigned: never absent
        columns.phasorB[i] = maybeAbsent(r, uniform(r, -3.2767, 3.2767));
      } else {
        // Rotation (CFG-3) keeps the magnitude, so ±22000 steps stay inside int16 after it.
        columns.phasorA[i] = maybeAbsent(r, intIn(r, -22000, 22000) * scale);
        columns.phasorB[i] = maybeAbsent(r, intIn(r, -22000, 22000) * scale);
      }
    }
    const fnom = layout.fnom[p]!;
    if (format & 8) {
      columns.freq[p] = maybeAbsent(r, fnom + uniform(r, -2, 2));
      columns.rocof[p] = maybeAbsent(r, uniform(r, -20, 20));
    } else {
      columns.freq[p] = maybeAbsent(r, fnom + intIn(r, -32767, 32767) / 1000);
      columns.rocof[p] = maybeAbsent(r, intIn(r, -32767, 32767) / 100);
    }
    for (let i = layout.analogStart[p]!; i < layout.analogStart[p + 1]!; i++) {
      const raw = format & 4 ? float32(r) : intIn(r, -32767, 32767);
      // CFG-2 float analogs are sent as is; everything else is X' = scale × X + offset.
      const value = format & 4 && !cfg3 ? raw : raw * layout.analogScale[i]! + layout.analogOffset[i]!;
      columns.analog[i] = maybeAbsent(r, value);
    }
    for (let i = layout.digitalStart[p]!; i < layout.digitalStart[p + 1]!; i++) columns.digital[i] = intIn(r, 0, 0xffff);
  }
}

/** Time quality bytes: codes 0–15 with all 8 combinations of bits 6–4 (bit 7 is reserved). */
const timeQualityByte = (k: number): number => (((k * 5) & 7) << 4) | (k & 0xf);

// ---------------------------------------------------------------------------------------------
// The streams

/** Stream A: 16 PMUs, FORMAT 0–15, under CFG-2. */
export function streamA(): { stream: Stream; config: ConfigFrame } {
  const r = seededRandom(0xa11ce);
  const factors = [1, 915_527, 0xffffff, 45_776, 100_000, 3];
  const analogTypes: [number, number][] = [
    [0, 1],
    [1, -10],
    [2, -1],
    [65, 1000],
    [200, -0x800000], // the most negative 24-bit scale
    [255, 0x7fffff],
  ];
  const pmus: PmuConfig[] = Array.from({ length: 16 }, (_, format) =>
    pmuConfig({
      station: ['North Bus 1', 'SUBSTATION-16CHR', 'PMU 3', 'Feeder'][format % 4]! + (format % 4 === 1 ? '' : ` F${format}`),
      idcode: 1000 + format * 7,
      format,
      phasors: Array.from({ length: 1 + (format % 4) }, (_, k) =>
        phunit(`${k % 2 ? 'I' : 'V'}${'ABC'[k % 3]}${format}`, k % 2 ? 'A' : 'V', factors[(format + k) % factors.length]!),
      ),
      analogs: Array.from({ length: format % 3 }, (_, k) => {
        const [type, factor] = analogTypes[(format + 2 * k) % analogTypes.length]!;
        return anunit(`AN${k}_${format}`, type, factor);
      }),
      digitals: Array.from({ length: (format + 1) % 3 }, (_, k) => ({
        labels: labels(`S${format}.${k}.`, [3, 15]),
        normal: intIn(r, 0, 0xffff),
        valid: intIn(r, 0, 0xffff),
      })),
      fnom: format % 3 === 1 ? 50 : 60,
      cfgcnt: format * 1000,
    }),
  );
  const config: ConfigFrame = { kind: 'cfg2', version: 2, idcode: 7734, soc: 1_700_000_000, fracsec: 0, timeBase: 1_000_000, dataRate: 30, pmus };
  const frames = [encodeCfg12(config)];
  const columns = new DataColumns(new StreamLayout(config));
  // STAT words: all 16 trigger reasons, 4 data-error codes, 8 PMU time qualities, 4 unlocked
  // times and both values of every flag, plus 0xFFFF and 0x0000; random words fill the rest.
  const stats: number[] = [0xffff, 0x0000];
  for (let n = 0; n < 32; n++) stats.push(((n & 3) << 14) | (((n >> 2) & 7) << 6) | (((n >> 1) & 3) << 4) | (n & 15) | (((n * 47) & 31) << 9));
  for (let k = 0; k < 16; k++) {
    fill(columns, r, stats);
    const time: FrameTime = { idcode: 7734, soc: 1_700_000_001 + k, fracsec: (timeQualityByte(k) << 24) | (k === 15 ? 999_999 : k * 33_333) };
    frames.push(encodeData(columns, time));
  }
  return { stream: { frames, port: 47_120 }, config };
}

/** Stream B: version 1, TIME_BASE 0xFFFFFF, DATA_RATE −5, header, CFG-1 and command frames. */
export function streamB(): Stream {
  const r = seededRandom(0xb0b);
  const v1 = (soc: number, fracsec: number): FrameTime => ({ idcode: 65535, soc, fracsec, version: 1 });
  const pmus: PmuConfig[] = [
    pmuConfig({ station: 'POLAR50', idcode: 0, format: 1, phasors: [phunit('V1', 'V', 915_527), phunit('I1', 'A', 1)], analogs: [], digitals: [], fnom: 50, cfgcnt: 1 }),
    pmuConfig({ station: 'FLOAT60', idcode: 40_000, format: 10, phasors: [phunit('V2', 'V', 0), phunit('I2', 'A', 0)], analogs: [], digitals: [], fnom: 60, cfgcnt: 65535 }),
    pmuConfig({ station: 'RECT', idcode: 12, format: 0, phasors: [phunit('V3', 'V', 12_345)], analogs: [anunit('PEAK', 2, -7)], digitals: [], fnom: 60, cfgcnt: 0 }),
  ];
  const config: ConfigFrame = { kind: 'cfg2', version: 1, idcode: 65535, soc: 0, fracsec: 0x7f_fffffe, timeBase: 0xffffff, dataRate: -5, pmus };
  const columns = new DataColumns(new StreamLayout(config));
  const data = (soc: number, fracsec: number): Buffer => {
    fill(columns, r, []);
    return encodeData(columns, v1(soc, fracsec));
  };
  const frames = [
    encodeHeader(v1(0, 0), 'gridgate PMU\r\nfirmware 1.2.3\tnominal 50 Hz \u00dc'),
    encodeHeader(v1(1, 0), 'x'),
    encodeHeader(v1(2, 0), ''), // 16 bytes: tshark does not dissect it
    encodeHeader(v1(3, 0), 'C37.118 '.repeat(250)),
    encodeCfg12({ ...config, kind: 'cfg1', dataRate: 60 }),
    data(0, 0), // before any CFG-2: neither side decodes it
    encodeCfg12(config),
    data(0, 0),
    data(0xffffffff, (timeQualityByte(10) << 24) | 0xfffffe),
    data(1_234_567_890, (timeQualityByte(15) << 24) | 0x800000),
    data(1_234_567_891, (timeQualityByte(7) << 24) | 1),
    ...[0, 1, 2, 3, 4, 5, 6, 7, 9, 0x0100, 0x0fff, 0xffff].map((cmd) => encodeCommand(v1(5, 0), cmd)),
    encodeCommand(v1(5, 0), 8, Buffer.from('0102030405ff', 'hex')),
    encodeCommand(v1(5, 0), 8),
    encodeCommand(v1(5, 0), 2, Buffer.from('abcd', 'hex')),
  ];
  for (let k = 0; k < 6; k++) frames.push(data(1_600_000_000 + k, (timeQualityByte(k * 3) << 24) | intIn(r, 0, 0xffffff)));
  return { frames, port: 47_121 };
}

/** Stream C: CFG-3 with PHSCALE, ANSCALE and the geodetic fields. */
export function streamC(): Stream {
  const r = seededRandom(0xc3);
  const gpmu = (fill: number): string => Buffer.alloc(16, fill).toString('hex');
  const c3 = { cfgcnt: 3 };
  const pmus: PmuConfig[] = [
    pmuConfig({
      ...c3,
      station: 'Umspannwerk Süd',
      idcode: 10,
      globalPmuId: '00112233445566778899aabbccddeeff',
      format: 0,
      phasors: [phscale('VA', 'V', 2.5, 0.3, 1, 0x0000, 0), phscale('IB', 'A', 0.01, -0.2, 2, 0x0102, 0x5a)],
      analogs: [anscale('MW', 0.5, -3), anscale('MVAR', -2, 100)],
      digitals: [{ labels: labels('Schütz ', [0, 7]), normal: 0x00ff, valid: 0xf0f0 }],
      fnom: 50,
      latitude: Math.fround(48.137154),
      longitude: Math.fround(11.576124),
      elevation: 519,
      serviceClass: 'M',
      windowUs: 0,
      groupDelayUs: -5,
    }),
    pmuConfig({
      ...c3,
      station: 'A',
      idcode: 11,
      globalPmuId: gpmu(0),
      format: 1,
      phasors: [phscale('', 'V', 1000, 1.5, 0, 0x8000, 1), phscale('V+', 'V', 1, -3, 7, 0x7fff, 0xff)],
      analogs: [],
      digitals: [
        { labels: labels('a'), normal: 0, valid: 0xffff },
        { labels: labels('b', [1, 2, 3]), normal: 0xffff, valid: 0 },
      ],
      fnom: 60,
      serviceClass: 'P',
      windowUs: 40_000,
      groupDelayUs: 2500,
    }),
    pmuConfig({
      ...c3,
      station: 'x'.repeat(40),
      idcode: 12,
      globalPmuId: gpmu(0xee),
      format: 2 | 8,
      phasors: [phscale('VR', 'V', 3, 0.25, 0, 4, 0), phscale('VN', 'V', 1, 0, 0, 0, 0)],
      analogs: [anscale('T', 0.1, -40)],
      digitals: [],
      fnom: 60,
      latitude: Math.fround(-33.9),
      longitude: Math.fround(151.2),
      elevation: -12.5,
      serviceClass: 'M',
      windowUs: 100_000,
      groupDelayUs: -100_000,
    }),
    pmuConfig({
      ...c3,
      station: 'PMU 3',
      idcode: 13,
      globalPmuId: gpmu(1),
      format: 3 | 4,
      phasors: [phscale('IP', 'A', 2, -0.7, 1, 0, 0), phscale('IQ', 'A', 1, 0, 3, 0, 0)],
      analogs: [anscale('F1', 10, 1), anscale('F2', 1, 0)],
      digitals: [{ labels: labels(''), normal: 0x1234, valid: 0xabcd }],
      fnom: 50,
      latitude: 0,
      longitude: 0,
      elevation: 0,
      serviceClass: 'P',
      windowUs: 1,
      groupDelayUs: 0,
    }),
    pmuConfig({
      ...c3,
      station: 'Feeder-4',
      idcode: 14,
      globalPmuId: gpmu(0xff),
      format: 1 | 4 | 8,
      phasors: [phscale('V4', 'V', 0.5, 3, 0, 0, 0)],
      analogs: [anscale('X', 1e-3, 0.5)],
      digitals: [],
      fnom: 60,
      latitude: Math.fround(-89.5),
      serviceClass: 'P',
      windowUs: 0x7fffffff,
      groupDelayUs: 123,
    }),
  ];
  const config: ConfigFrame = { kind: 'cfg3', version: 2, idcode: 4242, soc: 1_650_000_000, fracsec: 0, timeBase: 10_000_000, dataRate: 120, pmus };
  const frames = encodeCfg3(config);
  assert.equal(frames.length, 1, 'one CFG-3 frame (tshark 4.0 does not reassemble fragments)');
  const columns = new DataColumns(new StreamLayout(config));
  for (let k = 0; k < 12; k++) {
    fill(columns, r, []);
    frames.push(encodeData(columns, { idcode: 4242, soc: 1_650_000_001 + k, fracsec: (timeQualityByte(k) << 24) | (k * 833_333) }));
  }
  return { frames, port: 47_122 };
}

/** The PMU simulator's device model (3 PMUs × 8 phasors, 3 analogs, 1 digital word) and scenario events. */
export function simulatorStream(kind: 'cfg2' | 'cfg3', format: number, port: number): Stream {
  const rate = 50;
  const model = new PmuModel(
    {
      idcode: 61,
      firstPmuIdcode: 301,
      station: 'SIM PMU',
      fnom: 50,
      format,
      timeBase: 1_000_000,
      dataRate: rate,
      voltageV: 230_000 / Math.sqrt(3),
      currentA: 500,
      pmuCount: 3,
      phasors: 8,
      analogs: 3,
      digitals: 1,
      seed: 0x5eed,
    },
    parseScenario({
      events: [
        { type: 'stat', at: 0.04, durationS: 0.1, set: 0x8807 },
        { type: 'gps-loss', at: 0.1, durationS: 0.2 },
        { type: 'digital', at: 0.2, word: 0, value: 0x0004, pmus: [1] },
        { type: 'phase-jump', at: 0.3, deg: 170 },
        { type: 'voltage', at: 0.35, pu: 1.6, phases: ['B'] },
      ],
    }),
    1 / rate,
  );
  const soc = 1_700_000_000;
  const config = model.config(kind, 0, soc, 0);
  const frames = kind === 'cfg3' ? encodeCfg3(config) : [encodeCfg12(config)];
  for (let n = 0; n < 25; n++) frames.push(model.dataFrame(n, n / rate, soc, n * (1_000_000 / rate)));
  return { frames, port };
}
