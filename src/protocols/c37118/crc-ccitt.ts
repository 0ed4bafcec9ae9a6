// CHK (C37.118.2-2011 6.2, Annex B): CRC-CCITT with polynomial x^16 + x^12 + x^5 + 1 (0x1021),
// initial value 0xFFFF, no reflection, no final XOR ("CRC-16/CCITT-FALSE").
// Check values: "123456789" → 0x29B1, "ABCD" → 0xBFFA, "abc" → 0x514A.
// The standard's sample routine takes an 8-bit length and so is only right up to 255 bytes; this
// one takes any length.
//
// Slicing-by-4: the CRC is linear over XOR, so four bytes can be folded at once with four tables,
// TABLES[k][v] being the CRC of byte v followed by k zero bytes. The CRC (16 bits) is XORed into
// the first two of the four bytes. Four independent lookups per four bytes instead of a chain of
// four dependent ones: the CRC was most of the time of the data path (bench/c37118.ts).

const T0 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  T0[i] = crc;
}
/** The CRC of `crc` followed by one zero byte. */
const shift = (crc: number): number => ((crc << 8) & 0xffff) ^ T0[crc >>> 8]!;
const T1 = T0.map(shift);
const T2 = T1.map(shift);
const T3 = T2.map(shift);

/** CRC-CCITT of buf[start, end). */
export function crcCcitt(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    const hi = (crc >>> 8) ^ buf[i]!;
    const lo = (crc & 0xff) ^ buf[i + 1]!;
    crc = T3[hi]! ^ T2[lo]! ^ T1[buf[i + 2]!]! ^ T0[buf[i + 3]!]!;
  }
  for (; i < end; i++) crc = ((crc << 8) & 0xffff) ^ T0[((crc >>> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}
