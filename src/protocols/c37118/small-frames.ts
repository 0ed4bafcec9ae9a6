import { ByteReader } from '../shared/byte-reader.js';
import { CONT_IDX_LAST, Command, CRC_SIZE, HEADER_SIZE } from './constants.js';
import type { ParseResult } from './cfg-frame.js';

// Header frames (6.5: free ASCII text) and command frames (6.6, Table 15: CMD plus, for the
// extended frame command, user data of even length), and CFG-3's CONT_IDX.

export interface CommandFrame {
  command: number;
  /** Extended-frame payload (CMD 0x0008) or unexpected trailing bytes. */
  extended: Buffer;
}

export function parseHeaderText(buf: Buffer, offset: number, size: number): string {
  // Devices pad with NULs; the text is ASCII, read as latin1 so that no byte can throw.
  return buf.toString('latin1', offset + HEADER_SIZE, offset + size - CRC_SIZE).replace(/\0+$/u, '');
}

export function parseCommand(buf: Buffer, offset: number, size: number): ParseResult<CommandFrame> {
  const r = new ByteReader(buf, offset + HEADER_SIZE, offset + size - CRC_SIZE);
  const command = r.u16();
  if (r.overrun) return { ok: false, reason: 'a command frame without CMD' };
  const extended = r.bytes(r.remaining);
  if (command === Command.EXTENDED_FRAME && extended.length % 2 !== 0) {
    return { ok: false, reason: 'extended frame data of odd length' };
  }
  return { ok: true, value: { command, extended } };
}

/** CFG-3 CONT_IDX (the 2 bytes after FRACSEC). */
export const contIdxOf = (buf: Buffer, offset: number): number => buf.readUInt16BE(offset + HEADER_SIZE);
export const isLastFragment = (contIdx: number): boolean => contIdx === 0 || contIdx === CONT_IDX_LAST;
