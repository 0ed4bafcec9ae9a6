import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// The Modbus source's metrics, registered once per registry and labelled by source (and device):
// several Modbus sources share them.

export interface ModbusMetrics {
  requests: Counter<'source' | 'device' | 'result'>;
  latency: Histogram<'source'>;
  jitter: Histogram<'source'>;
  malformed: Counter<'source' | 'reason'>;
  skipped: Counter<'source' | 'device' | 'reason'>;
  degraded: Gauge<'source' | 'device'>;
  connected: Gauge<'source'>;
  tags: Gauge<'source' | 'quality'>;
  /** The sources whose tags the tags gauge counts when scraped. */
  sources: Map<string, { tagQualities(): Record<'good' | 'uncertain' | 'bad', number> }>;
}

const cache = new WeakMap<Registry, ModbusMetrics>();

export function modbusMetrics(registry: Registry): ModbusMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const registers = [registry];
  const metrics: ModbusMetrics = {
    requests: new Counter({
      name: 'gridgate_modbus_requests_total',
      help: 'Read requests by result: ok, exception, timeout, malformed, closed.',
      labelNames: ['source', 'device', 'result'],
      registers,
    }),
    latency: new Histogram({
      name: 'gridgate_modbus_request_latency_seconds',
      help: 'From sending a read request to its answer.',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    jitter: new Histogram({
      name: 'gridgate_modbus_poll_jitter_seconds',
      help: 'How late a poll started after its deadline.',
      labelNames: ['source'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    malformed: new Counter({
      name: 'gridgate_modbus_malformed_responses_total',
      help: 'Answers rejected as malformed: bad CRC, wrong length, unit or function code.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    skipped: new Counter({
      name: 'gridgate_modbus_skipped_polls_total',
      help: 'Polls not made: the previous one still running (overrun), the device backed off (degraded), the pipeline full (paused).',
      labelNames: ['source', 'device', 'reason'],
      registers,
    }),
    degraded: new Gauge({ name: 'gridgate_modbus_device_degraded', help: '1 while a device is backed off after failures.', labelNames: ['source', 'device'], registers }),
    connected: new Gauge({ name: 'gridgate_modbus_connected', help: '1 while the connection is open.', labelNames: ['source'], registers }),
    tags: new Gauge({
      name: 'gridgate_modbus_tags',
      help: 'Mapped tags by current quality level.',
      labelNames: ['source', 'quality'],
      registers,
      collect: () => {
        for (const [source, s] of metrics.sources) for (const [quality, n] of Object.entries(s.tagQualities())) metrics.tags.set({ source, quality }, n);
      },
    }),
    sources: new Map(),
  };
  cache.set(registry, metrics);
  return metrics;
}
