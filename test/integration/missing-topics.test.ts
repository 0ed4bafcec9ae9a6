import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildGraph } from '../../src/daemon/graph.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createKafkaMetrics } from '../../src/sinks/kafka/metrics.js';
import { KafkaProducer } from '../../src/sinks/kafka/producer.js';
import { connectionConfig, rdkafkaConfig } from '../../src/sinks/kafka/producer-config.js';
import { auditTopic } from '../../src/sinks/kafka/topic-audit.js';
import { readTopic } from '../../src/sinks/kafka/topic-reader.js';
import { configuredTopics, createTopics } from '../../src/sinks/kafka/topics.js';
import { BOOTSTRAP, ensureKafka } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';
import { until } from '../helpers/wait.js';

// Auto-creation is off: a configured topic that does not exist is reported (ERROR, /readyz, the
// command to create it) and records wait in the spool until it does, or gridgate creates it when
// told to. Nothing is lost either way.


async function gateway(mode: 'wait' | 'create') {
  const prefix = `gg-${randomUUID().slice(0, 8)}`;
  const yaml = `site: north
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  reconnect: { initialMs: 100, maxMs: 300 }
  missingTopics: ${mode}
  newTopics: { partitions: 1, replicationFactor: 1 }
  topics: { pmuFrames: ${prefix}.pmu, scadaValues: ${prefix}.scada, features: ${prefix}.features, anomalies: ${prefix}.anomalies, late: ${prefix}.late, deadLetter: ${prefix}.dlq }
spool: { dir: "${await tempDir('gridgate-topics-')}" }
`;
  const config = parseConfig(yaml, 'site.yaml', {});
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  let daemon: Daemon | undefined;
  const graph = buildGraph(config, log, createMetrics(), () => daemon?.readiness() ?? {});
  daemon = new Daemon(graph.components, log, 3000);
  await daemon.start();
  return { config, graph, daemon, logs };
}

async function missing(topics: string[]): Promise<string[]> {
  const kafka = parseConfig(`site: t\nkafka:\n  brokers: ["${BOOTSTRAP}"]\n`, 't', {}).kafka;
  const p = new KafkaProducer({ config: rdkafkaConfig(kafka, 'gridgate-test'), connectTimeoutMs: 5000, pollIntervalMs: 5, log: pino({ level: 'silent' }), metrics: createKafkaMetrics(new Registry()) });
  await p.connect();
  try {
    return await p.missingTopics(topics, 5000);
  } finally {
    await p.disconnect();
  }
}

describe('configured topics that do not exist', () => {
  before(() => ensureKafka());

  it('waits: says which and how to create them, keeps records in the spool, sends once they exist', async () => {
    const { config, graph, daemon, logs } = await gateway('wait');
    const topics = configuredTopics(config.kafka);
    await until(() => logs.some((l) => l.msg === 'configured Kafka topics do not exist; records wait in the spool until they do'), 'the missing topics are reported', 30_000);
    const report = logs.find((l) => l.code === 'GW_ERR_KAFKA_TOPIC');
    assert.equal(report?.level, 50);
    assert.deepEqual(report?.topics, topics);
    assert.match(String(report?.create), /kafka-topics\.sh --bootstrap-server 127\.0\.0\.1:\d+ --create --topic gg-\w+\.pmu --partitions 1 --replication-factor 1/);
    const readiness = graph.sink.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.detail ?? '', /topics missing: .*pmu/);

    const value = (seq: number): Buffer => Buffer.from(JSON.stringify({ site: 'north', source: 't', stream: '1', epoch: 1, seq }));
    await graph.sink.offer(Array.from({ length: 100 }, (_, i) => ({ topic: config.kafka.topics.pmuFrames, key: 'north/t/1', value: value(i + 1), timestampMs: Date.now() })));
    const spool = graph.spool?.spool;
    assert.ok(spool && spool.heldRecords() === 100, 'held in the spool while the topics are missing');

    await createTopics(connectionConfig(config.kafka), config.kafka, topics, 10_000);
    await until(() => graph.sink.readiness().ready, 'the sink is ready once the topics exist', 30_000);
    await until(() => spool.heldRecords() === 0, 'the spool drained', 30_000);
    await daemon.stop();
    const audit = auditTopic(await readTopic({ connection: connectionConfig(config.kafka), topic: config.kafka.topics.pmuFrames, timeoutMs: 30_000 }));
    assert.equal(audit.records, 100);
    assert.equal(audit.clean, true);
  });

  it('creates them when told to, with the configured partitions and replication', async () => {
    const { config, graph, daemon, logs } = await gateway('create');
    const topics = configuredTopics(config.kafka);
    await until(() => graph.sink.readiness().ready, 'the sink is ready', 30_000);
    assert.ok(logs.some((l) => l.msg === 'created missing Kafka topics'));
    assert.deepEqual(await missing(topics), []);
    await daemon.stop();
  });
});
