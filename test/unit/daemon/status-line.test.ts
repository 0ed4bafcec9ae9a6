import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { statusLine } from '../../../src/daemon/status-line.js';

// The line `systemctl status` shows, read from the metrics: what is always there, and the
// analytics part that appears only while a worker is down.

function registryWith(values: Record<string, number>): Registry {
  const registry = new Registry();
  for (const [name, value] of Object.entries(values)) new Gauge({ name, help: name, registers: [registry] }).set(value);
  return registry;
}

describe('status line', () => {
  const base = { gridgate_kafka_connected: 1, gridgate_kafka_acknowledged_total: 42, gridgate_kafka_in_flight: 3, gridgate_spool_records: 0 };
  const sources = { 'source-pmu1': { ready: true }, 'source-pmu2': { ready: false }, pipeline: { ready: true } };

  it('says where delivery stands, what is spooled and which sources are up', async () => {
    assert.equal(await statusLine(registryWith(base), sources), 'kafka live, 42 acked, 3 in flight; spool 0 records; sources 1/2 up');
  });

  it('names down analytics workers only while there are any', async () => {
    assert.doesNotMatch(await statusLine(registryWith({ ...base, gridgate_analytics_workers_down: 0 }), sources), /analytics/);
    assert.match(await statusLine(registryWith({ ...base, gridgate_analytics_workers_down: 1 }), sources), /; analytics: 1 worker down$/);
    assert.match(await statusLine(registryWith({ ...base, gridgate_analytics_workers_down: 2 }), sources), /; analytics: 2 workers down$/);
  });
});
