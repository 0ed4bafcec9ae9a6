import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import { GatewayError } from '../../src/errors.js';
import { createKafkaMetrics } from '../../src/sinks/kafka/metrics.js';
import { KafkaProducer } from '../../src/sinks/kafka/producer.js';
import { rdkafkaConfig } from '../../src/sinks/kafka/producer-config.js';
import { BOOTSTRAP, consume, createTopic, ensureKafka, kafkaLocal } from '../helpers/kafka.js';

// A record through the real local broker, read back by node-rdkafka's consumer and by kcat (a
// client we did not write), and the broker's own log showing the batch came from an idempotent
// producer.

const silent = pino({ level: 'silent' });

function producerFor(brokers: string, extraYaml = ''): { producer: KafkaProducer; registry: Registry } {
  const config = parseConfig(`site: north\nkafka:\n  brokers: ["${brokers}"]\n  connectTimeoutMs: 2000\n${extraYaml}`, 'test.yaml', {});
  const registry = new Registry();
  const producer = new KafkaProducer({
    config: rdkafkaConfig(config.kafka, 'gridgate-test'),
    connectTimeoutMs: config.kafka.connectTimeoutMs,
    pollIntervalMs: config.kafka.pollIntervalMs,
    log: silent,
    metrics: createKafkaMetrics(registry),
  });
  return { producer, registry };
}

const record = {
  key: 'north/pmu-a/1',
  value: Buffer.from(JSON.stringify({ site: 'north', source: 'pmu-a', stream: '1', seq: 0, epoch: 1 })),
  headers: { site: 'north', schema: 'gridgate.test/1', 'content-type': 'application/json' },
};

describe('the Kafka producer against the local broker', () => {
  let topic: string;
  let producer: KafkaProducer;
  let registry: Registry;

  before(async () => {
    ensureKafka();
    topic = await createTopic('gridgate-roundtrip');
    ({ producer, registry } = producerFor(BOOTSTRAP));
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
  });

  it('acknowledges a record only through its delivery report, with partition and offset', async () => {
    const delivered = await producer.send({ topic, ...record });
    assert.deepEqual(delivered, { topic, partition: 0, offset: 0 });
    assert.equal(producer.inFlight, 0);
    const acknowledged = await registry.getSingleMetric('gridgate_kafka_acknowledged_total')?.get();
    assert.equal(acknowledged?.values[0]?.value, 1);
  });

  it('is read back unchanged (key, value, headers) by a consumer', async () => {
    const [message, ...more] = await consume(topic, 1);
    assert.equal(more.length, 0);
    assert.ok(message);
    assert.equal(message.key?.toString(), record.key);
    assert.deepEqual(message.value, record.value);
    const headers = Object.assign({}, ...(message.headers ?? []).map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.toString()]))));
    assert.deepEqual(headers, record.headers);
  });

  it('is read back unchanged by kcat, a client we did not write', () => {
    const kcat = spawnSync('kcat', ['-C', '-b', BOOTSTRAP, '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-q', '-f', '%k|%s|%h'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(kcat.error, undefined, 'kcat must be installed (.ci/run installs it)');
    assert.equal(kcat.status, 0, kcat.stderr);
    assert.equal(kcat.stdout, `${record.key}|${record.value.toString()}|site=north,schema=gridgate.test/1,content-type=application/json`);
  });

  it('writes batches the broker records under a producer id, which a non-idempotent producer lacks', async () => {
    // Contrast: the same record from a plain (non-idempotent) librdkafka producer, kcat.
    const plainTopic = await createTopic('gridgate-plain');
    const kcat = spawnSync('kcat', ['-P', '-b', BOOTSTRAP, '-t', plainTopic, '-k', record.key], { input: 'plain', encoding: 'utf8' });
    assert.equal(kcat.status, 0, kcat.stderr);
    await consume(plainTopic, 1); // delivered and on disk

    const producerIdOf = (t: string): number => {
      const dir = join(kafkaLocal('datadir').trim(), 'logs', `${t}-0`);
      const segment = readdirSync(dir).find((f) => f.endsWith('.log'));
      assert.ok(segment, `no segment in ${dir}`);
      const dump = kafkaLocal('tool', 'kafka.tools.DumpLogSegments', '--files', join(dir, segment));
      const match = /producerId: (-?\d+)/.exec(dump);
      assert.ok(match, dump);
      return Number(match[1]);
    };
    assert.ok(producerIdOf(topic) >= 0, 'gridgate batches carry a producer id (enable.idempotence=true)');
    assert.equal(producerIdOf(plainTopic), -1, 'a non-idempotent batch carries producerId -1');
  });
});

describe('the Kafka producer without a broker', () => {
  it('fails to connect with GW_ERR_KAFKA_CONNECT naming the brokers and the timeout', async () => {
    const { producer } = producerFor('127.0.0.1:1');
    await assert.rejects(producer.connect(), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'GW_ERR_KAFKA_CONNECT');
      assert.match(err.message, /127\.0\.0\.1:1 within 2000 ms/);
      return true;
    });
    assert.equal(producer.connected, false);
  });
});
