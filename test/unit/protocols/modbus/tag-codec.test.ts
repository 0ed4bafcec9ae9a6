// Register values worked by hand (and checked against Python's struct), for every type in every
// order, then seeded round trips. Orders as Telegraf's byte_order: ABCD big-endian, CDAB registers
// reversed, BADC bytes swapped in each register, DCBA fully little-endian (64-bit: GHEFCDAB etc.).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WORD_ORDERS, type TagType, type WordOrder } from '../../../../src/protocols/modbus/config.js';
import {
  decodeBigInt,
  decodeBit,
  decodePackedBit,
  decodeRaw,
  decodeTag,
  encodePackedBit,
  encodeTag,
  type TagValue,
} from '../../../../src/protocols/modbus/tag-codec.js';
import { mulberry32 } from '../../../helpers/wait.js';
import { tagOf } from './tags.js';

type ByOrder = Record<WordOrder, number[]>;

/** Decodes `registers` at offset 1 of a padded read, and encodes `value` back to the same registers. */
function check(type: TagType, value: TagValue, byOrder: ByOrder, extra = {}): void {
  for (const order of WORD_ORDERS) {
    const tag = tagOf(type, order, extra);
    const registers = byOrder[order];
    const read = Uint16Array.of(0xdead, ...registers, 0xbeef);
    assert.deepEqual(decodeTag(tag, read, 1), value, `${type} ${order} decode`);
    assert.deepEqual(decodeTag(tag, [...registers], 0), value, `${type} ${order} decode from number[]`);
    const out = new Uint16Array(registers.length + 2);
    encodeTag(tag, value, out, 1);
    assert.deepEqual([...out], [0, ...registers, 0], `${type} ${order} encode`);
  }
}

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(4, '0')).join(' ');

