import type { Registry } from 'prom-client';
import type { Readiness } from './component.js';

// The one line `systemctl status gridgate@SITE` shows (sd_notify STATUS=): where delivery stands,
// what is held, which sources are up. Read from the same metrics /metrics serves, so the two never
// disagree.
//   kafka live, 1234567 acked, 12 in flight; spool 0 records; sources 7/7 up
// and, only while it is so, `analytics: 1 worker down` (features missing, raw records flowing).

export async function statusLine(registry: Registry, readiness: Record<string, Readiness>): Promise<string> {
  const state = (await values(registry, 'gridgate_kafka_delivery_state')).find((v) => v.value === 1)?.labels.state;
  const connected = await single(registry, 'gridgate_kafka_connected');
  const acked = await single(registry, 'gridgate_kafka_acknowledged_total');
  const inFlight = await single(registry, 'gridgate_kafka_in_flight');
  const spooled = await single(registry, 'gridgate_spool_records');
  const kafka = connected === 1 ? `kafka ${String(state ?? 'live')}` : 'kafka unreachable';
  const parts = [`${kafka}, ${acked ?? 0} acked, ${inFlight ?? 0} in flight`];
  if (spooled !== undefined) parts.push(`spool ${spooled} records`);
  const sources = Object.entries(readiness).filter(([name]) => name.startsWith('source-'));
  if (sources.length > 0) parts.push(`sources ${sources.filter(([, r]) => r.ready).length}/${sources.length} up`);
  const down = await single(registry, 'gridgate_analytics_workers_down');
  if (down) parts.push(`analytics: ${down} worker${down === 1 ? '' : 's'} down`);
  return parts.join('; ');
}

async function values(registry: Registry, name: string): Promise<{ value: number; labels: Partial<Record<string, string | number>> }[]> {
  const metric = registry.getSingleMetric(name);
  return metric ? (await metric.get()).values : [];
}

async function single(registry: Registry, name: string): Promise<number | undefined> {
  return (await values(registry, name))[0]?.value;
}
