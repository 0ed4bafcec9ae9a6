import { ChunkBuffer } from '../../shared/chunk-buffer.js';
import { crc16 } from './crc16.js';

// The two Modbus framings the simulator serves, request side, and the response ADUs.
//
// Modbus TCP (Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3), MBAP header + PDU:
//
//   0      2      4      6     7
//   ┌──────┬──────┬──────┬─────┬──────────────────────┐
//   │ txId │ 0x00 │ len  │unit │ PDU (len − 1 bytes)   │   len counts unit + PDU: 2 … 254
//   └──────┴──────┴──────┴─────┴──────────────────────┘   protocol id must be 0
//
// Modbus RTU (Modbus over Serial Line V1.02 §2.5.1), also carried as-is over TCP by serial-to-
// Ethernet converters ("RTU over TCP"):
//
//   ┌──────┬──────────────────────┬─────────┐
//   │ unit │ PDU                  │ CRC lo hi│   at most 256 bytes; unit 0 = broadcast
//   └──────┴──────────────────────┴─────────┘
//
// RTU has no length field: frames are delimited by 3.5 character times of silence, which a pty or
// a TCP stream does not preserve. So a request's length is derived from its function code (every
// public function code has a fixed layout or a byte count at a fixed offset) and confirmed by the
// CRC; on a CRC mismatch one byte is dropped and framing resumes at the next (resynchronisation;
// meanwhile a byte that is no known function code is dropped too, not waited on).
// Only a request with an unknown function code needs the silence: the transport calls
// next(true) once the line has been idle, and the buffered bytes are taken as one frame.

/** Function codes (Modbus Application Protocol V1.1b3 §6). */
export const FC = {
  READ_COILS: 1,
  READ_DISCRETE_INPUTS: 2,
  READ_HOLDING_REGISTERS: 3,
  READ_INPUT_REGISTERS: 4,
  WRITE_SINGLE_COIL: 5,
  WRITE_SINGLE_REGISTER: 6,
  WRITE_MULTIPLE_COILS: 15,
  WRITE_MULTIPLE_REGISTERS: 16,
  MASK_WRITE_REGISTER: 22,
  READ_WRITE_MULTIPLE_REGISTERS: 23,
} as const;

/** Function codes that change the device: always refused (exception 1) and counted. */
export const WRITE_FUNCTIONS: ReadonlySet<number> = new Set([5, 6, 15, 16, 21, 22, 23]);

/** Exception codes (§7). */
export const EXCEPTION = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_DATA_ADDRESS: 2,
  ILLEGAL_DATA_VALUE: 3,
  SERVER_DEVICE_FAILURE: 4,
  ACKNOWLEDGE: 5,
  SERVER_DEVICE_BUSY: 6,
  GATEWAY_PATH_UNAVAILABLE: 10,
  GATEWAY_TARGET_FAILED: 11,
} as const;

/** Largest register read (§6.3: 1 to 125) and bit read (§6.1: 1 to 2000). */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
/** Largest PDU (§4.1: 256-byte serial ADU − address − CRC). */
export const MAX_PDU = 253;
export const MBAP_HEADER = 7;
export const MAX_RTU_ADU = 256;

export interface Request {
  /** MBAP transaction id; 0 for RTU. */
  transactionId: number;
  unit: number;
  /** A view into the framer's buffer: valid until the next push(). */
  pdu: Buffer;
}

export type Next = Request | null;

/** Counts bytes that were not part of a valid frame, with the reason. */
export type OnGarbage = (bytes: number, reason: string) => void;

export class MbapFramer {
  readonly #buf = new ChunkBuffer(4096, 64 * 1024);
  /** Set once the stream cannot be framed any more (bad protocol id or length): close it. */
  fatal: string | null = null;

  /** False when the client sent more than 64 KiB without a whole frame in it. */
  push(chunk: Uint8Array): boolean {
    return this.#buf.append(chunk);
  }

  next(): Next {
    if (this.fatal !== null) return null;
    const b = this.#buf;
    if (b.length < MBAP_HEADER) return null;
    const buf = b.buffer;
    const s = b.start;
    const protocol = buf.readUInt16BE(s + 2);
    const len = buf.readUInt16BE(s + 4);
    if (protocol !== 0) {
      this.fatal = `protocol id ${protocol} (must be 0)`;
      return null;
    }
    if (len < 2 || len > MAX_PDU + 1) {
      this.fatal = `MBAP length ${len} (must be 2 to ${MAX_PDU + 1})`;
      return null;
    }
    if (b.length < 6 + len) return null;
    const request = { transactionId: buf.readUInt16BE(s), unit: buf[s + 6]!, pdu: buf.subarray(s + 7, s + 6 + len) };
    b.consume(6 + len);
    return request;
  }
}