describe('tag codec, worked values', () => {
  it('decodes float32 123.456 (0x42F6E979) in every order', () => {
    const v = Math.fround(123.456);
    check('float32', v, { ABCD: [0x42f6, 0xe979], CDAB: [0xe979, 0x42f6], BADC: [0xf642, 0x79e9], DCBA: [0x79e9, 0xf642] });
  });

  it('decodes int32 −2 and uint32 0x12345678 in every order', () => {
    check('int32', -2, { ABCD: [0xffff, 0xfffe], CDAB: [0xfffe, 0xffff], BADC: [0xffff, 0xfeff], DCBA: [0xfeff, 0xffff] });
    check('uint32', 0x12345678, { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] });
    check('uint32', 0xfffffffe, { ABCD: [0xffff, 0xfffe], CDAB: [0xfffe, 0xffff], BADC: [0xffff, 0xfeff], DCBA: [0xfeff, 0xffff] });
  });

  it('decodes 16-bit values byte-swapped for BADC and DCBA only, with int16 signed', () => {
    check('uint16', 0x1234, { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] });
    check('int16', -2, { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] });
    check('int16', -32_768, { ABCD: [0x8000], CDAB: [0x8000], BADC: [0x0080], DCBA: [0x0080] });
    check('int16', 32_767, { ABCD: [0x7fff], CDAB: [0x7fff], BADC: [0xff7f], DCBA: [0xff7f] });
    assert.equal(decodeTag(tagOf('uint16'), [0x8000], 0), 32_768);
  });

  it('decodes float64 123.456 (0x405EDD2F1A9FBE77) and −2.5 in every order, 64-bit CDAB reversing all four registers', () => {
    check('float64', 123.456, {
      ABCD: [0x405e, 0xdd2f, 0x1a9f, 0xbe77],
      CDAB: [0xbe77, 0x1a9f, 0xdd2f, 0x405e],
      BADC: [0x5e40, 0x2fdd, 0x9f1a, 0x77be],
      DCBA: [0x77be, 0x9f1a, 0x2fdd, 0x5e40],
    });
    check('float64', -2.5, { ABCD: [0xc004, 0, 0, 0], CDAB: [0, 0, 0, 0xc004], BADC: [0x04c0, 0, 0, 0], DCBA: [0, 0, 0, 0x04c0] });
  });

  it('decodes int64 −1234567890123 (0xFFFFFEE08E04FB35) in every order', () => {
    check('int64', -1_234_567_890_123, {
      ABCD: [0xffff, 0xfee0, 0x8e04, 0xfb35],
      CDAB: [0xfb35, 0x8e04, 0xfee0, 0xffff],
      BADC: [0xffff, 0xe0fe, 0x048e, 0x35fb],
      DCBA: [0x35fb, 0x048e, 0xe0fe, 0xffff],
    });
    check('int64', -2, { ABCD: [0xffff, 0xffff, 0xffff, 0xfffe], CDAB: [0xfffe, 0xffff, 0xffff, 0xffff], BADC: [0xffff, 0xffff, 0xffff, 0xfeff], DCBA: [0xfeff, 0xffff, 0xffff, 0xffff] });
  });

  it('decodes uint64 beyond 2⁵³ to the nearest double, and exactly with decodeBigInt', () => {
    const registers = { ABCD: [0x0102, 0x0304, 0x0506, 0x0708], CDAB: [0x0708, 0x0506, 0x0304, 0x0102], BADC: [0x0201, 0x0403, 0x0605, 0x0807], DCBA: [0x0807, 0x0605, 0x0403, 0x0201] };
    for (const order of WORD_ORDERS) {
      const tag = tagOf('uint64', order);
      assert.equal(decodeBigInt(tag, registers[order], 0), 0x0102030405060708n, order);
      assert.equal(decodeTag(tag, registers[order], 0), Number(0x0102030405060708n), `${order}: correctly rounded`);
    }
  });

  it('decodes uint64 2⁵³+1 as the number 2⁵³ (a tie, rounded to even) and the bigint 2⁵³+1', () => {
    const tag = tagOf('uint64');
    const registers = [0x0020, 0, 0, 1];
    assert.equal(decodeTag(tag, registers, 0), 2 ** 53);
    assert.equal(decodeBigInt(tag, registers, 0), 2n ** 53n + 1n);
    assert.equal(decodeTag(tag, [0x001f, 0xffff, 0xffff, 0xffff], 0), Number.MAX_SAFE_INTEGER, 'exact up to 2⁵³ − 1');
    const out = new Uint16Array(4);
    encodeTag(tag, 2n ** 53n + 1n, out, 0);
    assert.deepEqual([...out], registers, 'a bigint encodes exactly');
    assert.equal(decodeBigInt(tagOf('int64'), [0x8000, 0, 0, 0], 0), -(2n ** 63n));
    assert.equal(decodeTag(tagOf('int64'), [0x8000, 0, 0, 0], 0), -(2 ** 63));
  });

  it('reads bit 15 of 0x8000 as true and the other bits as false, after the byte order', () => {
    for (let bit = 0; bit < 16; bit++) assert.equal(decodeTag(tagOf('bit', 'ABCD', { bit }), [0x8000], 0), bit === 15, `bit ${bit}`);
    assert.equal(decodeTag(tagOf('bit', 'BADC', { bit: 15 }), [0x0080], 0), true, 'BADC: the register 0x0080 is the value 0x8000');
    assert.equal(decodeTag(tagOf('bit', 'CDAB', { bit: 0 }), [0x0001], 0), true);
  });

  it('sets and clears one bit of a register, leaving the others', () => {
    const out = [0x00f0];
    encodeTag(tagOf('bit', 'ABCD', { bit: 15 }), true, out, 0);
    encodeTag(tagOf('bit', 'ABCD', { bit: 4 }), false, out, 0);
    assert.deepEqual(out, [0x80e0]);
    const swapped = [0];
    encodeTag(tagOf('bit', 'DCBA', { bit: 0 }), true, swapped, 0);
    assert.deepEqual(swapped, [0x0100]);
  });

  it('applies raw × scale + offset to numbers only', () => {
    assert.equal(decodeTag(tagOf('int16', 'ABCD', { scale: 0.5, offset: -10 }), [1234], 0), 607);
    assert.equal(decodeTag(tagOf('int16', 'ABCD', { scale: 0.5, offset: -10 }), [0xfffe], 0), -11);
    assert.ok(Math.abs((decodeTag(tagOf('uint16', 'ABCD', { scale: 0.1 }), [2305], 0) as number) - 230.5) < 1e-12);
    assert.equal(decodeRaw(tagOf('uint16', 'ABCD', { scale: 0.1 }), [2305], 0), 2305);
    assert.equal(decodeTag(tagOf('bit', 'ABCD', { bit: 0, scale: 10, offset: 3 }), [1], 0), true);
    assert.equal(decodeTag(tagOf('string', 'ABCD', { scale: 10, offset: 3 }), [0x4142, 0x3132], 0), 'AB12');
    const out = [0];
    encodeTag(tagOf('int16', 'ABCD', { scale: 0.5, offset: -10 }), 607, out, 0);
    assert.deepEqual(out, [1234]);
  });

  it('reads strings two characters per register, high byte first for ABCD and CDAB, never word-reversed', () => {
    check('string', 'AB12', { ABCD: [0x4142, 0x3132], CDAB: [0x4142, 0x3132], BADC: [0x4241, 0x3231], DCBA: [0x4241, 0x3231] });
    check('string', 'ABC', { ABCD: [0x4142, 0x4300], CDAB: [0x4142, 0x4300], BADC: [0x4241, 0x0043], DCBA: [0x4241, 0x0043] });
  });

  it('trims trailing NULs and spaces, and stops at the first NUL', () => {
    const tag = tagOf('string', 'ABCD', { length: 4 });
    assert.equal(decodeTag(tag, [0x4142, 0x3132, 0, 0], 0), 'AB12');
    assert.equal(decodeTag(tag, [0x4142, 0x3132, 0x2020, 0x2000], 0), 'AB12');
    assert.equal(decodeTag(tag, [0x4120, 0x4200, 0x5858, 0x5858], 0), 'A B', 'inner spaces stay; bytes after the NUL are ignored');
    assert.equal(decodeTag(tag, [0x2020, 0, 0, 0], 0), '');
    assert.equal(decodeTag(tag, [0xe9c4, 0, 0, 0], 0), 'éÄ', 'bytes above 0x7F as Latin-1');
  });

  it('encodes a string truncated to its registers, NUL-padded, with characters above U+00FF as ?', () => {
    const tag = tagOf('string', 'ABCD', { length: 2 });
    const out = [9, 9];
    encodeTag(tag, 'ABCDEF', out, 0);
    assert.deepEqual(out, [0x4142, 0x4344]);
    encodeTag(tag, 'Ω', out, 0);
    assert.deepEqual(out, [0x3f00, 0]);
  });

  it('decodes coil bits one element per bit, and packed wire bytes least significant bit first', () => {
    assert.equal(decodeBit([false, true, false], 1), true);
    assert.equal(decodeBit([0, 1, 0], 2), false);
    assert.equal(decodeTag(tagOf('bool'), [false, true], 1), true);
    // FC1 response bytes 0xCD 0x01 for 10 coils: coils 0, 2, 3, 6, 7 and 8 on (V1.1b3 6.1 example style).
    const packed = [0xcd, 0x01];
    const on = Array.from({ length: 10 }, (_, i) => decodePackedBit(packed, i));
    assert.deepEqual(on, [true, false, true, true, false, false, true, true, true, false]);
    const out = [0, 0];
    on.forEach((v, i) => encodePackedBit(out, i, v));
    assert.deepEqual(out, packed);
    const bits: number[] = [0, 0];
    encodeTag(tagOf('bool'), true, bits, 1);
    assert.deepEqual(bits, [0, 1]);
  });

  it('rounds and saturates integers when encoding, and refuses NaN', () => {
    const enc = (type: TagType, v: number) => {
      const out = new Uint16Array(4);
      encodeTag(tagOf(type), v, out, 0);
      return hex([...out]);
    };
    assert.equal(enc('int16', 40_000), '7fff 0000 0000 0000');
    assert.equal(enc('int16', -1e9), '8000 0000 0000 0000');
    assert.equal(enc('uint16', -5), '0000 0000 0000 0000');
    assert.equal(enc('uint16', 2.6), '0003 0000 0000 0000');
    assert.equal(enc('uint32', Infinity), 'ffff ffff 0000 0000');
    assert.equal(enc('int32', -Infinity), '8000 0000 0000 0000');
    assert.equal(enc('int64', 2 ** 63), '7fff ffff ffff ffff');
    assert.equal(enc('int64', -(2 ** 70)), '8000 0000 0000 0000');
    assert.equal(enc('uint64', 2 ** 64), 'ffff ffff ffff ffff');
    assert.equal(enc('uint64', -1), '0000 0000 0000 0000');
    assert.throws(() => enc('int32', NaN), RangeError);
    assert.throws(() => encodeTag(tagOf('int16'), 'x', [0], 0), TypeError);
    assert.throws(() => encodeTag(tagOf('bool'), 1, [0], 0), TypeError);
  });
});

