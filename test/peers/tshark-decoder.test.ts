// The peer test of our C37.118 decoder: frames built by our encoder are decoded by Wireshark's
// tshark (an implementation we did not write) and by our Framer + StreamDecoder, and every field
// tshark shows is compared with ours. One tshark run per TCP stream (non-default ports):
//
//   A  CFG-2, 16 PMUs in one stream (stream IDCODE ≠ PMU IDCODEs), FORMAT 0–15 one per PMU,
//      50/60 Hz, PHUNIT V and A, ANUNIT types 0/1/2/65–255 with negative scales, DIGUNIT masks,
//      TIME_BASE 10^6; 16 data frames (every time quality code, every leap bit combination,
//      STAT words covering every bit field, absent values)
//   B  version 1 (2005): header frames, CFG-1, a data frame before any CFG-2, CFG-2 with
//      TIME_BASE 0xFFFFFF and DATA_RATE −5, data frames at SOC 0 and 0xFFFFFFFF, every command
//   C  CFG-3 (one frame, CONT_IDX 0) with PHSCALE Y ≠ 1 and θ ≠ 0, ANSCALE, lat/lon/elev (+Inf
//      included), service class, window, group delay; data frames under it
//   D  the PMU simulator's device model (scenario events: STAT bits, GPS loss, a digital input,
//      a phase jump, a swell) under CFG-2 int polar, CFG-2 float rectangular, CFG-3 int rectangular
//
// What tshark prints, its units and rounding are documented in helpers/tshark.ts. Comparisons are
// bit-exact wherever tshark shows the wire value (`value` bytes, "unscaled" integers, raw mHz);
// its 3-decimal display is compared with 0.0005 absolute + 1e-6 relative, its 6-digit floats with
// 5e-6 relative. Where tshark and we legitimately differ, the test says so beside the assertion
// and asserts both sides exactly:
//   - int16 0x8000 (absent): we give NaN for that value only; tshark prints the raw -32768 for
//     FREQ/DFREQ/analogs, and NAN for the WHOLE phasor (both components, and the magnitude of a
//     polar phasor whose angle is absent, which we keep).
//   - CFG-3 PHSCALE/ANSCALE: we apply them to integer and float values (notes/c37118.md 24);
//     tshark only to integers and shows float phasors and float analogs as sent.
//   - CFG-3 angle offset θ: both subtract it in radians (tshark's field label says degrees); for
//     rectangular data tshark's angle is atan2(raw) − θ, unwrapped, ours is atan2 of the rotated
//     value in (−180°, 180°], so those angles are compared modulo 360°.
//   - CFG-3 GRP_DLY (and WINDOW) are signed int32 µs; tshark shows them unsigned.
//   - FRACSEC bit 6: we call 1 "delete" (C37.118.2-2011 Table 3); tshark's label says "Add".
//   - CFG-2 integer analogs: tshark shows the raw integer, we scale it by the signed ANUNIT.
//   - CFG-3 names are UTF-8; tshark's CFG-3 tree reads them as ASCII (each byte >= 0x80 shows as
//     U+FFFD), though its data frames show the station name as UTF-8.
//   - Frame time: tshark shows the exact FRACSEC/TIME_BASE in ms (6 digits), our JSON time is
//     rounded to the nanosecond.
//   - A 16-byte header frame (no text) is not dissected by tshark at all; we decode it.
// One disagreement was a bug of ours, found by this test and fixed: a rectangular phasor with
// θ = 0 beside a rotated one lost its present component when the other was absent (see the
// CFG-3 test).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalogChannel, ConfigFrame, PhasorChannel, PmuConfig } from '../../src/protocols/c37118/cfg-frame.js';
import { DATA_ERROR_NAMES, PMU_TIME_QUALITY_NAMES, TRIGGER_REASON_NAMES, UNLOCKED_NAMES } from '../../src/protocols/c37118/constants.js';
import { DataColumns } from '../../src/protocols/c37118/data-frame.js';
import { encodeCfg12, encodeCfg3, encodeCommand, encodeData, encodeHeader, type FrameTime } from '../../src/protocols/c37118/encoder.js';
import { fracsecOf, frameSizeOf, frameTypeOf, socOf, timeQualityOf, versionOf } from '../../src/protocols/c37118/frame-header.js';
import { Framer } from '../../src/protocols/c37118/framer.js';
import { dataJson, timeJson } from '../../src/protocols/c37118/json.js';
import { StreamLayout } from '../../src/protocols/c37118/layout.js';
import { PmuModel } from '../../src/protocols/c37118/simulator/pmu-model.js';
import { parseScenario } from '../../src/protocols/c37118/simulator/scenario.js';
import { statJson } from '../../src/protocols/c37118/stat.js';
import { StreamDecoder, type Decoded } from '../../src/protocols/c37118/stream-decoder.js';
import { seededRandom } from '../helpers/wait.js';
import { subtrees, tsharkDecode, type TsharkDecoded, type TsharkFrame } from './helpers/tshark.js';

// ---------------------------------------------------------------------------------------------
// Reading tshark's tree

const one = (frame: TsharkFrame, name: string): string => {
  const values = frame.get(name);
  assert.equal(values.length, 1, `expected one ${name}, tshark printed ${values.length}`);
  return values[0]!;
};
const oneField = (frame: TsharkFrame, name: string) => {
  const fields = frame.all(name);
  assert.equal(fields.length, 1, `expected one ${name}, tshark printed ${fields.length}`);
  return fields[0]!;
};
const int = (s: string): number => {
  const n = Number(s);
  assert.ok(Number.isInteger(n), `not an integer: ${s}`);
  return n;
};
const hex = (value: string | undefined): Buffer => {
  assert.ok(value !== undefined, 'tshark printed no bytes for the field');
  return Buffer.from(value, 'hex');
};
const quoted = (show: string): string => {
  const m = /"(.*)"$/su.exec(show);
  assert.ok(m, `no quoted name in ${show}`);
  return m[1]!;
};
/**
 * CFG-3 names are UTF-8 (Table 11) and we decode them so; tshark reads them as ASCII and shows
 * each byte >= 0x80 as U+FFFD. This is what tshark shows for one of our names.
 */
const asAscii = (name: string): string =>
  [...Buffer.from(name, 'utf8')].map((b) => (b < 0x80 ? String.fromCharCode(b) : '\ufffd')).join('');
