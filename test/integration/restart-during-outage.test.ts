import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import pino from 'pino';
import type { SpoolEntry } from '../../src/buffer/entry-codec.js';
import { parseConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildGraph, type Graph } from '../../src/daemon/graph.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { connectionConfig } from '../../src/sinks/kafka/producer-config.js';
import { auditTopic } from '../../src/sinks/kafka/topic-audit.js';
import { readTopic } from '../../src/sinks/kafka/topic-reader.js';
import { BOOTSTRAP, createTopic, ensureKafkaWithTopics, kafkaLocal } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';
import { until } from '../helpers/wait.js';

// The daemon's own components (http, spool, Kafka sink), stopped as on SIGTERM while the broker is
// down, and started again on the same spool once it is back: nothing offered may be lost or
// reordered. Duplicates are possible only across the restart and are counted.

const silent = pino({ level: 'silent' });

function entries(topic: string, from: number, count: number): SpoolEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const stream = String(n % 10);
    return {
      topic,
      key: `north/test/${stream}`,
      value: Buffer.from(JSON.stringify({ site: 'north', source: 'test', stream, epoch: 1, seq: Math.floor(n / 10) + 1 })),
      timestampMs: Date.now(),
    };
  });
}


async function startGateway(yaml: string): Promise<{ graph: Graph; daemon: Daemon }> {
  const config = parseConfig(yaml, 'site.yaml', {});
  let daemon: Daemon | undefined;
  const graph = buildGraph(config, silent, createMetrics(), () => daemon?.readiness() ?? {});
  daemon = new Daemon(graph.components, silent, config.shutdown.drainTimeoutMs);
  await daemon.start();
  return { graph, daemon };
}

describe('a gateway restarted during a Kafka outage', () => {
  before(() => ensureKafkaWithTopics());

  it('spools what Kafka had not confirmed at SIGTERM and delivers it, in order, after the restart', async () => {
    const topic = await createTopic('gridgate-restart-outage', 3);
    const dir = await tempDir('gridgate-restart-');
    const yaml = `site: north
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  connectTimeoutMs: 2000
  reconnect: { initialMs: 200, maxMs: 1000 }
  delivery: { stallMs: 300 }
spool: { dir: "${dir}", segmentMaxBytes: 1048576 }
shutdown: { drainTimeoutMs: 3000 }
`;
    const first = await startGateway(yaml);
    await until(() => first.graph.sink.readiness().ready, 'the sink is connected');
    for (let i = 0; i < 2000; i += 100) await first.graph.sink.offer(entries(topic, i, 100));
    kafkaLocal('stop');
    for (let i = 2000; i < 4000; i += 100) {
      await first.graph.sink.offer(entries(topic, i, 100));
      await new Promise((r) => setTimeout(r, 20));
    }
    const stopped = await first.daemon.stop();
    assert.equal(stopped.clean, true, 'stopped within the drain budget');

    kafkaLocal('start');
    const second = await startGateway(yaml);
    const spool = second.graph.spool?.spool;
    assert.ok(spool);
    assert.ok(spool.heldRecords() > 0, 'the first run left records in the spool');
    await until(() => spool.heldRecords() === 0 && !spool.hasUnread(), 'the spool is drained');
    await second.daemon.stop();

    const report = auditTopic(await readTopic({ connection: connectionConfig(parseConfig(yaml, 's', {}).kafka), topic, timeoutMs: 60_000 }));
    assert.equal(report.totals.lost, 0);
    assert.equal(report.totals.outOfOrder, 0);
    assert.equal(report.records - report.totals.duplicates, 4000, 'every record offered arrived');
    console.log(`# restart during outage: ${report.records} records, ${report.totals.duplicates} duplicates across the restart`);
  });
});
