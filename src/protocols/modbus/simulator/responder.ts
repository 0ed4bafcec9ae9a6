import type { Logger } from '../../../observability/logger.js';
import { LogLimiter } from '../../c37118/simulator/log-limit.js';
import { unit as uniform } from '../../c37118/simulator/noise.js';
import { GARBAGE_KINDS, type GarbageKind } from './map-schema.js';
import { BIT_AREAS } from './map.js';
import { FUNCTION_AREA, type SimModel } from './model.js';
import type { ModbusSimulatorStats } from './stats.js';
import { EXCEPTION, MAX_READ_BITS, MAX_READ_REGISTERS, WRITE_FUNCTIONS, mbapAdu, rtuAdu, type Request } from './wire.js';

// Request PDU → response PDU (or silence), the same for every transport. Order of decisions:
//
//   unit unknown ─▶ silent (RTU; TCP unless unknownUnits: gateway-exception → exception 11)
//   RTU broadcast (unit 0) ─▶ silent, writes counted
//   unit dead at t ─▶ silent
//   write (5, 6, 15, 16, 21, 22, 23) ─▶ exception 1, counted in stats.writes; other non-reads ─▶ 1
//   malformed read ─▶ 3; quantity outside 1–125 registers / 1–2000 bits ─▶ 3; past 65535 ─▶ 2
//   scheduled exception, hole, unmapped (illegal-address) ─▶ that code (model.ts)
//   else the data, computed at t
//
// then, with the unit's garbage probability, the response is spoiled (wrong-length,
// wrong-function here; wrong-unit, wrong-transaction, bad-crc in the ADU: replyAdu), and it is
// sent after the unit's delayMs. Random choices are functions of (seed, request number), so a
// run with the same seed and the same requests fails the same requests.

export type Framing = 'mbap' | 'rtu';

export interface Reply {
  unit: number;
  pdu: Buffer;
  delayMs: number;
  /** A fault to apply when framing the ADU, or null. */
  aduFault: GarbageKind | null;
}

const DRAW_EXCEPTION = 1;
const DRAW_GARBAGE = 2;
const DRAW_KIND = 3;

const PDU_FAULTS: ReadonlySet<GarbageKind> = new Set(['wrong-length', 'wrong-function']);
const KINDS_BY_FRAMING: Record<Framing, readonly GarbageKind[]> = {
  mbap: GARBAGE_KINDS.filter((k) => k !== 'bad-crc'),
  rtu: GARBAGE_KINDS.filter((k) => k !== 'wrong-transaction'),
};

export class Responder {
  readonly #model: SimModel;
  readonly #stats: ModbusSimulatorStats;
  readonly #now: () => number;
  readonly #limiter: LogLimiter;
  readonly #log: Logger;
  #n = 0;

  /** `now`: scenario time, seconds since the simulator started. */
  constructor(model: SimModel, stats: ModbusSimulatorStats, log: Logger, now: () => number) {
    this.#model = model;
    this.#stats = stats;
    this.#now = now;
    this.#log = log;
    this.#limiter = new LogLimiter(log);
  }

