import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import { createKafkaMetrics } from '../../src/sinks/kafka/metrics.js';
import { KafkaProducer } from '../../src/sinks/kafka/producer.js';
import { rdkafkaConfig } from '../../src/sinks/kafka/producer-config.js';
import type { TopicReport } from '../../src/sinks/kafka/topic-audit.js';
import { BIN } from '../helpers/gridgate.js';
import { BOOTSTRAP, createTopic, ensureKafka } from '../helpers/kafka.js';

// verify-topic against the real broker: records produced with known gaps, duplicates and restarts
// across three partitions must be reported exactly.

async function produce(topic: string, records: { stream: string; epoch: number; seq: number }[]): Promise<void> {
  const config = parseConfig(`site: north\nkafka:\n  brokers: ["${BOOTSTRAP}"]\n`, 'test.yaml', {});
  const producer = new KafkaProducer({
    config: rdkafkaConfig(config.kafka, 'gridgate-test'),
    connectTimeoutMs: 5000,
    pollIntervalMs: 2,
    log: pino({ level: 'silent' }),
    metrics: createKafkaMetrics(new Registry()),
  });
  await producer.connect();
  try {
    await Promise.all(
      records.map((r) =>
        producer.send({
          topic,
          key: `north/pmu/${r.stream}`,
          value: Buffer.from(JSON.stringify({ site: 'north', source: 'pmu', stream: r.stream, epoch: r.epoch, seq: r.seq })),
        }),
      ),
    );
  } finally {
    await producer.disconnect();
  }
}

function verify(topic: string): { status: number | null; report: TopicReport; stdout: string } {
  const run = spawnSync(process.execPath, [BIN, 'verify-topic', '--brokers', BOOTSTRAP, '--topic', topic, '--from-beginning', '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.stderr, '');
  return { status: run.status, report: JSON.parse(run.stdout) as TopicReport, stdout: run.stdout };
}

describe('gridgate verify-topic', () => {
  before(() => ensureKafka());

  it('reports a complete topic clean and exits 0', async () => {
    const topic = await createTopic('gridgate-verify-clean', 3);
    const records = ['1', '2', '3', '4'].flatMap((stream) => Array.from({ length: 50 }, (_, i) => ({ stream, epoch: 1, seq: i + 1 })));
    await produce(topic, records);
    const { status, report } = verify(topic);
    assert.equal(status, 0);
    assert.equal(report.records, 200);
    assert.equal(report.streams.length, 4);
    assert.ok(report.clean);
    assert.deepEqual(report.streams.map((s) => [s.records, s.last.seq]), [[50, 50], [50, 50], [50, 50], [50, 50]]);
  });

  it('finds loss inside an epoch, duplicates and the gap of a restart, and exits 1', async () => {
    const topic = await createTopic('gridgate-verify-dirty', 3);
    await produce(topic, [
      ...[1, 2, 3, 5, 6].map((seq) => ({ stream: 'a', epoch: 1, seq })), // 4 lost
      ...[1, 2, 2, 3].map((seq) => ({ stream: 'b', epoch: 1, seq })), // 2 duplicated
      ...[1, 2].map((seq) => ({ stream: 'c', epoch: 1, seq })),
      ...[1025, 1026].map((seq) => ({ stream: 'c', epoch: 2, seq })), // a restart skipped a reservation
    ]);
    const { status, report } = verify(topic);
    assert.equal(status, 1);
    const byKey = Object.fromEntries(report.streams.map((s) => [s.key, s]));
    assert.equal(byKey['north/pmu/a']?.lost, 1);
    assert.equal(byKey['north/pmu/b']?.duplicates, 1);
    assert.deepEqual([byKey['north/pmu/c']?.lost, byKey['north/pmu/c']?.lostAcrossRestarts, byKey['north/pmu/c']?.epochs], [0, 1022, 2]);
    assert.deepEqual(report.totals, { lost: 1, lostAcrossRestarts: 1022, duplicates: 1, outOfOrder: 0 });
  });

  it('writes its whole report through a pipe, far beyond the pipe buffer (1,500 streams)', async () => {
    // The CLI used to exit before a pipe had taken the output: reports stopped at 64 KiB.
    const topic = await createTopic('gridgate-verify-many', 3);
    await produce(topic, Array.from({ length: 1500 }, (_, i) => ({ stream: String(i), epoch: 1, seq: 1 })));
    const { status, report, stdout } = verify(topic);
    assert.equal(status, 0);
    assert.ok(stdout.length > 4 * 65536, `${stdout.length} bytes`);
    assert.equal(report.streams.length, 1500);
  });

  it('says clearly when the topic does not exist', () => {
    const run = spawnSync(process.execPath, [BIN, 'verify-topic', '--brokers', BOOTSTRAP, '--topic', 'no-such-topic-here', '--from-beginning'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 1);
    assert.equal(run.stderr, 'gridgate verify-topic: topic no-such-topic-here does not exist [GW_ERR_KAFKA_TOPIC]\n');
  });
});
