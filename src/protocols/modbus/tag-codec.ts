import type { ResolvedTag } from './resolve.js';

// Tag values from and to Modbus registers. Decoding allocates nothing but the string it returns
// for a string tag (decodeInto writes doubles into a Float64Array, so not even a boxed number);
// encoding (for the simulator and tests) writes into the caller's array.
//
// Orders (config.ts WORD_ORDERS), following Telegraf's byte_order (plugins/inputs/modbus,
// type_conversions{16,32,64}.go): an order is two independent swaps, resolved once per tag
// (resolve.ts `wordSwap`, `byteSwap`). Value bytes A (most significant) … D or H, registers r0…:
//
//            wordSwap byteSwap   16-bit   32-bit       64-bit (4 registers)
//   ABCD       no       no       AB       AB CD        AB CD EF GH   big-endian, the Modbus norm
//   CDAB       yes      no       AB       CD AB        GH EF CD AB   register order reversed
//   BADC       no       yes      BA       BA DC        BA DC FE HG   bytes swapped in each register
//   DCBA       yes      yes      BA       DC BA        HG FE DC BA   fully little-endian
//
// For 64 bits "CDAB" reverses all four registers (GHEFCDAB), as Telegraf's binaryLSWBEU64 and
// pymodbus's word_order="little" (convert_from_registers reverses the register list) do; it does
// NOT swap the two 32-bit halves' words pairwise (CDAB GHEF), which some vendors' manuals call
// "word swap" too: such a device is not expressible and needs a new order name in config.ts.
// 16-bit values (int16, uint16, bit) are byte-swapped for BADC and DCBA, as in Telegraf.
//
// Representations: int16–uint32 and float32/64 are exact as JS numbers. int64/uint64 decode to the
// nearest double (hi·2³² + lo, one correctly rounded addition): exact when |x| ≤ 2⁵³, relative error
// ≤ 2⁻⁵³ beyond; records, deadbands and scaling are doubles anyway. `decodeBigInt` gives the exact
// raw value for tools (`gridgate decode`). Engineering value = raw × scale + offset (numbers only).
//
// Strings: two 8-bit characters per register in register order, high byte first (ABCD, CDAB) or
// low byte first (BADC, DCBA); never word-reversed. Decoding stops at the first NUL and trims
// trailing spaces; bytes 0x80–0xFF read as Latin-1.
//
// Coils and discrete inputs: `decodeBit` takes one element per bit (modbus-serial's `data`, a
// boolean[], or 0/1 numbers); `decodePackedBit` the response bytes as on the wire (function codes 1
// and 2: bit i of the read is bit i % 8, least significant first, of byte i / 8). A bool tag's
// offset is in bits. Callers check the response's length against the read before decoding: no
// bounds checks here.

/** Registers of a read (function code 3 or 4). */
export type RegisterData = ArrayLike<number>;
/** Bits of a read (function code 1 or 2), one element per bit. */
export type BitData = ArrayLike<boolean | number>;
export type WritableRegisters = { [index: number]: number; readonly length: number };
export type TagValue = number | boolean | string;

/** Scratch for float reinterpretation and string bytes; holds nothing between calls (synchronous). */
const SCRATCH = new DataView(new ArrayBuffer(8));
/** A string tag is at most 125 registers (config.ts `length`, the FC3 limit): 250 bytes. */
const STRING_BYTES = Buffer.allocUnsafe(250);
const TWO_32 = 4_294_967_296;
const TWO_63 = 9_223_372_036_854_775_808;
const TWO_64 = 18_446_744_073_709_551_616;

/** Word k (0 = most significant) of an n-register value, in the tag's order. */
function word(tag: ResolvedTag, data: RegisterData, offset: number, n: number, k: number): number {
  const r = data[offset + (tag.wordSwap ? n - 1 - k : k)]! & 0xffff;
  return tag.byteSwap ? ((r & 0xff) << 8) | (r >>> 8) : r;
}

function putWord(tag: ResolvedTag, out: WritableRegisters, offset: number, n: number, k: number, w: number): void {
  const r = w & 0xffff;
  out[offset + (tag.wordSwap ? n - 1 - k : k)] = tag.byteSwap ? ((r & 0xff) << 8) | (r >>> 8) : r;
}

/** One bit of a coil or discrete-input read, one element per bit. */
export function decodeBit(bits: BitData, offset: number): boolean {
  return bits[offset] === true || bits[offset] === 1;
}

/** One bit of a coil or discrete-input response's packed bytes. */
export function decodePackedBit(bytes: RegisterData, offset: number): boolean {
  return ((bytes[offset >>> 3]! >>> (offset & 7)) & 1) === 1;
}

export function encodePackedBit(bytes: WritableRegisters, offset: number, value: boolean): void {
  const i = offset >>> 3;
  const mask = 1 << (offset & 7);
  const b = bytes[i] ?? 0;
  bytes[i] = value ? (b | mask) & 0xff : b & ~mask & 0xff;
}

