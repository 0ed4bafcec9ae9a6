import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Readiness } from '../../../src/daemon/component.js';
import { HealthServer } from '../../../src/observability/health-server.js';
import { createMetrics } from '../../../src/observability/metrics.js';

const silent = pino({ level: 'silent' });

async function withServer(report: Record<string, Readiness>, test: (port: number) => Promise<void>): Promise<void> {
  const server = new HealthServer({ host: '127.0.0.1', port: 0 }, createMetrics(), () => report, silent);
  await server.start();
  try {
    await test(server.port as number);
  } finally {
    await server.stop();
  }
}

describe('the metrics and health server', () => {
  it('serves Prometheus text with build info, process and event-loop metrics', async () => {
    await withServer({}, async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const body = await res.text();
      assert.match(body, /^gridgate_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
      assert.match(body, /^process_cpu_seconds_total /m);
      assert.match(body, /^nodejs_eventloop_lag_p99_seconds /m);
    });
  });

  it('answers /readyz 503 with the reasons until every component is ready, then 200', async () => {
    const report: Record<string, Readiness> = { 'kafka-sink': { ready: false, detail: 'connecting' } };
    await withServer(report, async (port) => {
      const first = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(first.status, 503);
      assert.deepEqual(await first.json(), { ready: false, components: { 'kafka-sink': { ready: false, detail: 'connecting' } } });
      report['kafka-sink'] = { ready: true };
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    });
  });

  it('rejects other paths and methods', async () => {
    await withServer({}, async (port) => {
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    });
  });

  it('releases its port when stopped', async () => {
    const server = new HealthServer({ host: '127.0.0.1', port: 0 }, createMetrics(), () => ({}), silent);
    await server.start();
    const port = server.port as number;
    await server.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  it('fails to start with GW_ERR_HTTP_LISTEN when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const server = new HealthServer({ host: '127.0.0.1', port }, createMetrics(), () => ({}), silent);
    await assert.rejects(server.start(), (err: Error & { code?: string }) => err.code === 'GW_ERR_HTTP_LISTEN' && /EADDRINUSE/.test(err.message));
    blocker.close();
  });
});
