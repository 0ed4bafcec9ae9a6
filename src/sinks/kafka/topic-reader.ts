import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { GatewayError } from '../../errors.js';
import type { AuditedRecord } from './topic-audit.js';

// Reads a whole topic, every partition from its low watermark to the high watermark taken at the
// start, with a throwaway consumer group that commits nothing. For `gridgate verify-topic`.

export interface ReadTopicOptions {
  /** librdkafka connection settings (connectionConfig()). */
  connection: Record<string, string>;
  topic: string;
  timeoutMs: number;
}

export async function readTopic(options: ReadTopicOptions): Promise<AuditedRecord[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      ...options.connection,
      'group.id': `gridgate-verify-${randomUUID()}`,
      'client.id': 'gridgate-verify-topic',
      'enable.auto.commit': false,
      'enable.partition.eof': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const deadline = Date.now() + options.timeoutMs;
  const remaining = (): number => Math.max(1000, deadline - Date.now());
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: remaining(), topic: options.topic }, (err) =>
      err ? reject(new GatewayError('GW_ERR_KAFKA_CONNECT', `verify-topic: cannot reach Kafka: ${err.message}`, { cause: err })) : resolve(),
    ),
  );
  try {
    const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic: options.topic, timeout: remaining() }, (err, m) => (err ? reject(err) : resolve(m))),
    );
    const topic = metadata.topics.find((t) => t.name === options.topic);
    if (!topic || topic.partitions.length === 0) {
      throw new GatewayError('GW_ERR_KAFKA_TOPIC', `topic ${options.topic} does not exist`);
    }
    const ends = new Map<number, number>();
    const assignments: { topic: string; partition: number; offset: number }[] = [];
    for (const p of topic.partitions) {
      const w = await new Promise<{ lowOffset: number; highOffset: number }>((resolve, reject) =>
        consumer.queryWatermarkOffsets(options.topic, p.id, remaining(), (err, offsets) => (err ? reject(err) : resolve(offsets))),
      );
      if (w.highOffset > w.lowOffset) {
        ends.set(p.id, w.highOffset);
        assignments.push({ topic: options.topic, partition: p.id, offset: w.lowOffset });
      }
    }
    const records: AuditedRecord[] = [];
    if (assignments.length === 0) return records;
    consumer.assign(assignments);
    while (ends.size > 0) {
      if (Date.now() > deadline) {
        throw new GatewayError('GW_ERR_KAFKA_TOPIC', `verify-topic: timed out with ${ends.size} partition(s) not read to their end`);
      }
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(10_000, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      for (const m of batch) {
        records.push({ partition: m.partition, offset: m.offset, key: m.key?.toString(), value: m.value });
        const end = ends.get(m.partition);
        if (end !== undefined && m.offset >= end - 1) ends.delete(m.partition);
      }
    }
    // Partition order per stream is what matters; keep each partition's records together in order.
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
