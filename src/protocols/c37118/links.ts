import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// The two ways bytes reach a C37.118 source: a TCP connection to the device (commands out, frames
// in) and a bound UDP socket (datagrams in; commands out to UDP-only devices). Only transport
// here: no framing, no protocol state.

/** Commands go one per write, at least this far apart: simple devices drop coalesced commands (notes 27). */
export const COMMAND_GAP_MS = 100;

export function parseHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/gu, ''), port: Number(address.slice(at + 1)) };
}

export class TcpLink {
  readonly socket: Socket;
  #lastCommandAt = 0;
  #queue: Promise<void> = Promise.resolve();

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static connect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<TcpLink> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(new Error('stopped'));
      const timer = setTimeout(() => fail(new Error(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        socket.setNoDelay(true); // Nagle off: a command must leave in its own segment
        resolve(new TcpLink(socket));
      });
    });
  }

  get peer(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /** Queue a command frame; it is written alone, COMMAND_GAP_MS after the previous one. */
  send(frame: Buffer): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      const wait = this.#lastCommandAt + COMMAND_GAP_MS - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.socket.destroyed) return;
      this.socket.write(frame);
      this.#lastCommandAt = Date.now();
    });
    return this.#queue;
  }

  close(): void {
    this.socket.destroy();
  }
}

export class UdpLink {
  readonly socket: UdpSocket;
  readonly #allowed: Set<string>;
  #lastCommandAt = 0;

  private constructor(socket: UdpSocket, allowed: Set<string>) {
    this.socket = socket;
    this.#allowed = allowed;
  }

  /** Bind `bind` (HOST:PORT); accept datagrams only from `peers` (host names are resolved once). */
  static async open(bind: string, peers: readonly string[]): Promise<UdpLink> {
    const { host, port } = parseHostPort(bind);
    const allowed = new Set<string>();
    for (const peer of peers) {
      for (const { address } of await lookup(peer, { all: true })) allowed.add(normalise(address));
    }
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpLink(socket, allowed);
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  accepts(address: string): boolean {
    return this.#allowed.has(normalise(address));
  }

  /** Send a command to a UDP-only device, paced like TCP commands. */
  async send(frame: Buffer, host: string, port: number): Promise<void> {
    const wait = this.#lastCommandAt + COMMAND_GAP_MS - Date.now();
    if (wait > 0) await sleep(wait);
    this.#lastCommandAt = Date.now();
    await new Promise<void>((resolve) => this.socket.send(frame, port, host, () => resolve()));
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** IPv4-mapped IPv6 (::ffff:10.0.0.5) and plain IPv4 compare equal. */
const normalise = (address: string): string => address.replace(/^::ffff:/u, '');
