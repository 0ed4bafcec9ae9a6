import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// The spool's Prometheus metrics. Gauges that describe the spool's state (records, bytes, ages,
// disk free) are read from it at scrape time through `collect`, so the hot path only counts.

export interface SpoolMetrics {
  appendedRecords: Counter;
  appendedBytes: Counter;
  writtenBytes: Counter;
  acknowledged: Counter;
  dropped: Counter<'reason'>;
  corruptRecords: Counter<'stage'>;
  corruptBytes: Counter<'stage'>;
  fsyncSeconds: Histogram;
}

export interface SpoolGaugeSource {
  heldRecords(): number;
  heldBytes(): number;
  segmentCount(): number;
  oldestRecordAgeSeconds(): number;
  writeAmplification(): number;
  ingestBytesPerSecond(): number;
  capacitySeconds(): number;
  boundBytes(): number;
  refusingAppends(): boolean;
  diskFreeBytes(): Promise<number>;
}

export function createSpoolMetrics(registry: Registry, source: () => SpoolGaugeSource | undefined): SpoolMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string, read: (s: SpoolGaugeSource) => number | Promise<number>): void => {
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const s = source();
        if (s) this.set(await read(s));
      },
    });
  };
  gauge('gridgate_spool_records', 'Records held and not yet acknowledged.', (s) => s.heldRecords());
  gauge('gridgate_spool_bytes', 'Bytes the spool occupies on disk (segments, including acknowledged records in segments not yet deleted).', (s) => s.heldBytes());
  gauge('gridgate_spool_segments', 'Segment files.', (s) => s.segmentCount());
  gauge('gridgate_spool_oldest_record_age_seconds', 'Age of the oldest unacknowledged record, by its timestamp; 0 when empty.', (s) => s.oldestRecordAgeSeconds());
  gauge('gridgate_spool_write_amplification', 'Bytes written to disk (records, headers, ledger) per payload byte appended.', (s) => s.writeAmplification());
  gauge('gridgate_spool_ingest_bytes_per_second', 'Observed ingest rate (1-minute moving average) the capacity is computed from.', (s) => s.ingestBytesPerSecond());
  gauge('gridgate_spool_capacity_seconds', 'How long an outage the spool can hold at the observed ingest rate.', (s) => s.capacitySeconds());
  gauge('gridgate_spool_max_bytes', 'The bound the spool holds to now: maxBytes, or less when the disk has less room.', (s) => s.boundBytes());
  gauge('gridgate_spool_full', '1 while appends are refused for lack of room (whenFull: block, or the disk is full): sources are held back.', (s) => (s.refusingAppends() ? 1 : 0));
  gauge('gridgate_spool_disk_free_bytes', 'Free bytes on the spool\'s filesystem for an unprivileged user.', (s) => s.diskFreeBytes());
  return {
    appendedRecords: new Counter({ name: 'gridgate_spool_appended_records_total', help: 'Records appended.', registers }),
    appendedBytes: new Counter({ name: 'gridgate_spool_appended_bytes_total', help: 'Payload bytes appended (encoded entries).', registers }),
    writtenBytes: new Counter({ name: 'gridgate_spool_written_bytes_total', help: 'Bytes written to disk: records with headers, and ledger updates.', registers }),
    acknowledged: new Counter({ name: 'gridgate_spool_acknowledged_records_total', help: 'Records acknowledged (delivered) and released.', registers }),
    dropped: new Counter({
      name: 'gridgate_spool_dropped_records_total',
      help: 'Records dropped unacknowledged: data loss. reason = full (drop_oldest) or age (maxAgeHours).',
      labelNames: ['reason'],
      registers,
    }),
    corruptRecords: new Counter({
      name: 'gridgate_spool_corrupt_ranges_total',
      help: 'Damaged ranges skipped (each may hide one or more records), by stage: recovery (at open) or read.',
      labelNames: ['stage'],
      registers,
    }),
    corruptBytes: new Counter({
      name: 'gridgate_spool_corrupt_bytes_total',
      help: 'Bytes of damaged ranges skipped and torn tails truncated, by stage.',
      labelNames: ['stage'],
      registers,
    }),
    fsyncSeconds: new Histogram({
      name: 'gridgate_spool_fsync_seconds',
      help: 'Duration of one group commit (fdatasync of the dirty segments, and the directory after a new segment).',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
      registers,
    }),
  };
}
