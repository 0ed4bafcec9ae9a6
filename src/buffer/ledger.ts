import type { FileHandle } from 'node:fs/promises';
import { crc32c } from './crc32c.js';

// The ledger: how far the spool's acknowledged prefix has advanced, so a restart resumes exactly.
// It is updated in place, atomically, without rename or directory fsync: two slots in different
// sectors written alternately (the meta-page scheme of LMDB), each with a generation and a CRC.
// A torn write can damage only the slot being written; the other still holds the previous state.
// On open the valid slot with the higher generation wins. Layout of a slot (little-endian):
//
//   0 magic "GGLD" | 4 version u16 | 6 reserved u16 | 8 generation u64 | 16 ackedThrough u64 |
//   24 crc32c of bytes 0..24 u32 | 28 reserved u32                         (32 bytes; at 0 and 512)

export const LEDGER_FILE = 'ledger';
/** The ledger file's size: both slots, each at the start of its own 512-byte sector. */
export const LEDGER_BYTES = 1024;
const SLOT_BYTES = 32;
const SLOT_OFFSETS = [0, 512] as const;
const MAGIC = 0x444c4747; // "GGLD" little-endian
const VERSION = 1;

export interface LedgerState {
  generation: number;
  /** Every record id ≤ ackedThrough is acknowledged (or was dropped and counted). */
  ackedThrough: number;
}

export function encodeSlot(state: LedgerState): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt16LE(VERSION, 4);
  writeU64(b, 8, state.generation);
  writeU64(b, 16, state.ackedThrough);
  b.writeUInt32LE(crc32c(b, 0, 24), 24);
  return b;
}

export function decodeSlot(b: Buffer, offset: number): LedgerState | undefined {
  if (offset + SLOT_BYTES > b.length) return undefined;
  if (b.readUInt32LE(offset) !== MAGIC || b.readUInt16LE(offset + 4) !== VERSION) return undefined;
  if (crc32c(b, offset, offset + 24) !== b.readUInt32LE(offset + 24)) return undefined;
  return { generation: readU64(b, offset + 8), ackedThrough: readU64(b, offset + 16) };
}

/** The newest valid state in a ledger file's bytes; undefined when neither slot is valid. */
export function decodeLedger(bytes: Buffer): LedgerState | undefined {
  const slots = SLOT_OFFSETS.map((o) => decodeSlot(bytes, o)).filter((s): s is LedgerState => s !== undefined);
  return slots.sort((a, b) => b.generation - a.generation)[0];
}

/** Write `state` into the slot its generation selects and make it durable. */
export async function writeLedger(file: FileHandle, state: LedgerState): Promise<number> {
  const slot = encodeSlot(state);
  await file.write(slot, 0, SLOT_BYTES, SLOT_OFFSETS[state.generation % 2]);
  await file.datasync();
  return SLOT_BYTES;
}

function writeU64(b: Buffer, offset: number, value: number): void {
  b.writeUInt32LE(value % 0x1_0000_0000, offset);
  b.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

function readU64(b: Buffer, offset: number): number {
  return b.readUInt32LE(offset) + b.readUInt32LE(offset + 4) * 0x1_0000_0000;
}
