import type { Scrape } from './prometheus.js';

/**
 * The gateway has caught up with its input: connected to Kafka, and the oldest record held in the
 * spool less than 2 s old. (In WAL mode every record passes through the spool, so "the spool is
 * empty" never holds while records flow.)
 */
export function caughtUp(m: Scrape): boolean {
  return m.sum('gridgate_kafka_connected') === 1 && m.sum('gridgate_spool_oldest_record_age_seconds') < 2;
}
