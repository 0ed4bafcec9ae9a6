import { readAvroEnvelope } from '../../pipeline/encoding/avro.js';
import { isJsonValue } from '../../pipeline/encoding/record-encoding.js';

// The consumer-side proof of the delivery contract (ARCHITECTURE.md): given a topic's records in
// partition order, what arrived per stream, and what did not. Every record carries `epoch` (one per
// gateway start) and a per-stream `seq` that never repeats for a different record, even across a
// crash. So, per stream key:
// - a seq jump inside one epoch is a loss between gateway and Kafka;
// - a seq jump across an epoch boundary bounds what a crash may have lost (or a reservation the
//   restarted gateway skipped): reported apart, not as a failure;
// - an (epoch, seq) seen twice is a duplicate delivery (possible only across a crash);
// - a seq lower than the last one seen, in partition order, is out of order (never acceptable:
//   per-stream order is what downstream watermarks rely on).

export interface AuditedRecord {
  partition: number;
  offset: number;
  key: string | undefined;
  value: Buffer | null;
}

export interface StreamReport {
  key: string;
  records: number;
  first: { epoch: number; seq: number };
  last: { epoch: number; seq: number };
  epochs: number;
  /** Missing seqs inside one epoch: loss. */
  lost: number;
  /** Missing seqs across an epoch boundary: what a crash may have lost. */
  lostAcrossRestarts: number;
  duplicates: number;
  outOfOrder: number;
}

export interface TopicReport {
  records: number;
  /** Records whose value is neither a JSON object nor an Avro record with numeric epoch and seq. */
  unparseable: number;
  streams: StreamReport[];
  totals: { lost: number; lostAcrossRestarts: number; duplicates: number; outOfOrder: number };
  /** No loss inside an epoch, no duplicate, nothing out of order, nothing unparseable. */
  clean: boolean;
}

interface StreamState {
  report: StreamReport;
  seen: Set<string>;
  epoch: number;
  seq: number;
}

export function auditTopic(records: Iterable<AuditedRecord>): TopicReport {
  const streams = new Map<string, StreamState>();
  let count = 0;
  let unparseable = 0;
  for (const record of records) {
    count++;
    const fields = parse(record.value);
    if (!fields) {
      unparseable++;
      continue;
    }
    const key = record.key ?? `${fields.site}/${fields.source}/${fields.stream}`;
    const { epoch, seq } = fields;
    let state = streams.get(key);
    if (!state) {
      state = {
        report: { key, records: 0, first: { epoch, seq }, last: { epoch, seq }, epochs: 1, lost: 0, lostAcrossRestarts: 0, duplicates: 0, outOfOrder: 0 },
        seen: new Set(),
        epoch,
        seq: seq - 1,
      };
      streams.set(key, state);
    }
    const r = state.report;
    r.records++;
    const id = `${epoch}:${seq}`;
    if (state.seen.has(id)) {
      r.duplicates++;
      continue;
    }
    state.seen.add(id);
    if (seq <= state.seq || epoch < state.epoch) {
      r.outOfOrder++;
      continue;
    }
    const missing = seq - state.seq - 1;
    if (epoch === state.epoch) r.lost += missing;
    else {
      r.lostAcrossRestarts += missing;
      r.epochs++;
    }
    state.epoch = epoch;
    state.seq = seq;
    r.last = { epoch, seq };
  }
  const reports = [...streams.values()].map((s) => s.report).sort((a, b) => a.key.localeCompare(b.key));
  const totals = { lost: 0, lostAcrossRestarts: 0, duplicates: 0, outOfOrder: 0 };
  for (const r of reports) {
    totals.lost += r.lost;
    totals.lostAcrossRestarts += r.lostAcrossRestarts;
    totals.duplicates += r.duplicates;
    totals.outOfOrder += r.outOfOrder;
  }
  return {
    records: count,
    unparseable,
    streams: reports,
    totals,
    clean: totals.lost === 0 && totals.duplicates === 0 && totals.outOfOrder === 0 && unparseable === 0,
  };
}

function parse(value: Buffer | null): { site: unknown; source: unknown; stream: unknown; epoch: number; seq: number } | undefined {
  if (!value || value.length === 0) return undefined;
  // Either encoding (kafka.encoding), record by record.
  if (!isJsonValue(value)) {
    const e = readAvroEnvelope(value);
    return e && Number.isSafeInteger(e.epoch) && Number.isSafeInteger(e.seq) ? e : undefined;
  }
  try {
    const v = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.epoch) || !Number.isSafeInteger(v.seq)) return undefined;
    return { site: v.site, source: v.source, stream: v.stream, epoch: v.epoch as number, seq: v.seq as number };
  } catch {
    return undefined;
  }
}
