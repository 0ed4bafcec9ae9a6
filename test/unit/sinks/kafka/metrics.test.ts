import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createKafkaMetrics } from '../../../../src/sinks/kafka/metrics.js';

// The per-record counts are plain numbers folded into their metrics when read: every read sees
// all of them, once.

describe('kafka metrics tally', () => {
  it('folds produced and acknowledged into their counters at each read, and reads in flight from the producer', async () => {
    const registry = new Registry();
    const m = createKafkaMetrics(registry);
    const read = async (name: string): Promise<number> => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
    m.tally.produced += 5;
    m.tally.acknowledged += 3;
    assert.equal(await read('gridgate_kafka_produced_total'), 5);
    assert.equal(await read('gridgate_kafka_acknowledged_total'), 3);
    assert.equal(await read('gridgate_kafka_produced_total'), 5, 'a second read adds nothing');
    m.tally.produced += 2;
    assert.match(await registry.metrics(), /^gridgate_kafka_produced_total 7$/m);
    assert.equal(await read('gridgate_kafka_in_flight'), 0, 'no producer yet');
    m.tally.inFlight = () => 42;
    assert.equal(await read('gridgate_kafka_in_flight'), 42);
  });
});
