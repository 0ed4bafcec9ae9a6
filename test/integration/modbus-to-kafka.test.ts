import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, httpGet, startGateway, writeConfig } from '../helpers/gridgate.js';
import { BOOTSTRAP, consume, createTopic, ensureKafkaWithTopics, messageHeaders, messageJson } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';

// Modbus with real parts: `gridgate simulate modbus --config` (a separate process serving the
// site's own register map) → `gridgate run` (its Modbus source, pipeline, spool, sink) → the real
// broker, read back with a plain consumer.

const headers = messageHeaders;
const value = messageJson;

describe('Modbus to Kafka, end to end', () => {
  const children: ChildProcess[] = [];
  before(() => ensureKafkaWithTopics());
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('publishes every mapped tag of a simulated device to the SCADA topic, keyed per tag, gap-free', async () => {
    const dir = await tempDir('gridgate-modbus-');
    const topics = { scadaValues: await createTopic('scada') };
    // A free port for the simulator: bind 0 once in this process, then hand the number over.
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const config = await writeConfig(`site: north
log: { level: info }
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  lingerMs: 1
  topics: { scadaValues: ${topics.scadaValues} }
spool: { dir: ${join(dir, 'spool')} }
state: { dir: ${dir} }
analytics: { mode: off }
sources:
  - name: meters
    type: modbus
    address: 127.0.0.1:${port}
    timeoutMs: 300
    devices:
      - name: feeder
        unitId: 1
        pollGroups: { fast: 200 }
        tags:
          - { name: v, area: holding-register, address: 0, type: float32, unit: V, group: fast }
          - { name: f, area: input-register, address: 0, type: float32, unit: Hz, group: fast }
          - { name: kwh, area: input-register, address: 2, type: uint32, scale: 0.1, unit: kWh, group: fast }
          - { name: breaker, area: coil, address: 0, type: bool, group: fast }
shutdown: { drainTimeoutMs: 5000 }
`);
    const sim = spawn(process.execPath, [BIN, 'simulate', 'modbus', '--config', config, '--source', 'meters'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sim);
    await new Promise<void>((resolve) => sim.stdout!.once('data', () => resolve()));
    const gw = startGateway(['run', '--config', config]);
    const http = (await gw.waitForLog((l) => l.msg === 'metrics and health endpoints listening')).port as number;
    await gw.waitForLog((l) => l.msg === 'Modbus connection open', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const metrics = (await httpGet(http, '/metrics')).body;
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    sim.kill('SIGTERM');

    assert.match(metrics, /^gridgate_modbus_connected\{source="meters"\} 1$/m);
    const published = Number(/^gridgate_pipeline_records_total\{kind="scada-value"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    assert.ok(published >= 4, `records so far: ${published}`);
    const messages = await consume(topics.scadaValues, published, 30_000);
    const byKey = new Map<string, Record<string, any>[]>();
    for (const m of messages) {
      assert.deepEqual(headers(m), { site: 'north', schema: 'gridgate.scada-value/1', 'content-type': 'application/json' });
      byKey.set(m.key!.toString(), [...(byKey.get(m.key!.toString()) ?? []), value(m)]);
    }
    assert.deepEqual([...byKey.keys()].sort(), ['north/meters/feeder/breaker', 'north/meters/feeder/f', 'north/meters/feeder/kwh', 'north/meters/feeder/v']);
    for (const records of byKey.values()) {
      assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), 'gap-free seq per tag');
      assert.ok(records.every((r) => r.quality.level === 'good' && r.protocol === 'modbus' && r.eventTime <= r.ingestTime));
    }
    const v = byKey.get('north/meters/feeder/v')!;
    assert.ok(v.every((r) => r.unit === 'V' && r.value > 150 && r.value < 300), `plausible voltages: ${v.map((r) => r.value).join(', ')}`);
  });
});
