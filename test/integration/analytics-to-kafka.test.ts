import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpGet, simulatePmu, startGateway, writeConfig } from '../helpers/gridgate.js';
import { BOOTSTRAP, consume, createTopic, ensureKafkaWithTopics, messageHeaders, messageJson } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';

// Features and flags with real parts: `gridgate simulate pmu` (a separate process, a scripted
// voltage sag) → `gridgate run` (source, pipeline, analytics in a worker thread, spool, sink) → the
// real broker, read back with a plain consumer.

const headers = messageHeaders;
const value = messageJson;


describe('analytics to Kafka, end to end', () => {
  const children: ChildProcess[] = [];
  before(() => ensureKafkaWithTopics());
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('publishes feature windows and a voltage-sag flag for a simulated PMU, each topic gap-free per key', async () => {
    const dir = await tempDir('gridgate-analytics-');
    const scenario = join(dir, 'scenario.yaml');
    await writeFile(scenario, 'events:\n  - { type: voltage, at: 4, pu: 0.8, durationS: 1 }\n');
    const sim = await simulatePmu(['--rate', '50', '--fnom', '50', '--phasors', '8', '--seed', '3', '--scenario', scenario]);
    children.push(sim.child);
    const topics = { pmuFrames: await createTopic('pmu'), features: await createTopic('features'), anomalies: await createTopic('anomalies'), late: await createTopic('late') };
    const config = await writeConfig(`site: north
log: { level: info }
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  lingerMs: 1
  topics: { pmuFrames: ${topics.pmuFrames}, features: ${topics.features}, anomalies: ${topics.anomalies}, late: ${topics.late} }
spool: { dir: ${join(dir, 'spool')} }
state: { dir: ${dir} }
analytics:
  workers: 1
  windows: [{ sizeMs: 100 }, { sizeMs: 1000 }]
sources:
  - name: pmu-a
    type: c37118
    address: 127.0.0.1:${sim.port}
    idcode: 1
    analytics: { voltageBaseKv: 230, currentBaseA: 500 }
shutdown: { drainTimeoutMs: 5000 }
`);
    const gw = startGateway(['run', '--config', config]);
    const port = (await gw.waitForLog((l) => l.msg === 'metrics and health endpoints listening')).port as number;
    await gw.waitForLog((l) => l.msg === 'configuration received', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const metrics = (await httpGet(port, '/metrics')).body;
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    sim.child.kill('SIGTERM');

    const windows = Number(/^gridgate_analytics_records_total\{kind="feature-window"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    assert.ok(windows >= 40, `feature windows produced: ${windows}`);
    const features = await consume(topics.features, windows, 30_000);
    assert.ok(features.length >= windows);
    const seqs = new Map<string, number[]>();
    for (const m of features) {
      assert.deepEqual(headers(m), { site: 'north', schema: 'gridgate.feature-window/1', 'content-type': 'application/json' });
      assert.equal(m.key!.toString(), 'north/pmu-a/101');
      const v = value(m);
      seqs.set(v.window.name, [...(seqs.get(v.window.name) ?? []), v.seq]);
      assert.equal(v.stream, '101');
      assert.ok(v.channels['seq.V1'] && v.channels['power.P'] && v.channels.freq, 'derived and raw channels');
    }
    const all = features.map((m) => value(m).seq as number);
    assert.deepEqual(all, all.map((_, i) => i + 1), 'one gap-free seq per key on the features topic, from 1');
    const hundred = features.map(value).filter((v) => v.window.name === '100ms' && v.closedBy === 'watermark');
    // The first window is partial by nature: the stream starts inside it.
    const short = hundred.slice(1).filter((v) => !(v.samples === 5 && v.complete)).map((v) => [v.window.start, v.samples, v.missing, v.duplicates]);
    assert.deepEqual(short, [], 'every 100 ms window of a 50 frames/s stream has its 5 frames');
    assert.ok(features.map(value).some((v) => v.closedBy === 'shutdown'), 'the windows open at the stop were published');

    const flags = (await consume(topics.anomalies, 1, 30_000)).map((m) => ({ h: headers(m), v: value(m) }));
    const sag = flags.find((f) => f.v.kind === 'voltage-sag' && f.v.state === 'raised');
    assert.ok(sag, `a voltage-sag flag (got ${flags.map((f) => f.v.kind).join(', ')})`);
    assert.equal(sag.h.schema, 'gridgate.anomaly/1');
    assert.ok(Math.abs(sag.v.peak - 0.8) < 0.01);
  });
});
