import type { Logger } from '../../../observability/logger.js';
import { replyAdu, type Framing, type Responder } from './responder.js';
import type { ModbusSimulatorStats } from './stats.js';
import { MbapFramer, RtuFramer, type Request } from './wire.js';

// One byte stream to serve: a TCP connection (MBAP or RTU framing) or a serial line (RTU). Frames
// requests, asks the responder, writes the ADUs, the delayed ones from timers. Requests are
// answered in arrival order except that a delayed unit's answer comes when its delay is over (as
// a Modbus TCP gateway in front of slow serial units would); at most MAX_PENDING delayed answers
// per stream, beyond which requests are dropped (stats.shed) rather than queued without bound.
//
// RTU framing needs the line's silence only for requests whose layout it cannot know (wire.ts):
// after each chunk, if bytes remain, an idle timer (idleMs) ends the frame.

const MAX_PENDING = 1024;

export class Session {
  readonly #framing: Framing;
  readonly #responder: Responder;
  readonly #stats: ModbusSimulatorStats;
  readonly #log: Logger;
  readonly #write: (adu: Buffer) => void;
  readonly #onFatal: (reason: string) => void;
  readonly #idleMs: number;
  readonly #mbap: MbapFramer | null;
  readonly #rtu: RtuFramer | null;
  readonly #timers = new Set<NodeJS.Timeout>();
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    framing: Framing,
    responder: Responder,
    stats: ModbusSimulatorStats,
    log: Logger,
    io: { write: (adu: Buffer) => void; onFatal: (reason: string) => void },
    idleMs: number,
  ) {
    this.#framing = framing;
    this.#responder = responder;
    this.#stats = stats;
    this.#log = log;
    this.#write = io.write;
    this.#onFatal = io.onFatal;
    this.#idleMs = idleMs;
    this.#mbap = framing === 'mbap' ? new MbapFramer() : null;
    this.#rtu =
      framing === 'rtu'
        ? new RtuFramer((bytes, reason) => {
            stats.badBytes += bytes;
            log.debug({ bytes, reason }, 'bytes dropped');
          })
        : null;
  }

  push(chunk: Buffer): void {
    if (this.#closed) return;
    this.#stats.bytesIn += chunk.length;
    if (this.#mbap) {
      if (!this.#mbap.push(chunk)) {
        this.#stats.badBytes += chunk.length;
        this.#onFatal('more than 64 KiB without a whole request');
        return;
      }
      for (let req = this.#mbap.next(); req !== null; req = this.#mbap.next()) this.#serve(req);
      if (this.#mbap.fatal !== null) {
        this.#stats.badBytes += chunk.length;
        this.#onFatal(this.#mbap.fatal);
      }
      return;
    }
    const rtu = this.#rtu!;
    rtu.push(chunk);
    for (let req = rtu.next(); req !== null; req = rtu.next()) this.#serve(req);
    clearTimeout(this.#idle);
    if (rtu.pending > 0) {
      this.#idle = setTimeout(() => {
        this.#idle = undefined;
        for (let req = rtu.next(true); req !== null; req = rtu.next(true)) this.#serve(req);
      }, this.#idleMs);
    }
  }

  #serve(req: Request): void {
    if (this.#timers.size >= MAX_PENDING) {
      this.#stats.shed++;
      return;
    }
    const reply = this.#responder.handle(req, this.#framing);
    if (!reply) return;
    const adu = replyAdu(this.#framing, req, reply);
    if (reply.delayMs <= 0) {
      this.#send(adu);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#send(adu);
    }, reply.delayMs);
    this.#timers.add(timer);
  }

  #send(adu: Buffer): void {
    if (this.#closed) return;
    this.#stats.bytesOut += adu.length;
    this.#write(adu);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#idle);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#log.trace('session closed');
  }
}
