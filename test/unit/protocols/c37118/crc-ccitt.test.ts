import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crcCcitt } from '../../../../src/protocols/c37118/crc-ccitt.js';
import { crcMatches } from '../../../../src/protocols/c37118/frame-header.js';
import { encodeHeader } from '../../../../src/protocols/c37118/encoder.js';
import { seededRandom } from '../../../helpers/wait.js';
import { loadVectors, frameSpans } from '../../../helpers/c37118.js';

/** Bit by bit, straight from the definition: poly 0x1021, init 0xFFFF, no reflection, no final XOR. */
function bitwise(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The standard's sample routine ported literally: its length is an unsigned char (Annex B). */
function annexBWithByteLength(bytes: Uint8Array): number {
  const length = bytes.length & 0xff;
  return bitwise(bytes.subarray(0, length));
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('CRC-CCITT (CHK)', () => {
  it('gives the published check values for "123456789", "ABCD" and "abc"', () => {
    assert.equal(crcCcitt(ascii('123456789')), 0x29b1);
    assert.equal(crcCcitt(ascii('ABCD')), 0xbffa);
    assert.equal(crcCcitt(ascii('abc')), 0x514a);
  });

  it('is 0xFFFF, the initial value, over no bytes', () => {
    assert.equal(crcCcitt(new Uint8Array(0)), 0xffff);
  });

  it('covers only buf[start, end) when given a range', () => {
    const buf = ascii('xx123456789yy');
    assert.equal(crcCcitt(buf, 2, 11), 0x29b1);
  });

  it('agrees with a bit-by-bit reference for random inputs of every length up to 1100 bytes', () => {
    const random = seededRandom(4712);
    for (let length = 0; length <= 1100; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      assert.equal(crcCcitt(bytes), bitwise(bytes), `length ${length}`);
    }
  });

  it('is right for a frame longer than 255 bytes, where a port of the 8-bit-length sample routine is wrong', () => {
    const frame = encodeHeader({ idcode: 7, soc: 1_149_580_800, fracsec: 0 }, 'a header text long enough to pass 255 bytes '.repeat(8));
    assert.ok(frame.length > 255);
    assert.ok(crcMatches(frame, 0, frame.length));
    const body = frame.subarray(0, frame.length - 2);
    assert.equal(crcCcitt(body), frame.readUInt16BE(frame.length - 2));
    assert.equal(crcCcitt(body), bitwise(body));
    assert.notEqual(annexBWithByteLength(body), crcCcitt(body), 'the literal port should disagree past 255 bytes');
  });

  it('matches the CHK of every frame of every reference vector, including 2324-byte configurations', () => {
    let longest = 0;
    for (const vector of loadVectors()) {
      for (const { offset, length } of frameSpans(vector.bytes)) {
        const chk = vector.bytes.readUInt16BE(offset + length - 2);
        assert.equal(crcCcitt(vector.bytes, offset, offset + length - 2), chk, `${vector.name} frame at ${offset}`);
        longest = Math.max(longest, length);
      }
    }
    assert.ok(longest > 255, 'the vectors should include a frame longer than 255 bytes');
  });

  it('detects every single-bit error in a frame', () => {
    const frame = encodeHeader({ idcode: 1, soc: 0, fracsec: 0 }, 'station text');
    for (let bit = 0; bit < (frame.length - 2) * 8; bit++) {
      const copy = Buffer.from(frame);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      assert.ok(!crcMatches(copy, 0, copy.length), `bit ${bit} flipped unnoticed`);
    }
  });
});
