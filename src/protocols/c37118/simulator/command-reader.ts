import type { FramingFault } from '../framer.js';
import { Framer } from '../framer.js';
import { StreamDecoder } from '../stream-decoder.js';

// Incoming bytes from a client (a TCP stream, or one UDP datagram after reset()) to commands,
// through the gateway's own framer and decoder. Anything that is not a command frame is reported,
// never thrown: a client sending garbage costs it nothing but a log line.

export type Incoming =
  | { kind: 'command'; command: number; idcode: number }
  | { kind: 'other'; frame: string; idcode: number }
  | { kind: 'garbage'; bytes: number; reason: FramingFault | string };

/** Commands are 18 bytes; a client needs no more than this much buffered. */
const MAX_PENDING_BYTES = 64 * 1024;

export class CommandReader {
  readonly #framer = new Framer({ initialBytes: 1024, maxBytes: MAX_PENDING_BYTES });
  readonly #decoder = new StreamDecoder();

  /** Feed bytes; calls `on` for each frame or garbage span. False: the client overflowed the bound. */
  push(chunk: Uint8Array, on: (item: Incoming) => void): boolean {
    if (!this.#framer.push(chunk)) return false;
    for (;;) {
      const out = this.#framer.next();
      if (out.kind === 'none') return true;
      if (out.kind === 'garbage') {
        on({ kind: 'garbage', bytes: out.length, reason: out.reason ?? 'bad-sync' });
        continue;
      }
      const decoded = this.#decoder.decode(out.buf, out.offset, out.length);
      if (decoded.kind === 'command') on({ kind: 'command', command: decoded.command.command, idcode: decoded.idcode });
      else if (decoded.kind === 'fault') on({ kind: 'garbage', bytes: out.length, reason: decoded.reason });
      else on({ kind: 'other', frame: decoded.kind, idcode: decoded.idcode });
    }
  }

  /** Forget buffered bytes (each UDP datagram stands alone). */
  reset(): void {
    this.#framer.reset();
  }
}
