import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BOOTSTRAP, ensureKafkaWithTopics } from '../helpers/kafka.js';
import { httpGet, startGateway, writeConfig } from '../helpers/gridgate.js';

// `gridgate run` as systemd runs it: a real process, real sockets, the real local broker.

const config = (brokers: string, extra = ''): string => `site: north
log: { level: debug }
http: { port: 0 }
kafka:
  brokers: ["${brokers}"]
  connectTimeoutMs: 1000
  reconnect: { initialMs: 100, maxMs: 500 }
shutdown: { drainTimeoutMs: 3000 }
${extra}`;

const listening = (l: Record<string, unknown>): boolean => l.msg === 'metrics and health endpoints listening';

describe('gridgate run', () => {
  before(() => ensureKafkaWithTopics());

  it('starts on the example config shape, becomes ready against the broker, serves /metrics and stops cleanly on SIGTERM', async () => {
    const gw = startGateway(['run', '--config', await writeConfig(config(BOOTSTRAP))]);
    const port = (await gw.waitForLog(listening)).port as number;
    await gw.waitForLog((l) => l.msg === 'kafka producer connected');

    const ready = await httpGet(port, '/readyz');
    assert.equal(ready.status, 200, ready.body);
    assert.deepEqual(JSON.parse(ready.body), { ready: true, components: { http: { ready: true }, 'kafka-sink': { ready: true } } });
    assert.equal((await httpGet(port, '/healthz')).status, 200);
    const metrics = await httpGet(port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^gridgate_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
    assert.match(metrics.body, /^gridgate_kafka_connected 1$/m);
    assert.match(metrics.body, /^nodejs_eventloop_lag_p99_seconds /m);
    assert.match(metrics.body, /^process_resident_memory_bytes /m);
    assert.equal((await httpGet(port, '/nope')).status, 404);

    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    const stopped = gw.logs.find((l) => l.msg === 'gridgate stopped');
    assert.deepEqual(stopped?.clean, true);
    // Reverse order: the sink stops before the http server that reports on it.
    const order = gw.logs.filter((l) => l.msg === 'component stopped').map((l) => l.component);
    assert.deepEqual(order, ['kafka-sink', 'http']);
  });

  it('runs the shipped config/example-site.yaml as is: serves /metrics on 127.0.0.1:9464, opens its spool, stops on SIGTERM', async () => {
    // STATE_DIRECTORY is what systemd's StateDirectory= provides; the example's spool lives under it.
    const state = await mkdtemp(join(tmpdir(), 'gridgate-state-'));
    const gw = startGateway(['run', '--config', 'config/example-site.yaml'], [], { STATE_DIRECTORY: state });
    const listen = await gw.waitForLog(listening);
    assert.deepEqual([listen.host, listen.port], ['127.0.0.1', 9464]);
    const opened = await gw.waitForLog((l) => l.msg === 'spool opened');
    assert.equal(opened.dir, join(state, 'spool'));
    const metrics = await httpGet(9464, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^gridgate_spool_records 0$/m);
    assert.match(metrics.body, /^gridgate_spool_disk_free_bytes \d+/m);
    const ready = JSON.parse((await httpGet(9464, '/readyz')).body) as { components: Record<string, { ready: boolean }> };
    assert.equal(ready.components.spool?.ready, true);
    assert.equal(existsSync(join(state, 'spool', 'lock')), true, 'the running gateway holds the spool lock');
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    assert.equal(existsSync(join(state, 'spool', 'lock')), false, 'released at stop');
    assert.equal(existsSync(join(state, 'spool', 'ledger')), true);
  });

  it('stays up and not ready while Kafka is unreachable, retrying with back-off, and stops promptly on SIGINT', async () => {
    const gw = startGateway(['run', '--config', await writeConfig(config('127.0.0.1:1'))]);
    const port = (await gw.waitForLog(listening)).port as number;
    await gw.waitForLog((l) => l.msg === 'kafka not reachable; retrying');

    const ready = await httpGet(port, '/readyz');
    assert.equal(ready.status, 503);
    const body = JSON.parse(ready.body) as { components: Record<string, { ready: boolean; detail?: string }> };
    assert.equal(body.components['kafka-sink']?.ready, false);
    assert.match(body.components['kafka-sink']?.detail ?? '', /127\.0\.0\.1:1/);
    assert.equal((await httpGet(port, '/healthz')).status, 200, 'alive even though not ready');

    const stopAt = Date.now();
    gw.child.kill('SIGINT');
    assert.equal(await gw.exited, 0, gw.stderr());
    // An attempt in progress cannot be cancelled (librdkafka), so exit may wait for it: at most
    // connectTimeoutMs (1000 here), never the drain budget or a full back-off cycle.
    assert.ok(Date.now() - stopAt < 2000, 'stop bounded by one connection attempt');
  });

  it('refuses an invalid config with exit 78, naming file:line:column and the key, and starts nothing', async () => {
    const file = await writeConfig(config(BOOTSTRAP, 'kafak: {}\n'));
    const gw = startGateway(['run', '--config', file]);
    assert.equal(await gw.exited, 78);
    assert.match(gw.stderr(), new RegExp(`^${file}:9:1 kafak: unknown key "kafak" \\(did you mean "kafka"\\?\\)`, 'm'));
    assert.equal(gw.logs.length, 0, 'nothing started, nothing logged');
  });

  it('logs an uncaught exception with its stack and context, drains, and exits 70 so systemd restarts it', async () => {
    const gw = startGateway(['run', '--config', await writeConfig(config(BOOTSTRAP))], ['--import', './test/fixtures/throw-after-start.mjs']);
    assert.equal(await gw.exited, 70, gw.stderr());
    const fatal = gw.logs.find((l) => l.level === 'fatal');
    assert.ok(fatal, 'a fatal log line');
    assert.equal(fatal.origin, 'uncaughtException');
    assert.match(String((fatal.err as { stack?: string }).stack), /injected failure/);
    assert.ok(gw.logs.some((l) => l.msg === 'gridgate stopped'), 'the graph was stopped, not abandoned');
  });
});
