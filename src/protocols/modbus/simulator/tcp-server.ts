import net, { type AddressInfo } from 'node:net';
import type { Logger } from '../../../observability/logger.js';
import type { Framing, Responder } from './responder.js';
import { Session } from './session.js';
import type { ModbusSimulatorStats } from './stats.js';

// A TCP listener: Modbus TCP (MBAP framing) or RTU over TCP (RTU frames with CRC, as a serial-to-
// Ethernet converter passes them). Any number of clients up to maxClients, each its own Session.
// Nagle off, so a response leaves when written. A client that keeps asking without reading is
// disconnected once MAX_BACKLOG_BYTES of responses wait for it.

const MAX_BACKLOG_BYTES = 1024 * 1024;

export interface TcpServerOptions {
  host: string;
  port: number;
  framing: Framing;
  maxClients: number;
  /** RTU framing: silence that ends a frame of unknown layout, ms. */
  idleMs: number;
}

export class ModbusTcpServer {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  readonly #responder: Responder;
  readonly #stats: ModbusSimulatorStats;
  readonly #log: Logger;
  readonly #o: TcpServerOptions;

  constructor(responder: Responder, stats: ModbusSimulatorStats, log: Logger, options: TcpServerOptions) {
    this.#responder = responder;
    this.#stats = stats;
    this.#log = log;
    this.#o = options;
  }

  listen(): Promise<AddressInfo> {
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#o.host, port: this.#o.port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.error({ err }, 'server error'));
        resolve(server.address() as AddressInfo);
      });
    });
  }

  #accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#sockets.size >= this.#o.maxClients) {
      this.#log.warn({ peer, maxClients: this.#o.maxClients }, 'connection refused: too many clients');
      socket.destroy();
      return;
    }
    const log = this.#log.child({ peer });
    this.#sockets.add(socket);
    this.#stats.connections++;
    this.#stats.connectionsTotal++;
    log.info('client connected');
    const session = new Session(
      this.#o.framing,
      this.#responder,
      this.#stats,
      log,
      {
        write: (adu) => {
          socket.write(adu);
          if (socket.writableLength > MAX_BACKLOG_BYTES) {
            log.warn({ queuedBytes: socket.writableLength }, 'client not reading its responses: disconnected');
            socket.destroy();
          }
        },
        onFatal: (reason) => {
          log.warn({ reason }, 'unframeable request: disconnected');
          socket.destroy();
        },
      },
      this.#o.idleMs,
    );
    socket.on('data', (chunk: Buffer) => session.push(chunk));
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      session.close();
      this.#sockets.delete(socket);
      this.#stats.connections--;
      log.info('client disconnected');
    });
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
