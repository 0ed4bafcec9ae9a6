// Shared builders for the C37.118 tests: the reference vectors (copied into test/fixtures/c37118
// so that CI needs nothing outside the repository), configuration builders, and small helpers to
// drain a Framer and compare floats.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NO_CFG3_FIELDS, type AnalogChannel, type ConfigFrame, type DigitalWord, type PhasorChannel, type PmuConfig } from '../../src/protocols/c37118/cfg-frame.js';
import { CRC_SIZE } from '../../src/protocols/c37118/constants.js';
import { crcCcitt } from '../../src/protocols/c37118/crc-ccitt.js';
import type { Framer, FramingFault } from '../../src/protocols/c37118/framer.js';
import { StreamDecoder, type Decoded } from '../../src/protocols/c37118/stream-decoder.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/c37118/', import.meta.url));

// ── The reference vectors (README.md in the fixture folder) ──────────────────────────────────

export interface ExpectedPhasor {
  magnitude: number;
  angle_rad: number;
  re: number;
  im: number;
}

export interface ExpectedPmu {
  stn?: string;
  idcode: number;
  /** Names in a configuration frame, values in a data frame. */
  phasors: string[] | ExpectedPhasor[];
  fnom?: number;
  cfgcnt?: number;
  freq?: number;
  rocof?: number;
  stat?: number;
  analogs?: { value: number }[];
  digitals?: number[];
}

export interface ExpectedFrame {
  type: 'command' | 'cfg1' | 'cfg2' | 'cfg3' | 'header' | 'data';
  idcode: number;
  command?: number;
  time_base?: number;
  data_rate?: number;
  text?: string;
  time?: number;
  pmus?: ExpectedPmu[];
}

export interface Vector {
  name: string;
  bytes: Buffer;
  expected: ExpectedFrame[];
}

/** Every vector in the fixture folder (a new pair of files is picked up without a code change). */
export const VECTOR_NAMES: readonly string[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -'.bin'.length))
  .sort();

export function loadVector(name: string): Vector {
  return {
    name,
    bytes: readFileSync(`${FIXTURES}${name}.bin`),
    expected: JSON.parse(readFileSync(`${FIXTURES}${name}.expected.json`, 'utf8')) as ExpectedFrame[],
  };
}

export const loadVectors = (): Vector[] => VECTOR_NAMES.map(loadVector);

export interface Span {
  offset: number;
  length: number;
}

/** The frames of a stream of back-to-back frames, by their FRAMESIZE (no checks). */
export function frameSpans(bytes: Buffer): Span[] {
  const spans: Span[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = bytes.readUInt16BE(at + 2);
    spans.push({ offset: at, length });
    at += length;
  }
  return spans;
}

/** The frames of a stream of back-to-back frames, as copies. */
export const framesOf = (bytes: Buffer): Buffer[] =>
  frameSpans(bytes).map((s) => Buffer.from(bytes.subarray(s.offset, s.offset + s.length)));

// ── Draining a Framer ─────────────────────────────────────────────────────────────────────────

export interface Out {
  kind: 'frame' | 'garbage';
  reason: FramingFault | undefined;
  streamOffset: number;
  bytes: Buffer;
}

/** Everything the framer returns now (next()), or until it is empty (flush()), copied out. */
export function drain(framer: Framer, atEnd = false): Out[] {
  const outs: Out[] = [];
  for (;;) {
    const out = atEnd ? framer.flush() : framer.next();
    if (out.kind === 'none') return outs;
    outs.push({
      kind: out.kind,
      reason: out.reason,
      streamOffset: out.streamOffset,
      bytes: Buffer.from(out.buf.subarray(out.offset, out.offset + out.length)),
    });
  }
}

/** Push `chunks` one by one, draining after each, then flush. */
export function frameChunks(framer: Framer, chunks: Iterable<Uint8Array>): Out[] {
  const outs: Out[] = [];
  for (const chunk of chunks) {
    assert.ok(framer.push(chunk), 'the framer refused a chunk');
    outs.push(...drain(framer));
  }
  outs.push(...drain(framer, true));
  return outs;
}

export const onlyFrames = (outs: Out[]): Buffer[] => outs.filter((o) => o.kind === 'frame').map((o) => o.bytes);
export const onlyGarbage = (outs: Out[]): Out[] => outs.filter((o) => o.kind === 'garbage');

/** Bytes a framer returned, in order: must rebuild the input exactly. */
export function assertAccountsFor(outs: Out[], input: Buffer): void {
  let at = 0;
  for (const out of outs) {
    assert.equal(out.streamOffset, at, `an output at ${out.streamOffset}, expected ${at}`);
    assert.ok(out.bytes.equals(input.subarray(at, at + out.bytes.length)), `output at ${at} is not the input's bytes`);
    at += out.bytes.length;
  }
  assert.equal(at, input.length, 'the outputs do not cover the whole input');
}

// ── Decoding one frame ────────────────────────────────────────────────────────────────────────

/** Decode one whole frame (a fresh decoder unless one is given). */
export const decodeFrame = (frame: Buffer, decoder = new StreamDecoder()): Decoded => decoder.decode(frame, 0, frame.length);

export function configOf(decoded: Decoded): ConfigFrame {
  assert.equal(decoded.kind, 'config', `not a configuration: ${JSON.stringify(decoded).slice(0, 300)}`);
  return (decoded as Extract<Decoded, { kind: 'config' }>).config;
}

export function assertFault(decoded: Decoded, reason: string, what: string): void {
  assert.equal(decoded.kind, 'fault', `${what}: ${JSON.stringify(decoded).slice(0, 300)}`);
  assert.equal((decoded as Extract<Decoded, { kind: 'fault' }>).reason, reason, what);
}

