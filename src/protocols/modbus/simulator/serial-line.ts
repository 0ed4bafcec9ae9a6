import { SerialPort } from 'serialport';
import { GatewayError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import type { Responder } from './responder.js';
import { Session } from './session.js';
import type { ModbusSimulatorStats } from './stats.js';

// Modbus RTU on a serial device: a real port (/dev/ttyUSB0) or one end of a pty pair (socat), the
// simulator being every unit of the map on that bus. serialport opens the device and sets the
// line (baud, parity, stop bits); framing is wire.ts's, as on RTU over TCP. The idle gap that
// ends a frame of unknown layout is 3.5 character times (Modbus over Serial Line §2.5.1.1; 1.75 ms
// above 19,200 baud), but at least idleMs: a pty does not keep the line's timing.

export interface SerialOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  dataBits: 7 | 8;
}

export class SerialLine {
  #port: SerialPort | undefined;
  #session: Session | undefined;
  #closing = false;
  readonly #responder: Responder;
  readonly #stats: ModbusSimulatorStats;
  readonly #log: Logger;
  readonly #o: SerialOptions;
  readonly #idleMs: number;

  constructor(responder: Responder, stats: ModbusSimulatorStats, log: Logger, options: SerialOptions, idleMs: number) {
    this.#responder = responder;
    this.#stats = stats;
    this.#log = log;
    this.#o = options;
    const bitsPerChar = 1 + options.dataBits + (options.parity === 'none' ? 0 : 1) + options.stopBits;
    const silenceMs = options.baudRate > 19_200 ? 1.75 : (3.5 * bitsPerChar * 1000) / options.baudRate;
    this.#idleMs = Math.max(idleMs, Math.ceil(silenceMs));
  }

  open(): Promise<void> {
    const o = this.#o;
    const port = new SerialPort({ path: o.path, baudRate: o.baudRate, parity: o.parity, stopBits: o.stopBits, dataBits: o.dataBits, autoOpen: false });
    this.#port = port;
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) {
          // A device named on the command line that cannot be opened: exit 1 with one line.
          reject(new GatewayError('GW_ERR_INPUT', `cannot open serial device ${o.path}: ${err.message}`, { cause: err }));
          return;
        }
        const session = new Session(
          'rtu',
          this.#responder,
          this.#stats,
          this.#log,
          {
            write: (adu) => port.write(adu),
            onFatal: (reason) => this.#log.warn({ reason }, 'serial framing failed'),
          },
          this.#idleMs,
        );
        this.#session = session;
        port.on('data', (chunk: Buffer) => session.push(chunk));
        port.on('error', (e) => this.#log.warn({ err: e.message }, 'serial port error'));
        port.on('close', () => {
          session.close();
          if (!this.#closing) this.#log.warn({ path: o.path }, 'serial line closed: no longer serving RTU on it');
        });
        this.#log.info({ path: o.path, baudRate: o.baudRate, parity: o.parity }, 'serial line open');
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#session?.close();
    const port = this.#port;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