const heads = (frame: TsharkFrame, re: RegExp) => subtrees(frame, (f) => f.name === '' && re.test(f.show));
const padTrim = (s: string): string => s.replace(/[\0 ]+$/u, '');

/** Same number, or both NaN. */
function sameNumber(x: number, y: number, what: string): void {
  assert.ok(x === y || (Number.isNaN(x) && Number.isNaN(y)), `${what}: ${x} ≠ ${y}`);
}

/** tshark's %.3f display against ours: 0.0005 absolute + 1e-6 relative; NaN only with NaN. */
function near(tshark: number, ours: number, what: string, rel = 1e-6): void {
  if (Number.isNaN(tshark) || Number.isNaN(ours)) {
    assert.ok(Number.isNaN(tshark) && Number.isNaN(ours), `${what}: tshark ${tshark}, ours ${ours}`);
    return;
  }
  const tol = 0.0005 + 1e-12 + rel * Math.abs(ours);
  assert.ok(Math.abs(tshark - ours) <= tol, `${what}: tshark ${tshark}, ours ${ours} (±${tol})`);
}

/** tshark's FT_FLOAT display (6 significant digits) against ours. */
function near6(tshark: string, ours: number, what: string): void {
  const t = Number(tshark);
  if (Number.isNaN(t) || Number.isNaN(ours)) {
    assert.ok(Number.isNaN(t) && Number.isNaN(ours), `${what}: tshark ${tshark}, ours ${ours}`);
    return;
  }
  assert.ok(Math.abs(t - ours) <= 5e-6 * Math.abs(ours) + 1e-9, `${what}: tshark ${tshark}, ours ${ours}`);
}

/** Degrees modulo 360 (for rectangular CFG-3 phasors, see the head comment). */
function nearAngle(tshark: number, ours: number, what: string): void {
  if (Number.isNaN(tshark) || Number.isNaN(ours)) return near(tshark, ours, what);
  const diff = ((((tshark - ours) % 360) + 540) % 360) - 180;
  assert.ok(Math.abs(diff) <= 0.0005 + 1e-6 * Math.abs(ours), `${what}: tshark ${tshark}°, ours ${ours}°`);
}

interface TsharkPhasor {
  name: string;
  magnitude: number;
  unit: string;
  angleDeg: number;
  re: number;
  im: number;
  unscaled: [number, number] | undefined;
}

/** 'Phasor #2: "VB", 134003.289V ∠-119.998° alt -66998.266+j-116052.203V; unscaled: -7318, -12676' */
function parsePhasor(showname: string): TsharkPhasor {
  const m = /^Phasor #\d+: "(.*)", *(\S+?)([VA]) ∠ *(\S+?)° alt *(\S+?)\+j *(\S+?)([VA])(?:; unscaled: *(\S+), *(\S+))?$/su.exec(showname);
  assert.ok(m, `unexpected phasor line: ${showname}`);
  assert.equal(m[7], m[3], 'one unit per phasor line');
  return {
    name: m[1]!,
    magnitude: Number(m[2]),
    unit: m[3]!,
    angleDeg: Number(m[4]),
    re: Number(m[5]),
    im: Number(m[6]),
    unscaled: m[8] === undefined ? undefined : [Number(m[8]), Number(m[9])],
  };
}

const deg = (rad: number): number => (rad * 180) / Math.PI;
const INT16_ABSENT = -0x8000;
const absentToNaN = (raw: number): number => (raw === INT16_ABSENT ? NaN : raw);

// ---------------------------------------------------------------------------------------------
// Building configurations with our model

const FIXED: Pick<PmuConfig, 'globalPmuId' | 'latitude' | 'longitude' | 'elevation' | 'serviceClass' | 'windowUs' | 'groupDelayUs'> = {
  globalPmuId: null,
  latitude: null,
  longitude: null,
  elevation: null,
  serviceClass: null,
  windowUs: null,
  groupDelayUs: null,
};

/** A CFG-1/2 phasor: PHUNIT = unit byte (0 V, 1 A) and a 24-bit factor in 10^-5 V or A. */
const phunit = (name: string, unit: 'V' | 'A', factor24: number): PhasorChannel => ({
  name,
  unit,
  raw: ((unit === 'A' ? 1 : 0) << 24) | factor24,
  factor: factor24 / 1e5,
  magnitudeScale: 1,
  angleOffsetRad: 0,
  modificationFlags: 0,
  component: null,
});

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
// Running both decoders

interface Stream {
  frames: Buffer[];
  port: number;
}

interface Seen {
  stat: Map<string, Set<unknown>>;
  timeQuality: Set<number>;
  leapBits: Set<number>;
  formats: Set<number>;
  frameTypes: Set<number>;
  absent: Set<string>;
}

const newSeen = (): Seen => ({
  stat: new Map(),
  timeQuality: new Set(),
  leapBits: new Set(),
  formats: new Set(),
  frameTypes: new Set(),
  absent: new Set(),
});
const see = (seen: Seen, key: string, value: unknown): void => {
  if (!seen.stat.has(key)) seen.stat.set(key, new Set());
  seen.stat.get(key)!.add(value);
};

/**
 * Runs tshark once over the stream (one frame per TCP segment, non-default port) and our Framer
 * + StreamDecoder over the same bytes, comparing frame by frame.
 */
