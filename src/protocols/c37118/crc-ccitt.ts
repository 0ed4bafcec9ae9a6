// CHK (C37.118.2-2011 6.2, Annex B): CRC-CCITT with polynomial x^16 + x^12 + x^5 + 1 (0x1021),
// initial value 0xFFFF, no reflection, no final XOR ("CRC-16/CCITT-FALSE").
// Check values: "123456789" → 0x29B1, "ABCD" → 0xBFFA, "abc" → 0x514A.
// The standard's sample routine takes an 8-bit length and so is only right up to 255 bytes; this
// one is table driven over any length.

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** CRC-CCITT of buf[start, end). */
export function crcCcitt(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}
