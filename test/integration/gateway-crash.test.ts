import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { seededRandom } from '../helpers/wait.js';
import { parseConfig } from '../../src/config/load.js';
import { connectionConfig } from '../../src/sinks/kafka/producer-config.js';
import { auditTopic } from '../../src/sinks/kafka/topic-audit.js';
import { readTopic } from '../../src/sinks/kafka/topic-reader.js';
import { BOOTSTRAP, createTopic, ensureKafkaWithTopics } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';

// kill -9 of a running gateway (spool + sink + sequencer, fed like a pipeline), again and again,
// then one clean run that drains what is left. In WAL mode every record the sink acknowledged must
// be in Kafka; in spill mode loss may only sit at the epoch boundaries (never inside an epoch) and
// is bounded by the live window. In both: no seq reused, nothing out of order.

const KILLS = 12;

async function run(args: string[], lifeMs: number | 'until-exit'): Promise<void> {
  const child = spawn(process.execPath, ['test/fixtures/gateway-writer.mjs', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  if (lifeMs === 'until-exit') {
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, 'the drain run exits cleanly');
    return;
  }
  await new Promise((r) => setTimeout(r, lifeMs));
  child.kill('SIGKILL');
  await exited;
}

for (const mode of ['wal', 'spill'] as const) {
  describe(`a gateway killed with SIGKILL (${mode} mode)`, () => {
    before(() => ensureKafkaWithTopics());

    it(`${mode === 'wal' ? 'loses nothing it acknowledged' : 'loses only the live window, at epoch boundaries'}, reuses no seq and keeps order across ${KILLS} kills`, async () => {
      const dir = await tempDir(`gridgate-gwcrash-${mode}-`);
      const topic = await createTopic(`gridgate-gwcrash-${mode}`, 3);
      const yaml = `site: north
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  delivery: { mode: ${mode}, stallMs: 500, liveWindow: 2000 }
spool: { dir: "${join(dir, 'spool')}", segmentMaxBytes: 1048576 }
shutdown: { drainTimeoutMs: 5000 }
`;
      const config = join(dir, 'site.yaml');
      await writeFile(config, yaml);
      const logFile = join(dir, 'acknowledged.log');
      const args = [config, join(dir, 'state'), logFile, topic];
      const random = seededRandom(11);
      for (let kill = 0; kill < KILLS; kill++) await run(args, 700 + random() * 1300);
      await run([...args, '--drain-only'], 'until-exit');

      const acknowledged = new Map<string, number[]>(); // "stream/epoch" → [first, last] pairs flattened
      let batches = 0;
      for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
        const m = /^A (\S+) (\d+) (\d+) (\d+)$/.exec(line);
        if (!m) continue;
        batches++;
        const key = `north/test/${m[1]}`;
        for (let seq = Number(m[3]); seq <= Number(m[4]); seq++) {
          const list = acknowledged.get(`${key}|${m[2]}`) ?? [];
          list.push(seq);
          acknowledged.set(`${key}|${m[2]}`, list);
        }
      }
      assert.ok(batches > 100, `the writers made progress (${batches} batches acknowledged)`);

      const records = await readTopic({ connection: connectionConfig(parseConfig(yaml, 's', {}).kafka), topic, timeoutMs: 120_000 });
      const report = auditTopic(records);
      const inKafka = new Set<string>();
      for (const r of records) {
        const v = JSON.parse(String(r.value)) as { stream: string; epoch: number; seq: number };
        inKafka.add(`north/test/${v.stream}|${v.epoch}|${v.seq}`);
      }
      let missing = 0;
      for (const [streamEpoch, seqs] of acknowledged) for (const seq of seqs) if (!inKafka.has(`${streamEpoch}|${seq}`)) missing++;

      assert.equal(report.totals.outOfOrder, 0, 'per-stream order');
      assert.equal(report.totals.lost, 0, 'no gap inside an epoch');
      assert.equal(report.unparseable, 0);
      if (mode === 'wal') assert.equal(missing, 0, 'every acknowledged record is in Kafka');
      else assert.ok(missing <= KILLS * 2000, `spill mode lost ${missing}, within ${KILLS} × the live window`);
      console.log(`# ${mode}: ${KILLS} kills, ${records.length} records in Kafka, ${missing} acknowledged records missing, ${report.totals.duplicates} duplicates, ${report.totals.lostAcrossRestarts} seqs skipped at epoch boundaries`);
    });
  });
}
