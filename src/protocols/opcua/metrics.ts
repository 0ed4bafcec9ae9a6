import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// The OPC UA source's metrics, registered once per registry and labelled by source.

export interface OpcuaMetrics {
  connected: Gauge<'source'>;
  notifications: Counter<'source'>;
  latency: Histogram<'source'>;
  items: Gauge<'source' | 'quality'>;
  refused: Gauge<'source'>;
  reconnects: Counter<'source'>;
  sessionRestarts: Counter<'source' | 'reason'>;
  watchdogTrips: Counter<'source'>;
  lostEstimated: Counter<'source'>;
  overflows: Counter<'source'>;
  certificateExpiry: Gauge<'source' | 'certificate'>;
  /** The sources whose items the items gauge counts when scraped. */
  sources: Map<string, { itemQualities(): Record<'good' | 'uncertain' | 'bad', number>; refusedItems(): number }>;
}

const cache = new WeakMap<Registry, OpcuaMetrics>();

export function opcuaMetrics(registry: Registry): OpcuaMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const registers = [registry];
  const metrics: OpcuaMetrics = {
    connected: new Gauge({ name: 'gridgate_opcua_connected', help: '1 while the session is up (0 while connecting or reconnecting).', labelNames: ['source'], registers }),
    notifications: new Counter({ name: 'gridgate_opcua_notifications_total', help: 'Value notifications received from the server.', labelNames: ['source'], registers }),
    latency: new Histogram({
      name: 'gridgate_opcua_notification_latency_seconds',
      help: "From a value's sourceTimestamp to its arrival: sampling, publishing interval and network.",
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    items: new Gauge({
      name: 'gridgate_opcua_items',
      help: 'Monitored items by the quality of their latest value.',
      labelNames: ['source', 'quality'],
      registers,
      collect: () => {
        for (const [source, s] of metrics.sources) {
          for (const [quality, n] of Object.entries(s.itemQualities())) metrics.items.set({ source, quality }, n);
          metrics.refused.set({ source }, s.refusedItems());
        }
      },
    }),
    refused: new Gauge({ name: 'gridgate_opcua_items_refused', help: 'Items the server refused (unknown node, no match for the browse path …), retried periodically.', labelNames: ['source'], registers }),
    reconnects: new Counter({ name: 'gridgate_opcua_reconnects_total', help: 'Connections repaired by node-opcua (session re-activated, transferred or re-created).', labelNames: ['source'], registers }),
    sessionRestarts: new Counter({
      name: 'gridgate_opcua_session_restarts_total',
      help: 'Sessions abandoned and opened again from scratch, by reason (connect-failed, repair-failed, watchdog).',
      labelNames: ['source', 'reason'],
      registers,
    }),
    watchdogTrips: new Counter({ name: 'gridgate_opcua_watchdog_trips_total', help: 'Subscriptions found silent (no data, keep-alive or clock tick within the watchdog time) and re-created.', labelNames: ['source'], registers }),
    lostEstimated: new Counter({
      name: 'gridgate_opcua_updates_lost_estimated_total',
      help: "Value updates estimated lost during outages (each item's rate before the outage × its length, minus what the server delivered late) plus queue overflows.",
      labelNames: ['source'],
      registers,
    }),
    overflows: new Counter({ name: 'gridgate_opcua_queue_overflows_total', help: 'Values that arrived with the Overflow bit: the server dropped older values of that item.', labelNames: ['source'], registers }),
    certificateExpiry: new Gauge({
      name: 'gridgate_opcua_certificate_expiry_timestamp_seconds',
      help: 'When a certificate expires (unix time): ours (client) and the server’s (server).',
      labelNames: ['source', 'certificate'],
      registers,
    }),
    sources: new Map(),
  };
  cache.set(registry, metrics);
  return metrics;
}
