// CRC-16/MODBUS (Modbus over Serial Line V1.02 §6.2.2): polynomial 0xA001 (0x8005 reflected),
// initial value 0xFFFF, no final XOR. Sent low byte first, the only little-endian field of an RTU
// frame. Check value: crc16("123456789") = 0x4B37.

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC of buf[start, end). */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}
