import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { Logger } from '../../../observability/logger.js';
import { CommandReader, type Incoming } from './command-reader.js';
import { LogLimiter } from './log-limit.js';
import type { Responder } from './responder.js';
import type { SimulatorStats } from './stats.js';

// Spontaneous data frames over UDP to one destination, one frame per datagram (C37.118.2-2011
// Annex E.3). The destination is resolved once at start, not per datagram. The socket also takes
// commands (UDP-only devices do: notes/c37118.md 28) and answers the sender's address; data-on
// and data-off switch the spontaneous stream. Sends in flight are bounded: past the bound frames
// are shed and counted (UDP has no back-pressure to wait for).

export interface Endpoint {
  host: string;
  port: number;
}

export interface UdpSenderOptions {
  destination: Endpoint;
  /** Local address; by default loopback for a loopback destination, else the wildcard; port 0. */
  bind?: Endpoint;
  maxInFlight: number;
}

export class UdpSender {
  /** Whether data frames flow (UDP-only: from start; mixed: after data-on over TCP). */
  enabled = false;
  readonly #responder: Responder;
  readonly #stats: SimulatorStats;
  readonly #log: Logger;
  readonly #limiter: LogLimiter;
  readonly #options: UdpSenderOptions;
  readonly #reader = new CommandReader();
  #socket: dgram.Socket | undefined;
  #address = '';
  #inFlight = 0;

  constructor(responder: Responder, stats: SimulatorStats, log: Logger, options: UdpSenderOptions) {
    this.#responder = responder;
    this.#stats = stats;
    this.#log = log;
    this.#limiter = new LogLimiter(log);
    this.#options = options;
  }

  /** Resolve the destination, bind, and start taking commands. Returns the local port. */
  async open(): Promise<number> {
    const { address, family } = await lookup(this.#options.destination.host);
    this.#address = address;
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    this.#socket = socket;
    const loopback = address.startsWith('127.') || address === '::1';
    const bind = this.#options.bind ?? { host: loopback ? address : family === 6 ? '::' : '0.0.0.0', port: 0 };
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(bind.port, bind.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.#limiter.warn('socket', { err: err.message }, 'udp socket error'));
    socket.on('message', (msg, rinfo) => this.#message(msg, rinfo));
    return socket.address().port;
  }

  /** `host:port` the data goes to, as resolved. */
  get destination(): string {
    return `${this.#address.includes(':') ? `[${this.#address}]` : this.#address}:${this.#options.destination.port}`;
  }

  /** Send one frame to the destination (data and periodic configuration). */
  send(frame: Buffer): void {
    this.#sendTo(frame, this.#options.destination.port, this.#address, true);
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #sendTo(frame: Buffer, port: number, address: string, data: boolean): void {
    const socket = this.#socket;
    if (!socket) return;
    if (this.#inFlight >= this.#options.maxInFlight) {
      this.#stats.udpFramesShed++;
      return;
    }
    this.#inFlight++;
    socket.send(frame, port, address, (err) => {
      this.#inFlight--;
      if (err) {
        this.#stats.udpErrors++;
        this.#limiter.warn('send', { err: err.message, to: `${address}:${port}` }, 'udp send failed');
      } else if (data) this.#stats.udpFramesSent++;
    });
  }

  #message(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#reader.reset();
    this.#reader.push(msg, (item: Incoming) => {
      if (item.kind !== 'command') {
        if (item.kind === 'garbage') this.#stats.garbageBytes += item.bytes;
        this.#limiter.warn('garbage', { from: `${rinfo.address}:${rinfo.port}` }, 'udp datagram that is not a command: ignored');
        return;
      }
      this.#stats.commands++;
      const answer = this.#responder.answer(item.command, item.idcode);
      if (answer.kind === 'ignored') {
        this.#stats.commandsIgnored++;
        const level = answer.why === 'not-answered' ? 'info' : 'warn';
        this.#limiter.log(level, `${answer.why}:${answer.command}`, { from: rinfo.address }, `command ignored: ${answer.reason}`);
      } else if (answer.kind === 'frames') {
        for (const frame of answer.frames) this.#sendTo(frame, rinfo.port, rinfo.address, false);
      } else {
        this.enabled = answer.on;
        this.#log.info({ from: `${rinfo.address}:${rinfo.port}`, command: answer.command }, 'command over udp');
      }
    });
  }
}
