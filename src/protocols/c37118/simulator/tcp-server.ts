import net, { type AddressInfo } from 'node:net';
import type { Logger } from '../../../observability/logger.js';
import { CommandReader, type Incoming } from './command-reader.js';
import { LogLimiter } from './log-limit.js';
import type { Responder } from './responder.js';
import type { SimulatorStats } from './stats.js';

// The PMU's TCP side (C37.118.2-2011 Annex E: the PMU listens, a PDC connects and commands).
// Each connection has its own framer and data on/off state; Nagle is off so a frame leaves when
// written. Data frames are encoded once per frame and written to every streaming client.
//
// Back-pressure: when socket.write returns false the client is not keeping up. Its data frames
// are then skipped (counted) until 'drain', instead of queueing without bound; a real PMU's send
// buffer overflows the same way. Replies to commands are always written, but a client that keeps
// asking while reading nothing is disconnected once MAX_BACKLOG_BYTES are queued for it.
//
// Mixed mode (dataPath 'udp'): data-on and data-off arriving here switch the UDP sender instead;
// no data is sent on TCP.

const MAX_BACKLOG_BYTES = 1024 * 1024;

export interface TcpServerOptions {
  host: string;
  port: number;
  dataPath: 'tcp' | 'udp';
  maxClients: number;
}

interface Client {
  socket: net.Socket;
  peer: string;
  reader: CommandReader;
  streaming: boolean;
  blocked: boolean;
  skipped: number;
  limiter: LogLimiter;
}

export class TcpServer {
  #server: net.Server | undefined;
  readonly #clients = new Set<Client>();
  readonly #responder: Responder;
  readonly #stats: SimulatorStats;
  readonly #log: Logger;
  readonly #options: TcpServerOptions;
  readonly #onUdpData: (on: boolean) => void;
  #streaming = 0;

  constructor(responder: Responder, stats: SimulatorStats, log: Logger, options: TcpServerOptions, onUdpData: (on: boolean) => void) {
    this.#responder = responder;
    this.#stats = stats;
    this.#log = log;
    this.#options = options;
    this.#onUdpData = onUdpData;
  }

  listen(): Promise<AddressInfo> {
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.error({ err }, 'tcp server error'));
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** Clients that asked for data. */
  get streaming(): number {
    return this.#streaming;
  }

  broadcast(frame: Buffer): void {
    for (const client of this.#clients) {
      if (!client.streaming) continue;
      if (client.blocked) {
        client.skipped++;
        this.#stats.tcpFramesSkipped++;
        continue;
      }
      this.#stats.tcpFramesSent++;
      if (!client.socket.write(frame)) {
        client.blocked = true;
        client.socket.once('drain', () => {
          client.blocked = false;
          if (client.skipped > 0) {
            const fields = { peer: client.peer, skippedTotal: client.skipped };
            client.limiter.warn('slow', fields, 'client too slow: data frames skipped while its socket was full');
          }
        });
      }
    }
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server?.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const client of this.#clients) client.socket.destroy();
    await closed;
  }

  #accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#clients.size >= this.#options.maxClients) {
      this.#log.warn({ peer, maxClients: this.#options.maxClients }, 'connection refused: too many clients');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const client: Client = { socket, peer, reader: new CommandReader(), streaming: false, blocked: false, skipped: 0, limiter: new LogLimiter(this.#log) };
    this.#clients.add(client);
    this.#stats.connections++;
    this.#stats.connectionsTotal++;
    this.#log.info({ peer, clients: this.#clients.size }, 'client connected');
    socket.on('data', (chunk) => {
      if (!client.reader.push(chunk, (item) => this.#incoming(client, item))) {
        this.#log.warn({ peer }, 'client sent more than a command frame can be without a valid frame: disconnecting');
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.#log.debug({ peer, err: err.message }, 'client socket error'));
    socket.on('close', () => {
      this.#clients.delete(client);
      this.#stats.connections--;
      if (client.streaming) this.#streaming--;
      this.#log.info({ peer, skipped: client.skipped, clients: this.#clients.size }, 'client disconnected');
    });
  }

  #incoming(client: Client, item: Incoming): void {
    if (item.kind === 'garbage') {
      this.#stats.garbageBytes += item.bytes;
      client.limiter.warn('garbage', { peer: client.peer, bytes: item.bytes, reason: item.reason }, 'client sent bytes that are not a command');
      return;
    }
    if (item.kind === 'other') {
      client.limiter.warn('other', { peer: client.peer, frame: item.frame }, 'client sent a frame that is not a command: ignored');
      return;
    }
    this.#stats.commands++;
    const answer = this.#responder.answer(item.command, item.idcode);
    if (answer.kind === 'ignored') {
      this.#stats.commandsIgnored++;
      const level = answer.why === 'not-answered' ? 'info' : 'warn';
      const fields = { peer: client.peer, command: answer.command, idcode: item.idcode };
      client.limiter.log(level, `${answer.why}:${answer.command}`, fields, `command ignored: ${answer.reason}`);
      return;
    }
    this.#log.info({ peer: client.peer, command: answer.command }, 'command');
    if (answer.kind === 'frames') {
      if (client.socket.writableLength > MAX_BACKLOG_BYTES) {
        this.#log.warn({ peer: client.peer }, 'client does not read its replies: disconnecting');
        client.socket.destroy();
        return;
      }
      for (const frame of answer.frames) client.socket.write(frame);
      return;
    }
    if (this.#options.dataPath === 'udp') this.#onUdpData(answer.on);
    else if (answer.on !== client.streaming) {
      client.streaming = answer.on;
      this.#streaming += answer.on ? 1 : -1;
    }
  }
}
