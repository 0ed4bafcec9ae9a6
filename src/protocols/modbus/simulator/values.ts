import type { TagType, WordOrder } from '../config.js';
import { unit } from '../../c37118/simulator/noise.js';
import type { ValueSpec } from './map-schema.js';

// Served values as pure functions of (seed, t, register): any read at time t gives the same
// words on every run, and a test can predict them (RunningModbusSimulator.model). Then the raw
// value → registers: integers are rounded, then clamped to the type's range, except counters and
// ramps, which wrap as a device's counter rolls over; float32/float64 are IEEE 754. Registers are
// written big-endian (ABCD, the Modbus norm) and then reordered:
//
//   value bytes, most significant first:  A B C D (E F G H for 64-bit)
//   ABCD  A B | C D          as is
//   BADC  B A | D C          bytes swapped in each register
//   CDAB  C D | A B          registers in reverse order (64-bit: G H | E F | C D | A B)
//   DCBA  D C | B A          every byte reversed (little-endian)
//
// A string is ASCII, two characters per register, first in the high byte, NUL padded; BADC and
// DCBA swap the two bytes of each register, register order never changes.

export interface CompiledValue {
  at(t: number): number | string;
  /** Integers wrap at the type's range rather than clamp (counters, ramps). */
  readonly wraps: boolean;
}

export function compileValue(spec: ValueSpec, seed: number, channel: number, phaseShiftDeg = 0): CompiledValue {
  if (typeof spec === 'number') return { at: () => spec, wraps: false };
  if (typeof spec === 'boolean') return { at: () => (spec ? 1 : 0), wraps: false };
  if (typeof spec === 'string') return { at: () => spec, wraps: false };
  if ('sine' in spec) {
    const { amplitude, periodS, offset, phaseDeg } = spec.sine;
    const w = (2 * Math.PI) / periodS;
    const phase = ((phaseDeg + phaseShiftDeg) * Math.PI) / 180;
    return { at: (t) => offset + amplitude * Math.sin(w * t + phase), wraps: false };
  }
  if ('ramp' in spec) {
    const { perS, from, to } = spec.ramp;
    if (to === undefined || to === from) return { at: (t) => from + perS * t, wraps: true };
    const span = to - from;
    return { at: (t) => from + mod(perS * t, span), wraps: true };
  }
  if ('counter' in spec) {
    const { perS, from } = spec.counter;
    return { at: (t) => Math.floor(from + perS * t), wraps: true };
  }
  if ('random' in spec) {
    const { min, max, everyS } = spec.random;
    return { at: (t) => min + (max - min) * unit(seed, Math.floor(t / everyS), channel), wraps: false };
  }
  const { periodS } = spec.toggle;
  return { at: (t) => (mod(t, periodS) < periodS / 2 ? 1 : 0), wraps: false };
}

/** x mod m in [0, m) for either sign of m's multiple. */
function mod(x: number, m: number): number {
  const r = x % m;
  return r !== 0 && r < 0 !== m < 0 ? r + m : r;
}

const RANGES: Partial<Record<TagType, readonly [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
  uint32: [0, 0xffff_ffff],
  // Values are doubles: 64-bit integers are exact only to 2^53.
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Registers a value of this type takes (1 for bool, which is one bit in a bit area). */
export function registersOf(type: TagType, length = 1): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return length;
    default:
      return 1;
  }
}

/** The raw value as an integer of the type: rounded, then wrapped or clamped. */
export function toInteger(type: TagType, v: number, wraps: boolean): number {
  const range = RANGES[type];
  if (!range) return v;
  const [lo, hi] = range;
  const n = Number.isFinite(v) ? Math.round(v) : v > 0 ? hi : lo;
  if (n >= lo && n <= hi) return n;
  if (wraps && hi - lo < Number.MAX_SAFE_INTEGER) return lo + mod(n - lo, hi - lo + 1);
  return n < lo ? lo : hi;
}

/** A bit value: 1 at or above one half (so 0/1, true/false and a toggle read as expected). */
export const toBit = (v: number | string): boolean => typeof v === 'number' && v >= 0.5;

/**
 * Write `value` as `type` in `order` into out[offset…] (registersOf(type, length) × 2 bytes).
 * `scratch` holds at least 8 bytes (reused, so no allocation per read).
 */
export function writeValue(
  type: TagType,
  order: WordOrder,
  value: number | string,
  wraps: boolean,
  length: number,
  out: Buffer,
  offset: number,
  scratch: Buffer,
): void {
  if (type === 'string') {
    writeString(String(value), order, length, out, offset);
    return;
  }
  const v = typeof value === 'number' ? value : Number(value);
  const regs = registersOf(type);
  switch (type) {
    case 'float32':
      scratch.writeFloatBE(v, 0);
      break;
    case 'float64':
      scratch.writeDoubleBE(v, 0);
      break;
    case 'int16':
      scratch.writeInt16BE(toInteger(type, v, wraps), 0);
      break;
    case 'uint16':
      scratch.writeUInt16BE(toInteger(type, v, wraps), 0);
      break;
    case 'int32':
      scratch.writeInt32BE(toInteger(type, v, wraps), 0);
      break;
    case 'uint32':
      scratch.writeUInt32BE(toInteger(type, v, wraps), 0);
      break;
    case 'int64':
      scratch.writeBigInt64BE(BigInt(toInteger(type, v, wraps)), 0);
      break;
    case 'uint64':
      scratch.writeBigUInt64BE(BigInt(toInteger(type, v, wraps)), 0);
      break;
    default:
      // bool in a register, bit: 0 or 1 (a bit's position is applied by the caller).
      scratch.writeUInt16BE(toBit(v) ? 1 : 0, 0);
  }
  reorder(scratch, regs, order, out, offset);
}

function reorder(src: Buffer, regs: number, order: WordOrder, out: Buffer, offset: number): void {
  const n = regs * 2;
  for (let j = 0; j < n; j++) {
    let from: number;
    switch (order) {
      case 'ABCD':
        from = j;
        break;
      case 'BADC':
        from = j ^ 1;
        break;
      case 'CDAB':
        from = n - 2 - (j & ~1) + (j & 1);
        break;
      default:
        from = n - 1 - j;
    }
    out[offset + j] = src[from]!;
  }
}

function writeString(text: string, order: WordOrder, length: number, out: Buffer, offset: number): void {
  const swap = order === 'BADC' || order === 'DCBA';
  const n = length * 2;
  for (let j = 0; j < n; j++) {
    const c = j < text.length ? text.charCodeAt(j) & 0x7f : 0;
    out[offset + (swap ? j ^ 1 : j)] = c;
  }
}
