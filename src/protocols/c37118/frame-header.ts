import {
  CRC_SIZE,
  FRACTION_MASK,
  FrameType,
  HEADER_SIZE,
  MIN_FRAME_SIZE,
  SYNC_BYTE,
  VERSION_2005,
  VERSION_2011,
} from './constants.js';
import { crcCcitt } from './crc-ccitt.js';

// The 14-byte common header every frame starts with (C37.118.2-2011 6.2, Table 2):
//
//   offset  size  field
//   0       1     SYNC leading byte 0xAA
//   1       1     SYNC: bit 7 reserved, bits 6–4 frame type, bits 3–0 version
//   2       2     FRAMESIZE: bytes from SYNC through CHK
//   4       2     IDCODE: the stream (data source) id
//   6       4     SOC: seconds since 1970-01-01T00:00:00Z, leap seconds not counted
//   10      4     FRACSEC: bits 31–24 time quality, bits 23–0 fraction of a second
//   …             body
//   size-2  2     CHK: CRC-CCITT over everything before it
//
// Reading the header allocates nothing: callers pass offsets into a buffer they own.

export const frameTypeOf = (buf: Uint8Array, offset: number): number => (buf[offset + 1]! >> 4) & 0x7;
export const versionOf = (buf: Uint8Array, offset: number): number => buf[offset + 1]! & 0xf;
export const frameSizeOf = (buf: Buffer, offset: number): number => buf.readUInt16BE(offset + 2);
export const idcodeOf = (buf: Buffer, offset: number): number => buf.readUInt16BE(offset + 4);
export const socOf = (buf: Buffer, offset: number): number => buf.readUInt32BE(offset + 6);
export const fracsecOf = (buf: Buffer, offset: number): number => buf.readUInt32BE(offset + 10);
export const timeQualityOf = (buf: Uint8Array, offset: number): number => buf[offset + 10]!;
export const fractionOf = (buf: Buffer, offset: number): number => buf.readUInt32BE(offset + 10) & FRACTION_MASK;

/** Could buf[offset], buf[offset+1] start a frame? Cheap, before any size or CRC check. */
export function plausibleSync(buf: Uint8Array, offset: number): boolean {
  if (buf[offset] !== SYNC_BYTE) return false;
  const second = buf[offset + 1]!;
  // Bit 7 is reserved (zero); frame types 6 and 7 do not exist.
  return (second & 0x80) === 0 && ((second >> 4) & 0x7) <= FrameType.CFG3;
}

export const supportedVersion = (version: number): boolean => version === VERSION_2005 || version === VERSION_2011;

/** Does the CHK of the frame at buf[offset, offset+size) match its contents? */
export function crcMatches(buf: Buffer, offset: number, size: number): boolean {
  if (size < MIN_FRAME_SIZE) return false;
  return crcCcitt(buf, offset, offset + size - CRC_SIZE) === buf.readUInt16BE(offset + size - CRC_SIZE);
}

/** Body bytes between the common header and CHK. */
export const bodyStart = (offset: number): number => offset + HEADER_SIZE;
export const bodyEnd = (offset: number, size: number): number => offset + size - CRC_SIZE;
