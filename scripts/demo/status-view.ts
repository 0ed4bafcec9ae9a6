import type { SiteConfig } from '../../src/config/site-schema.js';
import { quantileBetween, rate, type Scrape } from '../substation/prometheus.js';
import type { TopicTail } from '../substation/topic-tail.js';

// The demo's live terminal status, rebuilt from scratch every second: the gateway's own metrics
// (/metrics) for the sink and the spool, and what actually arrived in Kafka (the topic tail) for
// the sources and the anomalies. Pure: state in, lines out.

export interface ViewState {
  config: SiteConfig;
  startedAt: number;
  broker: string;
  brokerUp: boolean;
  /** One line about the scripted outage, when there is one. */
  outage?: string;
  previous?: Scrape;
  current?: Scrape;
  tail?: TopicTail;
  /** Records per source at the previous refresh, for rates. */
  previousCounts: Map<string, { records: number; good: number; at: number }>;
  events: string[];
  verify?: string[];
}

const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

export function renderStatus(s: ViewState, colour: boolean, width = 120): string[] {
  const c = (code: string, text: string): string => (colour ? `${code}${text}${RESET}` : text);
  const elapsed = Math.round((Date.now() - s.startedAt) / 1000);
  const lines = [
    `${c(BOLD, 'gridgate demo')}  site ${s.config.site}  ${fmtDuration(elapsed)}  Kafka ${s.broker} ${s.brokerUp ? c(GREEN, 'up') : c(RED, 'DOWN')}` +
      (s.outage ? `  ${c(YELLOW, s.outage)}` : ''),
    '',
    c(BOLD, 'SOURCE       TYPE            REC/S   GOOD   QUALITY            LAST VALUE'),
  ];
  const now = Date.now();
  for (const source of s.config.sources) {
    const view = s.tail?.sources.get(source.name);
    const before = s.previousCounts.get(source.name);
    const records = view?.records ?? 0;
    const good = view?.good ?? 0;
    const perSecond = before && now > before.at ? ((records - before.records) * 1000) / (now - before.at) : 0;
    const goodShare = before && records > before.records ? (100 * (good - before.good)) / (records - before.records) : undefined;
    s.previousCounts.set(source.name, { records, good, at: now });
    const type = source.type === 'c37118' ? `c37118/${source.transport}` : source.type === 'modbus' ? `modbus/${source.transport}` : 'opcua';
    const quality = view?.lastQuality ?? 'waiting';
    const q = quality.startsWith('good') ? c(GREEN, pad(quality, 18)) : c(YELLOW, pad(quality, 18));
    lines.push(
      `${pad(source.name, 12)} ${pad(type, 14)} ${padLeft(perSecond.toFixed(0), 6)}  ${padLeft(goodShare === undefined ? '-' : `${goodShare.toFixed(0)}%`, 5)}   ${q} ${view?.last ?? ''}`,
    );
  }

  lines.push('', c(BOLD, 'KAFKA SINK'));
  if (s.current) {
    const m = s.current;
    const state = [...m.byLabel('gridgate_kafka_delivery_state', 'state')].find(([, v]) => v === 1)?.[0] ?? '?';
    const p50 = quantileBetween(s.previous, m, 'gridgate_kafka_ack_latency_seconds', 0.5);
    const p99 = quantileBetween(s.previous, m, 'gridgate_kafka_ack_latency_seconds', 0.99);
    const ms = (v: number | undefined): string => (v === undefined ? '-' : `${(v * 1000).toFixed(1)} ms`);
    const spooled = m.sum('gridgate_spool_records');
    lines.push(
      `  acknowledged ${padLeft(rate(s.previous, m, 'gridgate_kafka_acknowledged_total').toFixed(0), 5)}/s   in flight ${m.sum('gridgate_kafka_in_flight')}   ` +
        `delivery ${state === 'live' ? c(GREEN, state) : c(YELLOW, state)}   ack latency p50 ${ms(p50)}  p99 ${ms(p99)}`,
      `  spooled on disk ${spooled === 0 ? '0' : c(YELLOW, String(spooled))} records (${fmtBytes(m.sum('gridgate_spool_bytes'))})   ` +
        `spilled ${m.sum('gridgate_kafka_spooled_records_total')}   replayed ${m.sum('gridgate_kafka_replayed_records_total')}   ` +
        `acknowledged in all ${m.sum('gridgate_kafka_acknowledged_total')}`,
    );
  } else {
    lines.push('  (waiting for the gateway\'s metrics)');
  }

  lines.push('', c(BOLD, 'TOPICS (read back from Kafka: records so far, and the latest one)'));
  for (const [topic, count] of s.tail?.topics ?? []) {
    const last = s.tail?.last.get(topic);
    const tail = last ? `${last.key}  ${last.text}` : '';
    lines.push(`  ${pad(topic, 18)} ${padLeft(String(count), 7)}  ${c(DIM, tail.slice(0, Math.max(20, width - 30)))}`);
  }

  lines.push('', c(BOLD, `ANOMALIES (${s.tail?.anomalyCount ?? 0} so far, newest first)`));
  for (const a of s.tail?.anomalies ?? []) lines.push(`  ${new Date(a.at).toISOString().slice(11, 23)}  ${a.text}`);
  if (!s.tail?.anomalies.length) lines.push(c(DIM, '  none yet: the PMU scenario (scripts/demo/pmu-events.yaml) schedules the first at 20 s'));

  if (s.verify) lines.push('', c(BOLD, 'VERIFY-TOPIC'), ...s.verify.map((l) => `  ${l}`));
  lines.push('', c(BOLD, 'EVENTS'), ...s.events.slice(-6).map((e) => `  ${e}`));
  return lines;
}

const pad = (text: string, width: number): string => (text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);
const fmtDuration = (s: number): string => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
const fmtBytes = (b: number): string => (b < 1024 * 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);