// ── Frame surgery ─────────────────────────────────────────────────────────────────────────────

/** Recompute CHK after editing a frame in place; returns the frame. */
export function recrc(frame: Buffer): Buffer {
  frame.writeUInt16BE(crcCcitt(frame, 0, frame.length - CRC_SIZE), frame.length - CRC_SIZE);
  return frame;
}

// ── Raw field builders, for frames written by hand rather than by the encoder ──────────────────

export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
};
export const i16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
export const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
export const f32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return b;
};
/** A fixed 16-byte CFG-1/2 name field, padded with `pad`. */
export const name16 = (text: string, pad = 0x20): Buffer => {
  const b = Buffer.alloc(16, pad);
  b.write(text, 'latin1');
  return b;
};
/** A CFG-3 name: length byte, then UTF-8. */
export const name3 = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u8(bytes.length), bytes]);
};

// ── Configuration builders ────────────────────────────────────────────────────────────────────

/** A CFG-1/2 phasor channel exactly as parseCfg12 would produce it from PHUNIT `raw`. */
export function phasor12(name: string, raw: number): PhasorChannel {
  return {
    name,
    unit: raw >>> 24 === 1 ? 'A' : 'V',
    raw: raw >>> 0,
    factor: (raw & 0xffffff) / 1e5,
    magnitudeScale: 1,
    angleOffsetRad: 0,
    modificationFlags: 0,
    component: null,
  };
}

/** A CFG-1/2 analog channel as parseCfg12 would produce it from ANUNIT `raw`. */
export function analog12(name: string, raw: number): AnalogChannel {
  return { name, type: raw >>> 24, raw: raw >>> 0, factor: ((raw & 0xffffff) << 8) >> 8, scale: 1, offset: 0 };
}

/** A CFG-3 phasor channel as parseCfg3Body would produce it. */
export function phasor3(
  name: string,
  opts: { unit?: 'V' | 'A'; component?: number; flags?: number; user?: number; y?: number; thetaRad?: number } = {},
): PhasorChannel {
  const unit = opts.unit ?? 'V';
  const component = opts.component ?? 0;
  const flags = opts.flags ?? 0;
  const type = (unit === 'A' ? 0x08 : 0) | (component & 0x07);
  return {
    name,
    unit,
    raw: (((flags & 0xffff) << 16) | (type << 8) | ((opts.user ?? 0) & 0xff)) >>> 0,
    factor: 1,
    magnitudeScale: Math.fround(opts.y ?? 1),
    angleOffsetRad: Math.fround(opts.thetaRad ?? 0),
    modificationFlags: flags & 0xffff,
    component,
  };
}

/** A CFG-3 analog channel: X' = M × X + B. */
export function analog3(name: string, m = 1, b = 0): AnalogChannel {
  return { name, type: 0, raw: 0, factor: 1, scale: Math.fround(m), offset: Math.fround(b) };
}

export function digitalWord(labels: string[], normal = 0, valid = 0xffff): DigitalWord {
  return { labels: Array.from({ length: 16 }, (_, i) => labels[i] ?? ''), normal, valid };
}

export function pmuConfig(overrides: Partial<PmuConfig> = {}): PmuConfig {
  return {
    station: 'PMU',
    idcode: 1,
    format: 0,
    phasors: [],
    analogs: [],
    digitals: [],
    fnom: 60,
    cfgcnt: 0,
    ...NO_CFG3_FIELDS,
    ...overrides,
  };
}

/** CFG-3 PMU fields take these values after a round trip when the builder left them null. */
export function pmuConfig3(overrides: Partial<PmuConfig> = {}): PmuConfig {
  return pmuConfig({ globalPmuId: '00'.repeat(16), serviceClass: 'M', windowUs: 0, groupDelayUs: 0, ...overrides });
}

export function configFrame(overrides: Partial<ConfigFrame> = {}): ConfigFrame {
  return {
    kind: 'cfg2',
    version: 2,
    idcode: 1,
    soc: 1_700_000_000,
    fracsec: 0,
    timeBase: 1_000_000,
    dataRate: 30,
    pmus: [pmuConfig()],
    ...overrides,
  };
}

/**
 * A configuration with every derived float (PHUNIT/ANUNIT factors) rounded to 12 significant
 * digits, so that deepEqual does not depend on whether a factor is computed as raw × 1e-5 or
 * raw / 1e5.
 */
export function comparable(config: ConfigFrame): ConfigFrame {
  const round = (x: number): number => Number(x.toPrecision(12));
  return {
    ...config,
    pmus: config.pmus.map((pmu) => ({
      ...pmu,
      phasors: pmu.phasors.map((ph) => ({ ...ph, factor: round(ph.factor) })),
      analogs: pmu.analogs.map((an) => ({ ...an, factor: round(an.factor) })),
    })),
  };
}

// ── Numbers ───────────────────────────────────────────────────────────────────────────────────

/** |actual − expected| ≤ abs + rel·|expected|; NaN matches NaN only. */
export function assertClose(actual: number | null | undefined, expected: number, what: string, rel = 1e-5, abs = 1e-9): void {
  assert.equal(typeof actual, 'number', `${what}: ${String(actual)} is not a number`);
  const a = actual as number;
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(a), `${what}: ${a}, expected NaN`);
    return;
  }
  assert.ok(Math.abs(a - expected) <= abs + rel * Math.abs(expected), `${what}: ${a}, expected ${expected}`);
}

/** An angle difference folded into (−π, π]. */
export const angleDiff = (a: number, b: number): number => {
  const d = (a - b) % (2 * Math.PI);
  return d > Math.PI ? d - 2 * Math.PI : d <= -Math.PI ? d + 2 * Math.PI : d;
};