async function compareStream(stream: Stream, seen: Seen, deferred: (() => void)[] = []): Promise<void> {
  const decoded = await tsharkDecode(stream.frames, { transport: 'tcp', port: stream.port });
  const framer = new Framer();
  const decoder = new StreamDecoder();
  let activeConfigPacket = 0;
  stream.frames.forEach((frame, i) => {
    assert.ok(framer.push(frame));
    const out = framer.next();
    assert.equal(out.kind, 'frame', `frame ${i + 1}: our framer`);
    assert.equal(out.length, frame.length);
    const ours = decoder.decode(out.buf, out.offset, out.length);
    const t = decoded[i]!;
    const what = `frame ${i + 1} (${frame.length} bytes)`;
    if (!t.dissected) {
      // tshark's dissector rejects PDUs shorter than 17 bytes: only the empty header frame.
      assert.equal(frame.length, 16, `${what}: tshark did not dissect it`);
      assert.deepEqual(ours, { kind: 'header', idcode: frame.readUInt16BE(4), text: '' });
      return;
    }
    const timeBase = decoder.layout(ours.idcode)?.config.timeBase;
    compareHeader(t, frame, ours, timeBase, seen, what);
    switch (ours.kind) {
      case 'header':
        assert.equal(hex(oneField(t, 'synphasor.data').value).toString('latin1'), ours.text, `${what}: header text`);
        break;
      case 'command':
        compareCommand(t, ours, what);
        break;
      case 'config':
        compareConfig(t, ours.config, what);
        if (ours.active) activeConfigPacket = i + 1;
        break;
      case 'data':
        assert.equal(int(one(t, 'synphasor.data.conf_frame')), activeConfigPacket, `${what}: both decode with the same configuration`);
        compareData(t, ours.columns, seen, deferred, what);
        break;
      case 'fault':
        // Both refuse a data frame that arrives before any CFG-2/CFG-3 (CFG-1 does not count).
        assert.equal(ours.reason, 'no-config', `${what}: ours ${ours.detail}`);
        assert.equal(t.get('synphasor.data.conf_frame').length, 0);
        assert.match(oneField(t, 'synphasor.data').showname, /no configuration frame found/u);
        break;
      default:
        assert.fail(`${what}: unexpected ${ours.kind}`);
    }
  });
  assert.equal(framer.next().kind, 'none');
}

function compareHeader(t: TsharkDecoded, frame: Buffer, ours: Decoded, timeBase: number | undefined, seen: Seen, what: string): void {
  assert.match(t.summary, /\[correct\]$/u, `${what}: tshark's checksum verdict`);
  assert.equal(one(t, 'synphasor.checksum.status'), '1');
  const type = frameTypeOf(frame, 0);
  seen.frameTypes.add(type);
  assert.equal(int(one(t, 'synphasor.frtype')), type, `${what}: frame type`);
  const kinds: Record<number, string[]> = { 0: ['data', 'fault'], 1: ['header'], 2: ['config'], 3: ['config'], 4: ['command'], 5: ['config'] };
  assert.ok(kinds[type]!.includes(ours.kind), `${what}: frame type ${type} decoded as ${ours.kind}`);
  const configKinds: Record<number, string> = { 2: 'cfg1', 3: 'cfg2', 5: 'cfg3' };
  if (ours.kind === 'config') assert.equal(ours.config.kind, configKinds[type]);
  assert.equal(int(one(t, 'synphasor.version')), versionOf(frame, 0), `${what}: version`);
  if (ours.kind === 'config') assert.equal(ours.config.version, versionOf(frame, 0));
  assert.equal(int(one(t, 'synphasor.frsize')), frameSizeOf(frame, 0), `${what}: FRAMESIZE`);
  assert.equal(int(one(t, 'synphasor.idcode_stream_source')), ours.idcode, `${what}: stream IDCODE`);
  assert.equal(hex(oneField(t, 'synphasor.soc').value).readUInt32BE(0), socOf(frame, 0), `${what}: SOC`);

  // FRACSEC: time quality byte and fraction.
  const tq = heads(t, /^Time quality flags$/u);
  assert.equal(tq.length, 1);
  const byte = timeQualityOf(frame, 0);
  assert.equal(parseInt(tq[0]!.head.value!, 16), byte, `${what}: time quality byte`);
  const quality = timeJson(socOf(frame, 0), fracsecOf(frame, 0), timeBase ?? 1_000_000).quality;
  const flags = tq[0]!.frame;
  assert.equal(one(flags, 'synphasor.timeqal.lsdir'), quality.leapSecondDirection === 'delete' ? '1' : '0', `${what}: leap direction bit`);
  // Labels differ: Table 3 says bit 6 = 1 deletes a second (ours: 'delete'); tshark calls it "Add".
  assert.match(oneField(flags, 'synphasor.timeqal.lsdir').showname, quality.leapSecondDirection === 'delete' ? /: Add$/u : /: Delete$/u);
  assert.equal(one(flags, 'synphasor.timeqal.lsocc'), quality.leapSecondOccurred ? '1' : '0', `${what}: leap occurred`);
  assert.equal(one(flags, 'synphasor.timeqal.lspend'), quality.leapSecondPending ? '1' : '0', `${what}: leap pending`);
  assert.equal(parseInt(one(flags, 'synphasor.timeqal.timequalindic'), 16), quality.code, `${what}: time quality code`);
  seen.timeQuality.add(quality.code);
  seen.leapBits.add((byte >> 4) & 7);
  const fraction = fracsecOf(frame, 0) & 0xffffff;
  assert.equal(int(one(t, 'synphasor.fracsec_raw')), fraction, `${what}: FRACSEC`);
  const ms = t.get('synphasor.fracsec_ms');
  if (ours.kind === 'data') assert.equal(ms.length, 1, `${what}: tshark knows the TIME_BASE`);
  if (ms.length > 0 && timeBase !== undefined) {
    // Ours: the nanosecond time of the JSON output, as milliseconds into the second.
    const time = timeJson(socOf(frame, 0), fracsecOf(frame, 0), timeBase);
    const oursMs = Number(BigInt(time.epochNs) - BigInt(time.soc) * 1_000_000_000n) / 1e6;
    // tshark: 6 significant digits of the exact ratio; ours: rounded to the nanosecond (0.5e-6 ms).
    const shown = Number(ms[0]);
    assert.ok(Math.abs(shown - oursMs) <= 5e-6 * oursMs + 0.5e-6, `${what}: fraction of second: tshark ${ms[0]} ms, ours ${oursMs} ms`);
  }
}

function compareCommand(t: TsharkDecoded, ours: Extract<Decoded, { kind: 'command' }>, what: string): void {
  assert.equal(parseInt(one(t, 'synphasor.command'), 16), ours.command.command, `${what}: CMD`);
  const extended = t.all('synphasor.extended_frame_data');
  const unknown = t.all('synphasor.data.unknown');
  // CMD 8 carries extended frame data; other commands' extra bytes are "unknown" to tshark and
  // land in the same `extended` field on our side.
  const extra = ours.command.command === 8 ? extended : unknown;
  assert.equal(extended.length + unknown.length, extra.length);
  assert.equal(extra[0]?.value ?? '', ours.command.extended.toString('hex'), `${what}: extra command bytes`);
}

