import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Kafka, { type Message } from 'node-rdkafka';
import { parseConfig } from '../../src/config/load.js';
import { configuredTopics, createTopics } from '../../src/sinks/kafka/topics.js';
import { kafkaEnv, kafkaRunning, TEST_KAFKA_PORT } from './kafka-env.mjs';

// The real single-node broker of scripts/kafka-local, for integration tests. Nothing is mocked.

export const BOOTSTRAP = `127.0.0.1:${TEST_KAFKA_PORT}`;

/** Start the test broker unless it runs already (npm test starts it once for all files). */
export function ensureKafka(): void {
  if (kafkaRunning()) return;
  const result = spawnSync('scripts/kafka-local', ['start'], { stdio: 'inherit', env: { ...process.env, ...kafkaEnv() } });
  if (result.status !== 0) throw new Error('scripts/kafka-local start failed');
}

/** The test broker, with the default topics a site config names (the sink waits for them). */
export async function ensureKafkaWithTopics(): Promise<void> {
  ensureKafka();
  const kafka = parseConfig(`site: t\nkafka:\n  brokers: ["${BOOTSTRAP}"]\n  newTopics: { partitions: 1, replicationFactor: 1 }\n`, 't.yaml', {}).kafka;
  await createTopics({ 'bootstrap.servers': BOOTSTRAP }, kafka, configuredTopics(kafka), 10_000);
}

/** Run scripts/kafka-local with the test broker's environment; returns stdout. */
export function kafkaLocal(...args: string[]): string {
  const result = spawnSync('scripts/kafka-local', args, { encoding: 'utf8', env: { ...process.env, ...kafkaEnv() } });
  if (result.status !== 0) throw new Error(`kafka-local ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** A topic with a fresh name (auto-create is off on the test broker, as in production), with topic configs if given. */
export async function createTopic(prefix: string, partitions = 1, config: Record<string, string> = {}): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = Kafka.AdminClient.create({ 'bootstrap.servers': BOOTSTRAP, 'client.id': 'gridgate-test-admin' });
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1, config }, 10_000, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  } finally {
    admin.disconnect();
  }
  return topic;
}

/** Change a topic's configs on the test broker (Kafka's own ConfigCommand, as an admin would). */
export function alterTopic(topic: string, config: Record<string, string>): void {
  const add = Object.entries(config).map(([k, v]) => `${k}=${v}`).join(',');
  kafkaLocal('tool', 'kafka.admin.ConfigCommand', '--bootstrap-server', BOOTSTRAP, '--alter', '--entity-type', 'topics', '--entity-name', topic, '--add-config', add);
}

/** Read `count` records of `topic` from the beginning with a plain consumer (no group commits). */
export async function consume(topic: string, count: number, timeoutMs = 20_000): Promise<Message[]> {
  const consumer = new Kafka.KafkaConsumer(
    { 'group.id': `gridgate-test-${randomUUID()}`, 'bootstrap.servers': BOOTSTRAP, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const messages: Message[] = [];
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count && Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(100, (err, got) => (err ? reject(err) : resolve(got))),
      );
      messages.push(...batch);
    }
    return messages;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** A consumed message's headers as strings. */
export const messageHeaders = (m: Message): Record<string, string> =>
  Object.fromEntries((m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => [k, String(v)])));

/** A consumed message's JSON value. */
export const messageJson = (m: Message): Record<string, any> => JSON.parse(m.value!.toString()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
