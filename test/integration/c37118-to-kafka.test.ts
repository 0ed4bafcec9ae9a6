import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { avroRecordType } from '../../src/pipeline/encoding/avro.js';
import { Command } from '../../src/protocols/c37118/constants.js';
import { BIN, httpGet, simulatePmu, startGateway, writeConfig } from '../helpers/gridgate.js';
import { cfg2Frame, dataFrames, FakePmu, simpleConfig } from '../helpers/fake-pmu.js';
import { BOOTSTRAP, consume, createTopic, ensureKafkaWithTopics, messageHeaders, messageJson } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';

// The whole path with real parts: `gridgate simulate pmu` (a separate process) → `gridgate run`
// (its C37.118 source, pipeline, spool, sink) → the real broker → a plain consumer and
// `gridgate verify-topic`.

const headers = messageHeaders;
const value = messageJson;

/** Topics either site-wide (kafka.topics) or, with `perSource`, on the source itself. */
async function siteConfig(address: string, topics: { pmuFrames: string; deadLetter: string }, perSource = false, encoding = 'json'): Promise<string> {
  const state = await tempDir('gridgate-c37118-');
  const siteTopics = perSource ? '' : `\n  topics: { pmuFrames: ${topics.pmuFrames}, deadLetter: ${topics.deadLetter} }`;
  const sourceTopics = perSource ? `\n    topics: { records: ${topics.pmuFrames}, deadLetter: ${topics.deadLetter} }` : '';
  return writeConfig(`site: north
log: { level: debug }
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  encoding: ${encoding}
  lingerMs: 1${siteTopics}
spool: { dir: ${join(state, 'spool')} }
state: { dir: ${state} }
sources:
  - name: pmu-a
    type: c37118
    address: ${address}
    idcode: 1
    commandTimeoutMs: 1000${sourceTopics}
shutdown: { drainTimeoutMs: 5000 }
`);
}