/** The tag's value: engineering number, boolean (bool, bit) or string. bool tags read `BitData`. */
export function decodeTag(tag: ResolvedTag, data: RegisterData | BitData, offset: number): TagValue {
  if (tag.type === 'bool') return decodeBit(data, offset);
  const registers = data as RegisterData;
  switch (tag.type) {
    case 'bit':
      return ((word(tag, registers, offset, 1, 0) >>> tag.bit) & 1) === 1;
    case 'string':
      return decodeString(tag, registers, offset);
    default:
      return engineering(tag, decodeRaw(tag, registers, offset));
  }
}

/**
 * The tag's value as a double into `out[index]`: engineering value for numbers, 1 or 0 for bool and
 * bit, NaN for strings. The allocation-free path: a double returned from a call that V8 does not
 * inline is boxed (16 bytes), which decodeTag pays per number; a Float64Array slot is not.
 */
export function decodeInto(tag: ResolvedTag, data: RegisterData | BitData, offset: number, out: Float64Array, index: number): void {
  switch (tag.type) {
    case 'bool':
      out[index] = decodeBit(data, offset) ? 1 : 0;
      return;
    case 'bit':
      out[index] = (word(tag, data as RegisterData, offset, 1, 0) >>> tag.bit) & 1;
      return;
    case 'string':
      out[index] = NaN;
      return;
    default:
      out[index] = engineering(tag, decodeRaw(tag, data as RegisterData, offset));
  }
}

/** raw × scale + offset; a decimal scale (0.1, 0.001 …) divides instead, so −950 × 0.001 reads −0.95. */
function engineering(tag: ResolvedTag, raw: number): number {
  return (tag.scaleDivisor > 0 ? raw / tag.scaleDivisor : raw * tag.scale) + tag.offset;
}

/** The raw number of a number tag, before scale and offset (NaN for bool, bit and string). */
export function decodeRaw(tag: ResolvedTag, data: RegisterData, offset: number): number {
  switch (tag.type) {
    case 'uint16':
      return word(tag, data, offset, 1, 0);
    case 'int16':
      return (word(tag, data, offset, 1, 0) << 16) >> 16;
    case 'uint32':
      return word(tag, data, offset, 2, 0) * 65_536 + word(tag, data, offset, 2, 1);
    case 'int32':
      return (word(tag, data, offset, 2, 0) << 16) | word(tag, data, offset, 2, 1);
    case 'float32':
      SCRATCH.setUint16(0, word(tag, data, offset, 2, 0));
      SCRATCH.setUint16(2, word(tag, data, offset, 2, 1));
      return SCRATCH.getFloat32(0);
    case 'uint64':
      return (word(tag, data, offset, 4, 0) * 65_536 + word(tag, data, offset, 4, 1)) * TWO_32 + (word(tag, data, offset, 4, 2) * 65_536 + word(tag, data, offset, 4, 3));
    case 'int64':
      return ((word(tag, data, offset, 4, 0) << 16) | word(tag, data, offset, 4, 1)) * TWO_32 + (word(tag, data, offset, 4, 2) * 65_536 + word(tag, data, offset, 4, 3));
    case 'float64':
      for (let k = 0; k < 4; k++) SCRATCH.setUint16(2 * k, word(tag, data, offset, 4, k));
      return SCRATCH.getFloat64(0);
    default:
      return NaN;
  }
}

/** The exact raw value of an integer tag (int64/uint64 beyond 2⁵³ included); allocates a bigint. */
export function decodeBigInt(tag: ResolvedTag, data: RegisterData, offset: number): bigint {
  if (tag.type === 'int64' || tag.type === 'uint64') {
    let v = 0n;
    for (let k = 0; k < 4; k++) v = (v << 16n) | BigInt(word(tag, data, offset, 4, k));
    return tag.type === 'int64' ? BigInt.asIntN(64, v) : v;
  }
  if (tag.type === 'int16' || tag.type === 'uint16' || tag.type === 'int32' || tag.type === 'uint32') return BigInt(decodeRaw(tag, data, offset));
  throw new TypeError(`decodeBigInt: tag ${tag.name} is ${tag.type}, not an integer type`);
}

function decodeString(tag: ResolvedTag, data: RegisterData, offset: number): string {
  const bytes = Math.min(2 * tag.count, STRING_BYTES.length);
  let end = 0;
  while (end < bytes) {
    const r = data[offset + (end >>> 1)]! & 0xffff;
    const b = (end & 1) === (tag.byteSwap ? 1 : 0) ? r >>> 8 : r & 0xff;
    if (b === 0) break;
    STRING_BYTES[end++] = b;
  }
  while (end > 0 && STRING_BYTES[end - 1] === 0x20) end--;
  return STRING_BYTES.toString('latin1', 0, end);
}

/**
 * Write `value` (an engineering value) as the tag's registers at `out[offset]` (for bool: 0 or 1
 * at `out[offset]`, one element per bit; see encodePackedBit for wire bytes). Integers are rounded to nearest and saturate at the type's range, as a device
 * clamps a measurement; NaN for an integer type is a RangeError. A bigint is the exact raw value
 * of an integer tag (scale and offset not applied). A string is truncated to `length` registers and
 * NUL-padded; characters above U+00FF become '?'. A bit tag changes only its bit of the register.
 */