  handle(req: Request, framing: Framing): Reply | null {
    const s = this.#stats;
    const n = this.#n++;
    s.requests++;
    s.requestsByUnit[req.unit] = (s.requestsByUnit[req.unit] ?? 0) + 1;
    const fc = req.pdu[0] ?? 0;
    const isWrite = WRITE_FUNCTIONS.has(fc);
    if (isWrite) {
      s.writes++;
      this.#limiter.warn('write', { unit: req.unit, functionCode: fc }, 'write request refused (the simulator is read-only: exception 1)');
    }
    const unit = this.#model.unit(req.unit);
    const t = this.#now();
    if (!unit) {
      if (framing === 'rtu' || this.#model.unknownUnits === 'silent') return this.#silent(req, 'unit not in the map');
      return this.#reply(req, exception(fc, EXCEPTION.GATEWAY_TARGET_FAILED), 0, null);
    }
    if (framing === 'rtu' && req.unit === 0) return this.#silent(req, 'broadcast');
    if (unit.isDead(t)) return this.#silent(req, 'unit dead');

    let pdu: Buffer;
    const area = FUNCTION_AREA[fc];
    if (isWrite || area === undefined) pdu = exception(fc, EXCEPTION.ILLEGAL_FUNCTION);
    else if (req.pdu.length !== 5) pdu = exception(fc, EXCEPTION.ILLEGAL_DATA_VALUE);
    else {
      const start = req.pdu.readUInt16BE(1);
      const count = req.pdu.readUInt16BE(3);
      const bits = BIT_AREAS.has(area);
      const code =
        count < 1 || count > (bits ? MAX_READ_BITS : MAX_READ_REGISTERS)
          ? EXCEPTION.ILLEGAL_DATA_VALUE
          : start + count > 0x10000
            ? EXCEPTION.ILLEGAL_DATA_ADDRESS
            : unit.exceptionFor(area, start, count, t, () => uniform(this.#model.seed, n, DRAW_EXCEPTION));
      if (code !== null) pdu = exception(fc, code);
      else if (bits) {
        const bytes = Math.ceil(count / 8);
        pdu = Buffer.allocUnsafe(2 + bytes);
        pdu[0] = fc;
        pdu[1] = bytes;
        unit.readBits(area, start, count, t, pdu, 2);
      } else {
        pdu = Buffer.allocUnsafe(2 + count * 2);
        pdu[0] = fc;
        pdu[1] = count * 2;
        unit.readRegisters(area, start, count, t, pdu, 2);
      }
    }

    let aduFault: GarbageKind | null = null;
    const garbage = unit.faults.garbage;
    if (garbage && uniform(this.#model.seed, n, DRAW_GARBAGE) < garbage.probability) {
      const kinds = (garbage.kinds ?? GARBAGE_KINDS).filter((k) => KINDS_BY_FRAMING[framing].includes(k));
      const kind = kinds[Math.floor(uniform(this.#model.seed, n, DRAW_KIND) * kinds.length)];
      if (kind !== undefined) {
        s.garbage++;
        this.#log.debug({ unit: req.unit, kind }, 'malformed response');
        if (PDU_FAULTS.has(kind)) pdu = spoilPdu(pdu, kind);
        else aduFault = kind;
      }
    }
    return this.#reply(req, pdu, unit.faults.delayMs, aduFault);
  }

  #reply(req: Request, pdu: Buffer, delayMs: number, aduFault: GarbageKind | null): Reply {
    const s = this.#stats;
    s.responses++;
    if ((pdu[0]! & 0x80) !== 0 && pdu.length === 2) {
      s.exceptions++;
      s.exceptionsByCode[pdu[1]!] = (s.exceptionsByCode[pdu[1]!] ?? 0) + 1;
    }
    return { unit: req.unit, pdu, delayMs, aduFault };
  }

  #silent(req: Request, reason: string): null {
    this.#stats.unanswered++;
    this.#log.debug({ unit: req.unit, reason }, 'request not answered');
    return null;
  }
}

function exception(fc: number, code: number): Buffer {
  const pdu = Buffer.allocUnsafe(2);
  pdu[0] = (fc | 0x80) & 0xff;
  pdu[1] = code;
  return pdu;
}

/**
 * wrong-length: a read response one register (or one byte of bits) short, byte count consistent,
 * so only a client that checks the count against its request notices; one longer when that would
 * leave nothing; an exception response gets a stray byte. wrong-function: 1 ↔ 2, 3 ↔ 4.
 */
function spoilPdu(pdu: Buffer, kind: GarbageKind): Buffer {
  const fc = pdu[0]!;
  if (kind === 'wrong-function') {
    const base = fc & 0x7f;
    const swapped = base === 1 ? 2 : base === 2 ? 1 : base === 3 ? 4 : base === 4 ? 3 : base ^ 0x40;
    const out = Buffer.from(pdu);
    out[0] = swapped | (fc & 0x80);
    return out;
  }
  if (fc & 0x80) return Buffer.concat([pdu, Buffer.of(0)]);
  const step = fc <= 2 ? 1 : 2;
  const dataBytes = pdu[1]!;
  const newBytes = dataBytes > step ? dataBytes - step : dataBytes + step;
  const out = Buffer.alloc(2 + newBytes);
  pdu.copy(out, 0, 0, Math.min(pdu.length, out.length));
  out[1] = newBytes;
  return out;
}

/** The response ADU for a request, with an ADU-level fault applied. */
export function replyAdu(framing: Framing, req: Request, reply: Reply): Buffer {
  const unitId = reply.aduFault === 'wrong-unit' ? (reply.unit + 1) & 0xff : reply.unit;
  if (framing === 'mbap') {
    const tx = reply.aduFault === 'wrong-transaction' ? (req.transactionId + 1) & 0xffff : req.transactionId;
    return mbapAdu(tx, unitId, reply.pdu);
  }
  const adu = rtuAdu(unitId, reply.pdu);
  if (reply.aduFault === 'bad-crc') adu[adu.length - 1]! ^= 0xff;
  return adu;
}
