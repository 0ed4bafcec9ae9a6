import { Counter, Gauge, type Registry } from 'prom-client';

// The C37.118 sources' metrics, created once per registry and shared by every source (labelled by
// `source`). Hot paths count into locals and publish per received chunk.

export interface C37118Metrics {
  frames: Counter<'source' | 'type'>;
  badFrames: Counter<'source' | 'reason'>;
  badBytes: Counter<'source' | 'reason'>;
  gaps: Counter<'source' | 'pmu'>;
  duplicates: Counter<'source' | 'pmu'>;
  connected: Gauge<'source'>;
  stale: Gauge<'source'>;
  reconnects: Counter<'source'>;
  configRequests: Counter<'source' | 'frame'>;
  rejectedDatagrams: Counter<'source'>;
  shed: Counter<'source'>;
  unsynced: Counter<'source' | 'reason'>;
}

const cache = new WeakMap<Registry, C37118Metrics>();

export function c37118Metrics(registry: Registry): C37118Metrics {
  let m = cache.get(registry);
  if (m) return m;
  const registers = [registry];
  m = {
    frames: new Counter({ name: 'gridgate_c37118_frames_total', help: 'Frames received and decoded, by type.', labelNames: ['source', 'type'], registers }),
    badFrames: new Counter({
      name: 'gridgate_c37118_bad_frames_total',
      help: 'Undecodable inputs sent to the dead-letter topic, by reason (crc-mismatch, bad-sync, size-mismatch, no-config, …).',
      labelNames: ['source', 'reason'],
      registers,
    }),
    badBytes: new Counter({ name: 'gridgate_c37118_bad_bytes_total', help: 'Bytes in undecodable inputs, by reason.', labelNames: ['source', 'reason'], registers }),
    gaps: new Counter({ name: 'gridgate_c37118_missing_frames_total', help: 'Frames missing at the nominal rate, per PMU.', labelNames: ['source', 'pmu'], registers }),
    duplicates: new Counter({
      name: 'gridgate_c37118_duplicate_frames_total',
      help: 'Frames with a time already seen (duplicates) or earlier than the last (out of order), per PMU.',
      labelNames: ['source', 'pmu'],
      registers,
    }),
    unsynced: new Counter({
      name: 'gridgate_c37118_unsynced_records_total',
      help: 'PMU records whose STAT or time quality says the clock is not trustworthy, by reason: sync_lost, time_unlocked (10 s or more), clock_failure.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    connected: new Gauge({ name: 'gridgate_c37118_connected', help: '1 while the source receives from its device.', labelNames: ['source'], registers }),
    stale: new Gauge({ name: 'gridgate_c37118_stale', help: '1 while no data frame arrived for staleAfterPeriods reporting periods.', labelNames: ['source'], registers }),
    reconnects: new Counter({ name: 'gridgate_c37118_reconnects_total', help: 'TCP connections re-established after a failure or silence.', labelNames: ['source'], registers }),
    configRequests: new Counter({ name: 'gridgate_c37118_config_requests_total', help: 'Configuration requests sent, by frame.', labelNames: ['source', 'frame'], registers }),
    rejectedDatagrams: new Counter({
      name: 'gridgate_c37118_rejected_datagrams_total',
      help: 'UDP datagrams from hosts that are not configured peers (dropped).',
      labelNames: ['source'],
      registers,
    }),
    shed: new Counter({
      name: 'gridgate_c37118_shed_frames_total',
      help: 'UDP datagrams dropped while the pipeline applied back-pressure (TCP pauses instead).',
      labelNames: ['source'],
      registers,
    }),
  };
  cache.set(registry, m);
  return m;
}
