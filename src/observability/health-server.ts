import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Component, Readiness } from '../daemon/component.js';
import { GatewayError } from '../errors.js';
import type { HttpConfig } from './config.js';
import type { Logger } from './logger.js';

// GET /metrics (Prometheus text), /healthz (200 while the event loop answers: liveness) and
// /readyz (200 when every other component is ready, 503 with the reasons otherwise). It is the
// first component started and the last stopped, so an operator can watch start-up and shutdown.

export type ReadinessReport = () => Record<string, Readiness>;

export class HealthServer implements Component {
  readonly name = 'http';
  readonly #config: HttpConfig;
  readonly #metrics: Registry;
  readonly #report: ReadinessReport;
  readonly #log: Logger;
  #server: Server | undefined;

  constructor(config: HttpConfig, metrics: Registry, report: ReadinessReport, log: Logger) {
    this.#config = config;
    this.#metrics = metrics;
    this.#report = report;
    this.#log = log;
  }

  /** The bound port (useful with port 0); undefined before start. */
  get port(): number | undefined {
    return (this.#server?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.error({ err, url: req.url }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new GatewayError('GW_ERR_HTTP_LISTEN', `cannot listen on ${this.#config.host}:${this.#config.port}: ${err.message}`, { cause: err })),
      );
      server.listen(this.#config.port, this.#config.host, () => resolve());
    });
    this.#server = server;
    this.#log.info({ host: this.#config.host, port: this.port }, 'metrics and health endpoints listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  readiness(): Readiness {
    return this.#server ? { ready: true } : { ready: false, detail: 'not listening' };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const body = await this.#metrics.metrics();
      res.writeHead(200, { 'content-type': this.#metrics.contentType }).end(body);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const components = this.#report();
      const ready = Object.values(components).every((r) => r.ready);
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ ready, components })}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  }
}