/**
 * Length of the RTU request at buf[s…] with `have` bytes buffered: a byte count, 0 when more bytes
 * are needed to know, -1 for a function code whose layout is unknown (needs the idle gap).
 */
export function rtuRequestLength(buf: Uint8Array, s: number, have: number): number {
  if (have < 2) return 0;
  const byteCountAt = (offset: number, fixed: number): number => (have > offset ? fixed + buf[s + offset]! : 0);
  switch (buf[s + 1]!) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 8:
      return 8;
    case 7: case 11: case 12: case 17:
      return 4;
    case 15: case 16:
      return byteCountAt(6, 9);
    case 20: case 21:
      return byteCountAt(2, 5);
    case 22:
      return 10;
    case 23:
      return byteCountAt(10, 13);
    case 24:
      return 6;
    case 43:
      return 7;
    default:
      return -1;
  }
}

export class RtuFramer {
  readonly #buf = new ChunkBuffer(1024, 64 * 1024);
  readonly #onGarbage: OnGarbage;
  /** After a CRC failure, until a frame is taken: not at a frame boundary. */
  #resyncing = false;

  constructor(onGarbage: OnGarbage) {
    this.#onGarbage = onGarbage;
  }

  push(chunk: Uint8Array): boolean {
    if (this.#buf.append(chunk)) return true;
    this.#onGarbage(this.#buf.length, 'overflow');
    this.#buf.clear();
    return this.#buf.append(chunk.subarray(Math.max(0, chunk.length - MAX_RTU_ADU)));
  }

  get pending(): number {
    return this.#buf.length;
  }

  /**
   * The next whole request, or null. `idle`: the line has been silent long enough to end a frame,
   * so bytes that cannot start a valid frame are dropped rather than waited on.
   */
  next(idle = false): Next {
    const b = this.#buf;
    for (;;) {
      const have = b.length;
      if (have === 0) {
        if (idle) this.#resyncing = false;
        return null;
      }
      const buf = b.buffer;
      const s = b.start;
      const need = rtuRequestLength(buf, s, have);
      if (need === -1) {
        // Unknown layout: the silence ends it (whole buffer as one frame, CRC decides), unless
        // we are resynchronising: then this is no frame start, most likely.
        if (this.#resyncing) {
          this.#drop(1, 'resynchronising');
          continue;
        }
        if (!idle) return null;
        if (have >= 4 && have <= MAX_RTU_ADU && crcOk(buf, s, have)) return this.#take(s, have);
        this.#drop(have, 'unframed bytes');
        return null;
      }
      if (need === 0 || need > have) {
        if (!idle) return null;
        this.#drop(1, 'incomplete frame');
        continue;
      }
      if (crcOk(buf, s, need)) return this.#take(s, need);
      this.#drop(1, 'bad CRC');
      this.#resyncing = true;
    }
  }

  #take(s: number, length: number): Request {
    this.#resyncing = false;
    const buf = this.#buf.buffer;
    const request = { transactionId: 0, unit: buf[s]!, pdu: buf.subarray(s + 1, s + length - 2) };
    this.#buf.consume(length);
    return request;
  }

  #drop(bytes: number, reason: string): void {
    this.#buf.consume(bytes);
    this.#onGarbage(bytes, reason);
  }
}

function crcOk(buf: Buffer, s: number, length: number): boolean {
  return crc16(buf, s, s + length - 2) === buf.readUInt16LE(s + length - 2);
}

/** MBAP header + PDU. */
export function mbapAdu(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  const adu = Buffer.allocUnsafe(MBAP_HEADER + pdu.length);
  adu.writeUInt16BE(transactionId, 0);
  adu.writeUInt16BE(0, 2);
  adu.writeUInt16BE(pdu.length + 1, 4);
  adu[6] = unit;
  adu.set(pdu, MBAP_HEADER);
  return adu;
}

/** Unit + PDU + CRC. */
export function rtuAdu(unit: number, pdu: Uint8Array): Buffer {
  const adu = Buffer.allocUnsafe(pdu.length + 3);
  adu[0] = unit;
  adu.set(pdu, 1);
  adu.writeUInt16LE(crc16(adu, 0, pdu.length + 1), pdu.length + 1);
  return adu;
}
