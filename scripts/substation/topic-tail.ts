import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';

// A consumer that follows every gridgate topic of a site from the beginning, the way a data
// platform engineer would look at them: records per topic and per source, each source's latest
// value and quality, and the anomalies as they fire. Read-only; no offsets are committed.

export interface SourceView {
  records: number;
  good: number;
  lastQuality: string;
  last: string;
}

export interface AnomalyView {
  at: number;
  text: string;
}

const MAX_ANOMALIES = 8;

export interface LastRecord {
  key: string;
  /** The value's first characters, as kcat would print them. */
  text: string;
}

export class TopicTail {
  readonly topics = new Map<string, number>();
  /** Each topic's latest record: the tail a `kcat -C -o -1` would show. */
  readonly last = new Map<string, LastRecord>();
  readonly sources = new Map<string, SourceView>();
  readonly anomalies: AnomalyView[] = [];
  anomalyCount = 0;
  readonly #consumer: Kafka.KafkaConsumer;

  constructor(bootstrap: string, topics: readonly string[]) {
    for (const t of topics) this.topics.set(t, 0);
    this.#consumer = new Kafka.KafkaConsumer(
      {
        'group.id': `gridgate-demo-tail-${randomUUID()}`,
        'bootstrap.servers': bootstrap,
        'enable.auto.commit': false,
        'topic.metadata.refresh.interval.ms': 2000,
        // A broker outage is part of the demo: keep quiet and reconnect.
        'reconnect.backoff.max.ms': 1000,
        'log.connection.close': false,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.#consumer.on('event.error', () => undefined);
    this.#consumer.on('data', (m) => this.#take(m));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
    this.#consumer.subscribe([...this.topics.keys()]);
    this.#consumer.consume();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }

  #take(message: Kafka.Message): void {
    this.topics.set(message.topic, (this.topics.get(message.topic) ?? 0) + 1);
    const text = message.value?.toString('utf8') ?? '';
    const key = message.key?.toString('utf8') ?? '';
    let r: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      r = JSON.parse(text);
    } catch {
      this.last.set(message.topic, { key, text: text.slice(0, 400) });
      return;
    }
    // The envelope in short (epoch:seq, quality), then the record's own fields.
    const { site, source, stream, epoch, seq, eventTime, ingestTime, quality, ...body } = r; // eslint-disable-line @typescript-eslint/no-unused-vars
    this.last.set(message.topic, { key, text: `${epoch}:${seq} ${quality?.level ?? '?'} ${JSON.stringify(body).slice(0, 400)}` });
    if (r.window && r.kind && r.state) {
      this.anomalyCount++;
      this.anomalies.unshift({ at: r.eventTime / 1000, text: describeAnomaly(r) });
      this.anomalies.length = Math.min(this.anomalies.length, MAX_ANOMALIES);
      return;
    }
    const summary = r.pmu ? describePmu(r) : r.protocol ? describeScada(r) : undefined;
    if (summary === undefined) return;
    const view = this.sources.get(r.source) ?? { records: 0, good: 0, lastQuality: '', last: '' };
    view.records++;
    if (r.quality?.level === 'good') view.good++;
    view.lastQuality = [r.quality?.level, ...(r.quality?.reasons ?? [])].join(' ');
    view.last = summary;
    this.sources.set(r.source, view);
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function describePmu(r: Record<string, any>): string {
  const v = (r.phasors ?? [])[0];
  const phasor = v ? `  ${v.name} ${(v.magnitude / 1000).toFixed(2)} k${v.unit} ∠${((v.angle * 180) / Math.PI).toFixed(1)}°` : '';
  return `PMU ${r.stream}  f ${Number(r.freq).toFixed(3)} Hz  ROCOF ${Number(r.rocof).toFixed(3)} Hz/s${phasor}`;
}

function describeScada(r: Record<string, any>): string {
  const value = typeof r.value === 'number' ? Number(r.value.toPrecision(6)) : r.value;
  return `${r.stream} = ${value === null ? '(no value)' : value}${r.unit ? ` ${r.unit}` : ''}`;
}

function describeAnomaly(r: Record<string, any>): string {
  const value = typeof r.value === 'number' ? Number(r.value.toPrecision(5)) : r.value;
  return `${r.source}/${r.stream}  ${r.kind} ${r.state} (${r.severity})  ${r.channel} ${value}${r.unit ? ` ${r.unit}` : ''}`;
}