describe('tag codec, seeded round trips', () => {
  const random = mulberry32(0x6d0d);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const value: Record<TagType, () => TagValue> = {
    bool: () => random() < 0.5,
    bit: () => random() < 0.5,
    int16: () => int(-32_768, 32_767),
    uint16: () => int(0, 65_535),
    int32: () => int(-(2 ** 31), 2 ** 31 - 1),
    uint32: () => int(0, 2 ** 32 - 1),
    int64: () => int(-(2 ** 53), 2 ** 53),
    uint64: () => int(0, 2 ** 53),
    float32: () => Math.fround((random() - 0.5) * 10 ** int(-20, 20)),
    float64: () => (random() - 0.5) * 10 ** int(-300, 300),
    string: () => Array.from({ length: int(0, 10) }, () => String.fromCharCode(int(0x21, 0x7e))).join(''),
  };

  for (const type of Object.keys(value) as TagType[]) {
    it(`round-trips 200 random ${type} values in every order`, () => {
      for (const order of WORD_ORDERS) {
        for (let i = 0; i < 200; i++) {
          const bit = int(0, 15);
          const tag = tagOf(type, order, type === 'bit' ? { bit } : type === 'string' ? { length: 5 } : {});
          const v = value[type]();
          const out = new Uint16Array(tag.count + 3).map(() => int(0, 0xffff));
          const before = out.slice();
          const at = int(0, 3);
          encodeTag(tag, v, out, at);
          assert.deepEqual(decodeTag(tag, out, at), v, `${type} ${order} ${String(v)}`);
          for (let r = 0; r < out.length; r++) {
            const inside = r >= at && r < at + tag.count;
            if (!inside) assert.equal(out[r], before[r], `${type} ${order}: register ${r} outside the tag untouched`);
          }
        }
      }
    });
  }

  it('round-trips random full-range 64-bit integers exactly as bigints in every order', () => {
    for (const order of WORD_ORDERS) {
      for (let i = 0; i < 200; i++) {
        const u = (BigInt(int(0, 2 ** 32 - 1)) << 32n) | BigInt(int(0, 2 ** 32 - 1));
        const out = new Uint16Array(4);
        encodeTag(tagOf('uint64', order), u, out, 0);
        assert.equal(decodeBigInt(tagOf('uint64', order), out, 0), u);
        assert.equal(decodeTag(tagOf('uint64', order), out, 0), Number(u), 'the number is the correctly rounded value');
        encodeTag(tagOf('int64', order), BigInt.asIntN(64, u), out, 0);
        assert.equal(decodeBigInt(tagOf('int64', order), out, 0), BigInt.asIntN(64, u));
        assert.equal(decodeTag(tagOf('int64', order), out, 0), Number(BigInt.asIntN(64, u)));
      }
    }
  });

  it('round-trips scaled values within half a raw step', () => {
    for (let i = 0; i < 500; i++) {
      const tag = tagOf('int32', WORD_ORDERS[i % 4], { scale: 0.01, offset: -50 });
      const v = (random() - 0.5) * 1e6;
      const out = new Uint16Array(2);
      encodeTag(tag, v, out, 0);
      assert.ok(Math.abs((decodeTag(tag, out, 0) as number) - v) <= 0.005 + 1e-9, String(v));
    }
  });
});