export function encodeTag(tag: ResolvedTag, value: TagValue | bigint, out: WritableRegisters, offset: number): void {
  switch (tag.type) {
    case 'bool':
      out[offset] = expect(tag, value, 'boolean') ? 1 : 0;
      return;
    case 'bit': {
      const set = expect(tag, value, 'boolean');
      const w = out[offset] === undefined ? 0 : word(tag, out, offset, 1, 0);
      putWord(tag, out, offset, 1, 0, set ? w | (1 << tag.bit) : w & ~(1 << tag.bit));
      return;
    }
    case 'string':
      encodeString(tag, expect(tag, value, 'string'), out, offset);
      return;
    default:
      encodeNumber(tag, value, out, offset);
  }
}

function expect<K extends 'boolean' | 'string'>(tag: ResolvedTag, value: unknown, kind: K): K extends 'boolean' ? boolean : string {
  if (typeof value !== kind) throw new TypeError(`encodeTag: tag ${tag.name} (${tag.type}) takes a ${kind}, not ${typeof value}`);
  return value as K extends 'boolean' ? boolean : string;
}

function encodeString(tag: ResolvedTag, text: string, out: WritableRegisters, offset: number): void {
  for (let i = 0; i < 2 * tag.count; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0;
    const b = c > 0xff ? 0x3f : c;
    const at = offset + (i >>> 1);
    const high = (i & 1) === (tag.byteSwap ? 1 : 0);
    const r = (i & 1) === 0 ? 0 : out[at]!;
    out[at] = high ? (r & 0x00ff) | (b << 8) : (r & 0xff00) | b;
  }
}

function encodeNumber(tag: ResolvedTag, value: TagValue | bigint, out: WritableRegisters, offset: number): void {
  if (typeof value === 'bigint') {
    encodeBigInt(tag, value, out, offset);
    return;
  }
  if (typeof value !== 'number') throw new TypeError(`encodeTag: tag ${tag.name} (${tag.type}) takes a number, not ${typeof value}`);
  const raw = (value - tag.offset) / tag.scale;
  if (tag.type === 'float32' || tag.type === 'float64') {
    const n = tag.type === 'float32' ? 2 : 4;
    if (n === 2) SCRATCH.setFloat32(0, raw);
    else SCRATCH.setFloat64(0, raw);
    for (let k = 0; k < n; k++) putWord(tag, out, offset, n, k, SCRATCH.getUint16(2 * k));
    return;
  }
  if (Number.isNaN(raw)) throw new RangeError(`encodeTag: tag ${tag.name} (${tag.type}) cannot hold NaN`);
  const r = Math.round(raw);
  switch (tag.type) {
    case 'int16':
    case 'uint16': {
      const v = tag.type === 'int16' ? clamp(r, -32_768, 32_767) : clamp(r, 0, 65_535);
      putWord(tag, out, offset, 1, 0, v);
      return;
    }
    case 'int32':
    case 'uint32': {
      const v = tag.type === 'int32' ? clamp(r, -2_147_483_648, 2_147_483_647) : clamp(r, 0, TWO_32 - 1);
      putWord(tag, out, offset, 2, 0, v >>> 16);
      putWord(tag, out, offset, 2, 1, v);
      return;
    }
    case 'int64':
    case 'uint64': {
      const signed = tag.type === 'int64';
      const min = signed ? -TWO_63 : 0;
      const top = signed ? TWO_63 : TWO_64; // exclusive: 2⁶³−1 and 2⁶⁴−1 are no doubles, so written as all ones
      let hi: number;
      let lo: number;
      if (r >= top) [hi, lo] = [signed ? 0x7fff_ffff : 0xffff_ffff, 0xffff_ffff];
      else {
        const v = Math.max(r, min);
        hi = Math.floor(v / TWO_32);
        lo = v - hi * TWO_32;
      }
      put64(tag, out, offset, hi, lo);
      return;
    }
  }
}

function encodeBigInt(tag: ResolvedTag, value: bigint, out: WritableRegisters, offset: number): void {
  if (tag.type === 'int64' || tag.type === 'uint64') {
    const v = BigInt.asUintN(64, value);
    put64(tag, out, offset, Number(v >> 32n), Number(v & 0xffff_ffffn));
    return;
  }
  if (tag.type === 'float32' || tag.type === 'float64') throw new TypeError(`encodeTag: tag ${tag.name} is ${tag.type}: give a number, not a bigint`);
  // 16- and 32-bit integers: the exact value is a safe number; scale and offset are not applied.
  encodeNumber({ ...tag, scale: 1, offset: 0 }, Number(value), out, offset);
}

function put64(tag: ResolvedTag, out: WritableRegisters, offset: number, hi: number, lo: number): void {
  putWord(tag, out, offset, 4, 0, hi >>> 16);
  putWord(tag, out, offset, 4, 1, hi);
  putWord(tag, out, offset, 4, 2, lo >>> 16);
  putWord(tag, out, offset, 4, 3, lo);
}

function clamp(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v;
}