// ---------------------------------------------------------------------------------------------
// Configuration frames

const ANALOG_TYPE_TEXT = (type: number): string =>
  type === 0 ? 'single point-on-wave' : type === 1 ? 'rms of analog input' : type === 2 ? 'peak of input' : type >= 65 ? 'user defined' : type <= 4 ? 'undefined' : 'reserved';

function compareConfig(t: TsharkDecoded, config: ConfigFrame, what: string): void {
  const cfg3 = config.kind === 'cfg3';
  if (cfg3) assert.equal(int(one(t, 'synphasor.conf.contindx')), 0, `${what}: CONT_IDX`);
  assert.equal(int(one(t, 'synphasor.conf.timebase')), config.timeBase, `${what}: TIME_BASE`);
  assert.equal(int(one(t, 'synphasor.conf.numpmu')), config.pmus.length, `${what}: NUM_PMU`);
  assert.equal(int(one(t, 'synphasor.rate_of_transmission')), config.dataRate, `${what}: DATA_RATE`);
  const stations = heads(t, /^Station #\d+: /u);
  assert.equal(stations.length, config.pmus.length);
  config.pmus.forEach((pmu, p) => {
    const { head, frame: s } = stations[p]!;
    const at = `${what} PMU #${p + 1}`;
    if (cfg3) {
      assert.equal(quoted(head.show), asAscii(pmu.station), `${at}: STN`);
      assert.equal(one(s, 'synphasor.station_name'), asAscii(pmu.station));
      assert.equal(int(one(s, 'synphasor.station_name_len')), Buffer.byteLength(pmu.station, 'utf8'));
      assert.equal(one(s, 'synphasor.gpmuid').replaceAll(':', ''), pmu.globalPmuId, `${at}: G_PMU_ID`);
    } else {
      const padded = quoted(head.show);
      assert.equal(padded.length, 16, 'CFG-1/2 names are 16 bytes');
      assert.equal(padTrim(padded), pmu.station, `${at}: STN`);
    }
    assert.equal(int(one(s, 'synphasor.idcode_data_source')), pmu.idcode, `${at}: IDCODE`);

    const format = heads(s, /^Data format in data frame$/u)[0]!;
    assert.equal(parseInt(format.head.value!, 16), pmu.format, `${at}: FORMAT`);
    assert.equal(one(format.frame, 'synphasor.conf.phasor_notation'), pmu.format & 1 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.phasor_format'), pmu.format & 2 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.analog_format'), pmu.format & 4 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.dfreq_format'), pmu.format & 8 ? '1' : '0');
    assert.equal(int(one(s, 'synphasor.num_phasors')), pmu.phasors.length, `${at}: PHNMR`);
    assert.equal(int(one(s, 'synphasor.num_analog_values')), pmu.analogs.length, `${at}: ANNMR`);
    assert.equal(int(one(s, 'synphasor.num_digital_status_words')), pmu.digitals.length, `${at}: DGNMR`);

    // CHNAM
    const names = cfg3 ? cfg3Names(s) : cfg12Names(s);
    const shown = cfg3 ? asAscii : (name: string) => name;
    assert.deepEqual(names.phasors, pmu.phasors.map((ph) => shown(ph.name)), `${at}: phasor names`);
    assert.deepEqual(names.analogs, pmu.analogs.map((an) => shown(an.name)), `${at}: analog names`);
    assert.deepEqual(names.digitals, pmu.digitals.flatMap((dg) => dg.labels.map(shown)), `${at}: digital labels`);

    if (cfg3) comparePhscale(s, pmu, at);
    else {
      const conv = s.all('synphasor.conversion_factor');
      assert.equal(conv.length, pmu.phasors.length);
      pmu.phasors.forEach((ph, k) => {
        assert.equal(parseInt(conv[k]!.show, 16), ph.raw, `${at} PHUNIT #${k + 1}`);
        const m = /factor: (\d+) \* 10\^-5, unit: (Volt|Ampere)$/u.exec(conv[k]!.showname);
        assert.ok(m, conv[k]!.showname);
        assert.equal(Number(m[1]) / 1e5, ph.factor, `${at} PHUNIT #${k + 1} factor`);
        assert.equal(m[2], ph.unit === 'A' ? 'Ampere' : 'Volt', `${at} PHUNIT #${k + 1} unit`);
      });
      const anu = s.all('synphasor.factor_for_analog_value');
      assert.equal(anu.length, pmu.analogs.length);
      pmu.analogs.forEach((an, k) => {
        assert.equal(parseInt(anu[k]!.unmaskedvalue!, 16), an.raw, `${at} ANUNIT #${k + 1}`);
        const m = /#\d+: (.+), value: (-?\d+)$/u.exec(anu[k]!.showname);
        assert.ok(m, anu[k]!.showname);
        assert.equal(m[1], ANALOG_TYPE_TEXT(an.type), `${at} ANUNIT #${k + 1} type ${an.type}`);
        assert.equal(Number(m[2]), an.factor, `${at} ANUNIT #${k + 1} signed scale`);
      });
    }

    // DIGUNIT
    const masks = heads(s, /^Mask for status word #\d+: $/u);
    assert.equal(masks.length, pmu.digitals.length);
    pmu.digitals.forEach((dg, k) => {
      assert.equal(parseInt(one(masks[k]!.frame, 'synphasor.status_word_mask.normal_state'), 16), dg.normal, `${at} DIGUNIT #${k + 1} normal`);
      assert.equal(parseInt(one(masks[k]!.frame, 'synphasor.status_word_mask.valid_bits'), 16), dg.valid, `${at} DIGUNIT #${k + 1} valid`);
    });

    if (cfg3) {
      const wgs = (name: string, ours: number | null): void => {
        const f = oneField(s, name);
        const raw = hex(f.value).readFloatBE(0);
        if (ours === null) {
          assert.equal(raw, Infinity, `${at} ${name}: +Inf means unspecified`);
          assert.equal(f.show, 'inf');
        } else assert.equal(raw, ours, `${at} ${name}`);
      };
      wgs('synphasor.conf.pmu_latitude', pmu.latitude);
      wgs('synphasor.conf.pmu_longitude', pmu.longitude);
      wgs('synphasor.conf.pmu_elevation', pmu.elevation);
      const svc = oneField(s, 'synphasor.conf.svc_class');
      assert.equal(hex(svc.value).toString('latin1'), pmu.serviceClass, `${at} SVC_CLASS`);
      const classes: Record<string, string> = { M: 'Monitoring', P: 'Protection' };
      assert.equal(svc.show, classes[pmu.serviceClass!] ?? 'Unknown');
      // WINDOW and GRP_DLY are signed int32 µs (Table 11); tshark displays them unsigned.
      assert.equal(int(one(s, 'synphasor.conf.window')), pmu.windowUs! >>> 0, `${at} WINDOW`);
      assert.equal(int(one(s, 'synphasor.conf.grp_dly')), pmu.groupDelayUs! >>> 0, `${at} GRP_DLY`);
      assert.equal(hex(oneField(s, 'synphasor.conf.grp_dly').value).readInt32BE(0), pmu.groupDelayUs, `${at} GRP_DLY bytes`);
    }
    assert.equal(one(s, 'synphasor.conf.fnom'), pmu.fnom === 50 ? '1' : '0', `${at}: FNOM`);
    assert.equal(int(one(s, 'synphasor.conf.cfgcnt')), pmu.cfgcnt, `${at}: CFGCNT`);
  });
}

function cfg12Names(s: TsharkFrame): { phasors: string[]; analogs: string[]; digitals: string[] } {
  const names = s.all('synphasor.channel_name');
  const pick = (prefix: string) =>
    names.filter((f) => f.showname.startsWith(prefix)).map((f) => {
      assert.equal(f.show.length, 16, 'CFG-1/2 names are 16 bytes');
      return padTrim(f.show);
    });
  return { phasors: pick('Phasor name #'), analogs: pick('Analog value #'), digitals: pick('Digital status label #') };
}

function cfg3Names(s: TsharkFrame): { phasors: string[]; analogs: string[]; digitals: string[] } {
  const pick = (re: RegExp) =>
    heads(s, re).map(({ head, frame }) => {
      const name = quoted(head.show);
      // One U+FFFD per byte >= 0x80 (see asAscii), so the name's length is its length in bytes.
      assert.equal(int(one(frame, 'synphasor.conf.chnam_len')), name.length, 'CHNAM length in bytes');
      return name;
    });
  return { phasors: pick(/^Phasor name #\d+: /u), analogs: pick(/^Analog value #\d+: /u), digitals: pick(/^Digital label #\d+: /u) };
}

function comparePhscale(s: TsharkFrame, pmu: PmuConfig, at: string): void {
  const scales = heads(s, /^Phasor #\d+$/u);
  assert.equal(scales.length, pmu.phasors.length);
  pmu.phasors.forEach((ph, k) => {
    const f = scales[k]!.frame;
    const w = `${at} PHSCALE #${k + 1}`;
    const flagsWord = heads(f, /^Phasor Data flags: /u)[0]!;
    assert.equal(parseInt(flagsWord.head.value!, 16), ph.raw, `${w} first word`);
    const mod = heads(f, /^Modification Flags: 0x[0-9a-f]{4}$/u)[0]!;
    assert.equal(parseInt(mod.head.show.slice(-4), 16), ph.modificationFlags, `${w} modification flags`);
    assert.equal(one(f, 'synphasor.conf.phasor_type'), ph.unit === 'A' ? '1' : '0', `${w} type (current)`);
    assert.equal(parseInt(one(f, 'synphasor.conf.phasor_component'), 16), ph.component, `${w} component`);
    const user = heads(f, /^User designated flags: 0x[0-9a-f]{2}$/u)[0]!;
    assert.equal(parseInt(user.head.show.slice(-2), 16), ph.raw & 0xff, `${w} user flags`);
    assert.equal(hex(oneField(f, 'synphasor.conf.phasor_scale_factor').value).readFloatBE(0), ph.magnitudeScale, `${w} Y`);
    assert.equal(hex(oneField(f, 'synphasor.conf.phasor_angle_offset').value).readFloatBE(0), ph.angleOffsetRad, `${w} θ`);
  });
  const analogs = heads(s, /^Analog #\d+$/u);
  assert.equal(analogs.length, pmu.analogs.length);
  pmu.analogs.forEach((an, k) => {
    const f = analogs[k]!.frame;
    assert.equal(hex(oneField(f, 'synphasor.conf.analog_scale_factor').value).readFloatBE(0), an.scale, `${at} ANSCALE #${k + 1} M`);
    assert.equal(hex(oneField(f, 'synphasor.conf.analog_offset').value).readFloatBE(0), an.offset, `${at} ANSCALE #${k + 1} B`);
  });
}

// ---------------------------------------------------------------------------------------------
// Data frames

function compareData(t: TsharkDecoded, columns: DataColumns, seen: Seen, deferred: (() => void)[], what: string): void {
  const layout = columns.layout;
  const config = layout.config;
  const cfg3 = config.kind === 'cfg3';
  const json = dataJson(columns);
  const blocks = heads(t, /^Station: /u);
  assert.equal(blocks.length, layout.pmuCount, `${what}: PMU blocks`);
  config.pmus.forEach((pmu, p) => {
    const block = blocks[p]!.frame;
    const at = `${what} PMU ${pmu.idcode} (#${p + 1})`;
    const mine = json[p]!;
    const format = layout.format[p]!;
    seen.formats.add(format);
    const polar = (format & 1) !== 0;
    // The block is PMU #p by configuration order (tshark shows no IDCODE in data blocks).
    const name = quoted(blocks[p]!.head.show);
    // (In data blocks tshark shows a CFG-3 station name as UTF-8, unlike in the CFG-3 itself.)
    assert.equal(cfg3 ? name : padTrim(name), pmu.station, `${at}: station`);

    // STAT, every field.
    const flags = heads(block, /^Flags$/u)[0]!;
    const stat = parseInt(flags.head.value!, 16);
    assert.equal(stat, columns.stat[p], `${at}: STAT word`);
    const st = statJson(stat);
    assert.deepEqual(st, mine.stat);
    const bit = (name: string): boolean => one(flags.frame, name) === '1';
    const field = (name: string): number => parseInt(one(flags.frame, name), 16);
    assert.equal(DATA_ERROR_NAMES[field('synphasor.data.status')], st.dataError, `${at}: STAT data error`);
    assert.equal(bit('synphasor.data.sync'), !st.pmuSync, `${at}: STAT sync`);
    assert.equal(bit('synphasor.data.sorting'), st.sortedByArrival, `${at}: STAT sorting`);
    assert.equal(bit('synphasor.data.trigger'), st.trigger, `${at}: STAT trigger`);
    assert.equal(bit('synphasor.data.CFGchange'), st.configChange, `${at}: STAT config change`);
    assert.equal(bit('synphasor.data.data_modified'), st.dataModified, `${at}: STAT data modified`);
    assert.equal(PMU_TIME_QUALITY_NAMES[field('synphasor.data.pmu_tq')], st.pmuTimeQuality, `${at}: STAT PMU time quality`);
    assert.equal(UNLOCKED_NAMES[field('synphasor.data.t_unlock')], st.unlockedTime, `${at}: STAT unlocked time`);
    assert.equal(TRIGGER_REASON_NAMES[field('synphasor.data.trigger_reason')], st.triggerReason, `${at}: STAT trigger reason`);
    for (const [key, value] of Object.entries(st)) if (key !== 'raw') see(seen, key, value);

    // Phasors
    const phasors = block.all('synphasor.phasor');
    assert.equal(phasors.length, pmu.phasors.length);
    pmu.phasors.forEach((ph, k) => {
      const i = layout.phasorStart[p]! + k;
      comparePhasor(phasors[k]!, parsePhasor(phasors[k]!.showname), ph, mine.phasors[k]!, {
        a: columns.phasorA[i]!,
        b: columns.phasorB[i]!,
        format,
        cfg3,
        rotates: layout.rotates,
        deferred,
        seen,
        at: `${at} phasor #${k + 1} ${ph.name}`,
      });
    });

    // FREQ / DFREQ
    if (format & 8) {
      const freq = oneField(block, 'synphasor.actual_frequency_value');
      sameNumber(hex(freq.value).readFloatBE(0), columns.freq[p]!, `${at}: FREQ bytes`);
      near6(freq.show, columns.freq[p]!, `${at}: FREQ`);
      const rocof = oneField(block, 'synphasor.rate_change_frequency');
      sameNumber(hex(rocof.value).readFloatBE(0), columns.rocof[p]!, `${at}: DFREQ bytes`);
      near6(rocof.show, columns.rocof[p]!, `${at}: DFREQ`);
      assert.equal(mine.freq, Number.isNaN(columns.freq[p]!) ? null : columns.freq[p]);
    } else {
      const dev = oneField(block, 'synphasor.frequency_deviation_from_nominal');
      const raw = hex(dev.value).readInt16BE(0);
      assert.equal(int(dev.show), raw, `${at}: FREQ mHz`);
      const actual = Number(/actual frequency: (\S+)Hz\)$/u.exec(dev.showname)?.[1]);
      near(actual, pmu.fnom + raw / 1000, `${at}: FNOM + FREQ`);
      const rocofField = oneField(block, 'synphasor.rate_change_frequency');
      const rawRocof = hex(rocofField.value).readInt16BE(0);
      near6(rocofField.show, rawRocof / 100, `${at}: DFREQ`);
      if (raw === INT16_ABSENT) {
        // Absent: tshark shows -32768 mHz (and FNOM − 32.768 Hz), we give NaN / null.
        seen.absent.add('int freq');
        assert.ok(Number.isNaN(columns.freq[p]!) && mine.freq === null, `${at}: absent FREQ`);
      } else {
        assert.equal(columns.freq[p], pmu.fnom + raw / 1000, `${at}: FREQ`);
        near(actual, columns.freq[p]!, `${at}: FREQ (Hz)`);
      }
      if (rawRocof === INT16_ABSENT) {
        // Absent: tshark shows -327.68 Hz/s, we give NaN.
        seen.absent.add('int rocof');
        assert.equal(rocofField.show, '-327.68');
        assert.ok(Number.isNaN(columns.rocof[p]!), `${at}: absent DFREQ`);
      } else assert.equal(columns.rocof[p], rawRocof / 100, `${at}: DFREQ`);
    }

    // Analogs
    const analogs = block.all('synphasor.analog_value');
    assert.equal(analogs.length, pmu.analogs.length);
    pmu.analogs.forEach((an, k) => {
      const i = layout.analogStart[p]! + k;
      const f = analogs[k]!;
      const w = `${at} analog #${k + 1}`;
      assert.equal(cfg3 ? f.show : padTrim(f.show), cfg3 ? asAscii(an.name) : an.name, `${w} name`);
      const m = /", (\S+)(?: \(conversion factor: (0x[0-9a-f]+)\))?$/u.exec(f.showname);
      assert.ok(m, f.showname);
      const shown = Number(m[1]);
      const ours = columns.analog[i]!;
      assert.equal(mine.analogs[k]!.value, Number.isNaN(ours) ? null : ours);
      if (format & 4) {
        const raw = hex(f.value).readFloatBE(0);
        // Float analogs: tshark shows them as sent. We apply CFG-3's ANSCALE to them too (notes 24),
        // so under CFG-3 tshark's number is the raw float and ours is M × raw + B.
        near(shown, raw, `${w}: tshark shows the float as sent`);
        sameNumber(ours, cfg3 ? raw * an.scale + an.offset : raw, `${w}: ours`);
        if (Number.isNaN(raw)) seen.absent.add('float analog');
      } else {
        const raw = hex(f.value).readInt16BE(0);
        if (cfg3) {
          // CFG-3 integer analogs: both M × X + B; an absent 0x8000 is still scaled by tshark.
          near(shown, raw * an.scale + an.offset, `${w}: tshark scales`);
          sameNumber(ours, raw === INT16_ABSENT ? NaN : raw * an.scale + an.offset, `${w}: ours`);
          if (raw !== INT16_ABSENT) near(shown, ours, `${w}: tshark vs ours`);
        } else {
          // CFG-2 integer analogs: tshark prints the raw integer (and the ANUNIT word), we scale by
          // ANUNIT's signed 24-bit factor; an absent 0x8000 is -32768 to tshark, NaN to us.
          assert.equal(shown, raw, `${w}: tshark shows the raw integer`);
          assert.equal(parseInt(m[2]!, 16), an.raw, `${w}: ANUNIT word`);
          sameNumber(ours, raw === INT16_ABSENT ? NaN : raw * an.factor, `${w}: ours = raw × ANUNIT`);
        }
        if (raw === INT16_ABSENT) seen.absent.add('int analog');
      }
    });

    // Digital words
    const digitals = block.get('synphasor.digital_status_word').map((s) => parseInt(s, 16));
    const ourWords = Array.from(columns.digital.subarray(layout.digitalStart[p]!, layout.digitalStart[p + 1]!));
    assert.deepEqual(digitals, ourWords, `${at}: digital words`);
    assert.deepEqual(mine.digitals.map((d) => d.word), ourWords);
  });
}

interface PhasorContext {
  /** Our columns' phasorA/B for this phasor. */
  a: number;
  b: number;
  format: number;
  cfg3: boolean;
  rotates: boolean;
  /** Assertions about a θ = 0 phasor with one absent component, counted by the CFG-3 test. */
  deferred: (() => void)[];
  seen: Seen;
  at: string;
}

function comparePhasor(
  field: { show: string; value?: string },
  t: TsharkPhasor,
  ph: PhasorChannel,
  mine: { magnitude: number | null; angleRad: number | null; re: number | null; im: number | null; unit: string },
  c: PhasorContext,
): void {
  const { at } = c;
  const polar = (c.format & 1) !== 0;
  const float = (c.format & 2) !== 0;
  assert.equal(c.cfg3 ? field.show : padTrim(field.show), c.cfg3 ? asAscii(ph.name) : ph.name, `${at}: name`);
  assert.equal(t.unit, ph.unit, `${at}: unit`);
  assert.equal(mine.unit, ph.unit);
  const bytes = hex(field.value);
  assert.equal(bytes.length, float ? 8 : 4, `${at}: size`);
  const rawA = float ? bytes.readFloatBE(0) : polar ? bytes.readUInt16BE(0) : bytes.readInt16BE(0);
  const rawB = float ? bytes.readFloatBE(4) : bytes.readInt16BE(2);

  // 1. The wire values. tshark's "unscaled" integers are the raw ones; 0x8000 prints NAN.
  if (float) assert.equal(t.unscaled, undefined);
  else {
    assert.ok(t.unscaled, `${at}: tshark printed no unscaled integers`);
    // Polar: an absent angle makes tshark print NAN for the (unsigned, never absent) magnitude too.
    sameNumber(t.unscaled[0], polar ? (rawB === INT16_ABSENT ? NaN : rawA) : absentToNaN(rawA), `${at}: unscaled first`);
    sameNumber(t.unscaled[1], absentToNaN(rawB), `${at}: unscaled second`);
  }

  // 2. Our columns against the wire values (bit-exact under CFG-2; under CFG-3 the same
  //    arithmetic: magnitude × Y, then e^(−jθ)).
  let a = float ? rawA : polar ? rawA : absentToNaN(rawA);
  let b = float ? rawB : polar ? absentToNaN(rawB) / 10_000 : absentToNaN(rawB);
  const y = c.cfg3 ? ph.magnitudeScale : float ? 1 : ph.factor;
  a *= y;
  if (!polar) b *= y;
  const theta = c.cfg3 ? ph.angleOffsetRad : 0;
  // Once a bug of ours: with any phasor of the stream at θ ≠ 0, every phasor was rotated, θ = 0
  // included, and (x, NaN) × (cos 0, −sin 0) = (NaN, NaN) lost the present component. These
  // assertions run in their own subtest, which also checks the data exercised the case.
  const nanSpread = c.rotates && theta === 0 && !polar && Number.isNaN(a) !== Number.isNaN(b);
  const check = (assertion: () => void): void => (nanSpread ? void c.deferred.push(assertion) : assertion());
  if (theta !== 0) {
    if (polar) b -= theta;
    else [a, b] = [a * Math.cos(theta) + b * Math.sin(theta), b * Math.cos(theta) - a * Math.sin(theta)];
    const tol = (x: number) => 1e-12 * Math.max(1, Math.abs(x));
    for (const [ours, want, w] of [[c.a, a, 'first'], [c.b, b, 'second']] as const) {
      if (Number.isNaN(want)) assert.ok(Number.isNaN(ours), `${at}: ours ${w} ${ours}, want NaN`);
      else assert.ok(Math.abs(ours - want) <= tol(want), `${at}: ours ${w} ${ours}, want ${want}`);
    }
  } else {
    const [wantA, wantB] = [a, b];
    check(() => sameNumber(c.a, wantA, `${at}: ours first component`));
    check(() => sameNumber(c.b, wantB, `${at}: ours second component`));
  }

  // 3. tshark's display against ours.
  const num = (x: number | null): number => (x === null ? NaN : x);
  const intAbsent = !float && (rawB === INT16_ABSENT || (!polar && rawA === INT16_ABSENT));
  if (intAbsent) {
    // tshark: an int16 0x8000 in either word makes the whole phasor NAN. Ours: only what depends
    // on the absent word is NaN; a polar magnitude and (unrotated) the other rectangular
    // component stay.
    c.seen.absent.add(polar ? 'int polar angle' : 'int rectangular component');
    for (const x of [t.magnitude, t.angleDeg, t.re, t.im]) assert.ok(Number.isNaN(x), `${at}: tshark ${JSON.stringify(t)}`);
    assert.equal(mine.angleRad, null, `${at}: our angle`);
    if (polar) {
      assert.equal(mine.magnitude, a, `${at}: we keep the magnitude`);
      assert.ok(mine.re === null && mine.im === null);
    } else {
      assert.equal(mine.magnitude, null, `${at}: our magnitude`);
      const [wantA, wantB] = [a, b];
      check(() => sameNumber(num(mine.re), wantA, `${at}: our re`));
      check(() => sameNumber(num(mine.im), wantB, `${at}: our im`));
    }
    return;
  }
  if (c.cfg3 && float) {
    // tshark ignores PHSCALE for float phasors: it shows the float as sent. Ours is Y·X·e^(−jθ)
    // (checked in step 2); tshark's numbers are checked against the raw float here.
    const [re, im, magnitude, angle] = polar
      ? [rawA * Math.cos(rawB), rawA * Math.sin(rawB), rawA, rawB]
      : [rawA, rawB, Math.hypot(rawA, rawB), Math.atan2(rawB, rawA)];
    near(t.magnitude, magnitude, `${at}: tshark magnitude (as sent)`);
    near(t.angleDeg, deg(angle), `${at}: tshark angle (as sent)`);
    near(t.re, re, `${at}: tshark re (as sent)`);
    near(t.im, im, `${at}: tshark im (as sent)`);
    if (ph.magnitudeScale === 1 && ph.angleOffsetRad === 0) {
      // With Y = 1 and θ = 0 the two agree again.
      if (nanSpread) c.seen.absent.add('float phasor beside a rotated one');
      near(t.magnitude, num(mine.magnitude), `${at}: magnitude (neutral PHSCALE)`);
      check(() => near(t.re, num(mine.re), `${at}: re (neutral PHSCALE)`));
      check(() => near(t.im, num(mine.im), `${at}: im (neutral PHSCALE)`));
    }
    if (Number.isNaN(rawA) || Number.isNaN(rawB)) c.seen.absent.add('float phasor');
    return;
  }
  if (float && (Number.isNaN(rawA) || Number.isNaN(rawB))) c.seen.absent.add('float phasor');
  near(t.magnitude, num(mine.magnitude), `${at}: magnitude`);
  near(t.re, num(mine.re), `${at}: re`);
  near(t.im, num(mine.im), `${at}: im`);
  if (c.cfg3 && !polar) nearAngle(t.angleDeg, deg(num(mine.angleRad)), `${at}: angle`);
  else near(t.angleDeg, deg(num(mine.angleRad)), `${at}: angle (degrees)`);
}

// ---------------------------------------------------------------------------------------------
// The streams

/** Stream A: 16 PMUs, FORMAT 0–15, under CFG-2. */
function streamA(): { stream: Stream; config: ConfigFrame } {
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
  const pmus: PmuConfig[] = Array.from({ length: 16 }, (_, format): PmuConfig => ({
    ...FIXED,
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
  }));
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
function streamB(): Stream {
  const r = seededRandom(0xb0b);
  const v1 = (soc: number, fracsec: number): FrameTime => ({ idcode: 65535, soc, fracsec, version: 1 });
  const pmus: PmuConfig[] = [
    { ...FIXED, station: 'POLAR50', idcode: 0, format: 1, phasors: [phunit('V1', 'V', 915_527), phunit('I1', 'A', 1)], analogs: [], digitals: [], fnom: 50, cfgcnt: 1 },
    { ...FIXED, station: 'FLOAT60', idcode: 40_000, format: 10, phasors: [phunit('V2', 'V', 0), phunit('I2', 'A', 0)], analogs: [], digitals: [], fnom: 60, cfgcnt: 65535 },
    { ...FIXED, station: 'RECT', idcode: 12, format: 0, phasors: [phunit('V3', 'V', 12_345)], analogs: [anunit('PEAK', 2, -7)], digitals: [], fnom: 60, cfgcnt: 0 },
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
function streamC(): Stream {
  const r = seededRandom(0xc3);
  const gpmu = (fill: number): string => Buffer.alloc(16, fill).toString('hex');
  const c3 = { ...FIXED, cfgcnt: 3 };
  const pmus: PmuConfig[] = [
    {
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
    },
    {
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
    },
    {
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
    },
    {
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
    },
    {
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
    },
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
function simulatorStream(kind: 'cfg2' | 'cfg3', format: number, port: number): Stream {
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

describe('tshark and our decoder agree on every field of frames from our encoder', () => {
  it('agrees on a 16-PMU CFG-2 stream with every FORMAT combination, PHUNIT/ANUNIT/DIGUNIT and STAT field', async () => {
    const { stream, config } = streamA();
    const seen = newSeen();
    await compareStream(stream, seen);
    // The data exercised what the test claims to cover.
    assert.deepEqual([...seen.formats].sort((x, y) => x - y), Array.from({ length: 16 }, (_, f) => f));
    assert.ok(!config.pmus.some((pmu) => pmu.idcode === config.idcode), 'stream IDCODE differs from every PMU IDCODE');
    assert.equal(seen.timeQuality.size, 16, 'every time quality code');
    assert.equal(seen.leapBits.size, 8, 'every combination of the three leap-second bits');
    const counts = Object.fromEntries([...seen.stat].map(([key, values]) => [key, values.size]));
    assert.deepEqual(counts, {
      dataError: 4,
      pmuSync: 2,
      sortedByArrival: 2,
      trigger: 2,
      triggerReason: 16,
      configChange: 2,
      dataModified: 2,
      pmuTimeQuality: 8,
      unlockedTime: 4,
    });
    assert.deepEqual([...seen.absent].sort(), ['float analog', 'float phasor', 'int analog', 'int freq', 'int polar angle', 'int rectangular component', 'int rocof']);
  });

  it('agrees on a version-1 stream with TIME_BASE 0xFFFFFF, DATA_RATE −5, header, CFG-1 and every command frame', async () => {
    const seen = newSeen();
    await compareStream(streamB(), seen);
    assert.deepEqual([...seen.frameTypes].sort(), [0, 1, 2, 3, 4]);
  });

  it('agrees on frames of the PMU simulator under CFG-2 (int polar, float rectangular) and CFG-3 (int rectangular)', async () => {
    for (const [kind, format, port] of [['cfg2', 1, 47_123], ['cfg2', 14, 47_124], ['cfg3', 0, 47_125]] as const) {
      const seen = newSeen();
      await compareStream(simulatorStream(kind, format, port), seen);
      assert.deepEqual([...seen.formats], [format]);
    }
  });

  it('agrees on a CFG-3 stream with PHSCALE, ANSCALE and geodetic fields, stating where the two differ', async (t) => {
    const seen = newSeen();
    const deferred: (() => void)[] = [];
    await compareStream(streamC(), seen, deferred);
    assert.deepEqual([...seen.formats].sort((x, y) => x - y), [0, 1, 7, 10, 13]);
    for (const kind of ['int rectangular component', 'int polar angle', 'int analog', 'float phasor', 'float phasor beside a rotated one']) {
      assert.ok(seen.absent.has(kind), `the data has an absent ${kind}`);
    }
    await t.test('keeps the present component of a θ = 0 phasor beside an absent one, as tshark does', () => {
      assert.ok(deferred.length > 0);
      for (const assertion of deferred) assertion();
    });
  });
});