describe('C37.118 to Kafka, end to end', () => {
  const children: ChildProcess[] = [];
  before(() => ensureKafkaWithTopics());
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('carries every frame of a simulated two-PMU stream to Kafka: per PMU in order, gap-free, with its values', async () => {
    const scenario = join(await tempDir('gridgate-scenario-'), 'scenario.yaml');
    await writeFile(
      scenario,
      'noise: { magnitudePct: 0, angleDeg: 0, frequencyHz: 0, rocofHzPerS: 0 }\nevents:\n  - { type: frequency-step, at: 1, deltaHz: -0.2 }\n',
    );
    const sim = await simulatePmu(['--pmus', '2', '--rate', '50', '--fnom', '50', '--seed', '7', '--scenario', scenario]);
    children.push(sim.child);
    const topics = { pmuFrames: await createTopic('pmu'), deadLetter: await createTopic('dlq') };
    const gw = startGateway(['run', '--config', await siteConfig(`127.0.0.1:${sim.port}`, topics)]);
    const port = (await gw.waitForLog((l) => l.msg === 'metrics and health endpoints listening')).port as number;
    await gw.waitForLog((l) => l.msg === 'configuration received', 20_000);
    // 3 s of a 50 frames/s stream with two PMUs: about 300 records.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const ready = JSON.parse((await httpGet(port, '/readyz')).body) as { components: Record<string, { ready: boolean }> };
    assert.equal(ready.components['source-pmu-a']?.ready, true);
    const metrics = (await httpGet(port, '/metrics')).body;
    assert.match(metrics, /^gridgate_c37118_connected\{source="pmu-a"\} 1$/m);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    sim.child.kill('SIGTERM');

    const sent = gw.logs.filter((l) => l.msg === 'gridgate stopped');
    assert.equal(sent.length, 1);
    const frames = Number(/^gridgate_c37118_frames_total\{source="pmu-a",type="data"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    assert.ok(frames >= 100, `about 150 data frames in 3 s, saw ${frames}`);
    const messages = await consume(topics.pmuFrames, 2 * frames, 30_000);
    assert.ok(messages.length >= 2 * frames, `every PMU block of every frame counted so far is in Kafka (${messages.length})`);
    const byKey = new Map<string, Record<string, any>[]>();
    for (const m of messages) {
      assert.deepEqual(headers(m), { site: 'north', schema: 'gridgate.pmu-frame/1', 'content-type': 'application/json' });
      const key = m.key!.toString();
      byKey.set(key, [...(byKey.get(key) ?? []), value(m)]);
    }
    assert.deepEqual([...byKey.keys()].sort(), ['north/pmu-a/101', 'north/pmu-a/102'], 'one key per PMU IDCODE');
    for (const records of byKey.values()) {
      assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), 'gap-free seq from 1');
      const times = records.map((r) => r.eventTime as number);
      assert.ok(times.every((t, i) => i === 0 || t - times[i - 1]! === 20_000), 'one record per 20 ms frame, in order');
      assert.ok(records.every((r) => r.quality.level === 'good' && r.phasors.length === 6 && r.pmu.fnom === 50));
      // The scripted step: 50 Hz for the first second of the run, then 49.8 Hz.
      assert.ok(Math.abs(records[0]!.freq - 50) < 1e-4 || Math.abs(records[0]!.freq - 49.8) < 1e-4);
      assert.ok(Math.abs(records.at(-1)!.freq - 49.8) < 1e-4, `frequency after the step: ${records.at(-1)!.freq}`);
    }

    const verify = spawnSync(process.execPath, [BIN, 'verify-topic', '--brokers', BOOTSTRAP, '--topic', topics.pmuFrames, '--from-beginning'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  it('writes Avro binary with kafka.encoding avro: every value decodes with its schema, and verify-topic reads the topic', async () => {
    const sim = await simulatePmu(['--pmus', '2', '--rate', '50', '--fnom', '50', '--seed', '7']);
    children.push(sim.child);
    const topics = { pmuFrames: await createTopic('pmu'), deadLetter: await createTopic('dlq') };
    const gw = startGateway(['run', '--config', await siteConfig(`127.0.0.1:${sim.port}`, topics, false, 'avro')]);
    await gw.waitForLog((l) => l.msg === 'configuration received', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    sim.child.kill('SIGTERM');
    const messages = await consume(topics.pmuFrames, 100, 30_000);
    const type = avroRecordType('pmu-frame');
    const seqs = new Map<string, number[]>();
    for (const m of messages) {
      assert.deepEqual(headers(m), { site: 'north', schema: 'gridgate.pmu-frame/1', 'content-type': 'avro/binary' });
      const r = type.fromBuffer(m.value!) as { site: string; source: string; stream: string; seq: number; phasors: unknown[]; freq: number };
      assert.equal(m.key!.toString(), `${r.site}/${r.source}/${r.stream}`);
      assert.equal(r.phasors.length, 6);
      assert.ok(Math.abs(r.freq - 50) < 0.1, `freq ${r.freq}`);
      seqs.set(r.stream, [...(seqs.get(r.stream) ?? []), r.seq]);
    }
    assert.deepEqual([...seqs.keys()].sort(), ['101', '102']);
    for (const list of seqs.values()) assert.deepEqual(list, list.map((_, i) => i + 1), 'gap-free seq from 1, in order');
    const verify = spawnSync(process.execPath, [BIN, 'verify-topic', '--brokers', BOOTSTRAP, '--topic', topics.pmuFrames, '--from-beginning'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /clean/);
  });

  it("sends bytes that are not frames to the source's dead-letter topic with the raw bytes, and keeps the good frames", async () => {
    const pmu = await FakePmu.start();
    const config = simpleConfig(1, 50);
    const [f0, f1, f2] = dataFrames(config, 0, 3);
    const corrupt = Buffer.from(f1!);
    corrupt[30]! ^= 0x01;
    pmu.onCommand = (command, socket) => {
      if (command === Command.SEND_CFG2) socket.write(cfg2Frame(config));
      if (command === Command.DATA_ON) socket.write(Buffer.concat([f0!, corrupt, f2!]));
    };
    const topics = { pmuFrames: await createTopic('pmu'), deadLetter: await createTopic('dlq') };
    // This source names its own topics (the site's defaults stay as they are).
    const gw = startGateway(['run', '--config', await siteConfig(pmu.address, topics, true)]);
    const [dlq] = await consume(topics.deadLetter, 1, 30_000);
    const good = await consume(topics.pmuFrames, 2, 30_000);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    await pmu.close();
    assert.ok(dlq, 'a dead letter arrived');
    assert.equal(dlq.key!.toString(), 'north/pmu-a/dlq');
    assert.equal(headers(dlq).schema, 'gridgate.dead-letter/1');
    const letter = value(dlq);
    assert.deepEqual(
      { stage: letter.stage, reason: letter.reason, length: letter.length, seq: letter.seq, quality: letter.quality.level },
      { stage: 'framing', reason: 'crc-mismatch', length: corrupt.length, seq: 1, quality: 'bad' },
    );
    assert.deepEqual(Buffer.from(letter.bytes, 'base64'), corrupt, 'the exact bytes, for re-decoding');
    // The good frames on either side of the corrupt one. (The fake device falls silent after them,
    // so the source reconnects and the device sends them again: records 3, 4, … are those.)
    assert.deepEqual(good.slice(0, 2).map((m) => [value(m).seq, value(m).freq]), [[1, Math.fround(50)], [2, Math.fround(50.002)]]);
  });
});
