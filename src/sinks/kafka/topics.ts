import Kafka from 'node-rdkafka';
import { GatewayError } from '../../errors.js';
import type { KafkaConfig } from './config.js';

// The topics a site publishes to, and creating the missing ones when the config asks for it
// (missingTopics: create). Creation is idempotent: a topic created meanwhile by someone else is
// fine.

export function configuredTopics(config: KafkaConfig): string[] {
  return [...new Set(Object.values(config.topics))];
}

/** The command an operator runs to create `topics` as configured (for the missing-topic error). */
export function createCommand(config: KafkaConfig, topics: readonly string[]): string {
  const { partitions, replicationFactor } = config.newTopics;
  return topics
    .map((t) => `kafka-topics.sh --bootstrap-server ${config.brokers[0]} --create --topic ${t} --partitions ${partitions} --replication-factor ${replicationFactor}`)
    .join('; ');
}

const TOPIC_ALREADY_EXISTS = 36;

export async function createTopics(connection: Record<string, string>, config: KafkaConfig, topics: readonly string[], timeoutMs: number): Promise<void> {
  const admin = Kafka.AdminClient.create({ ...connection, 'client.id': 'gridgate-topics' });
  try {
    for (const topic of topics) {
      await new Promise<void>((resolve, reject) =>
        admin.createTopic(
          { topic, num_partitions: config.newTopics.partitions, replication_factor: config.newTopics.replicationFactor },
          timeoutMs,
          (err) => (err && err.code !== TOPIC_ALREADY_EXISTS ? reject(new GatewayError('GW_ERR_KAFKA_TOPIC', `cannot create topic ${topic}: ${err.message}`, { cause: err })) : resolve()),
        ),
      );
    }
  } finally {
    admin.disconnect();
  }
}
