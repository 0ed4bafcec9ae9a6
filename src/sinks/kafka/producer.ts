import { performance } from 'node:perf_hooks';
import Kafka, { type DeliveryReport, type LibrdKafkaError, type MessageHeader } from 'node-rdkafka';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { KafkaMetrics } from './metrics.js';
import type { RdkafkaConfig } from './producer-config.js';

// One node-rdkafka Producer session: connect once, produce with a numeric opaque per record, map
// each delivery report back to its callback. A record counts as delivered only when its report
// arrives without error (never on enqueue). A Producer object is connected at most once (a second
// connect() registers the native delivery callback twice: node-rdkafka #1143), so a failed attempt
// is thrown away and the caller builds a new KafkaProducer.

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: Buffer;
  /** Text headers only: node-rdkafka coerces values to strings and cuts them at the first NUL. */
  headers?: Readonly<Record<string, string>>;
  /** Kafka record timestamp in ms since the epoch; default: now. */
  timestampMs?: number;
}

export interface Delivered {
  topic: string;
  partition: number;
  /** -1001 when the broker answered DUPLICATE_SEQUENCE_NUMBER: delivered, offset unknown. */
  offset: number;
}

export type DeliveryCallback = (err: GatewayError | null, delivered?: Delivered) => void;

interface Pending {
  callback: DeliveryCallback;
  sentAt: number;
}

export class KafkaProducer {
  readonly #config: RdkafkaConfig;
  readonly #connectTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #log: Logger;
  readonly #metrics: KafkaMetrics;
  readonly #headerCache = new WeakMap<object, MessageHeader[]>();
  readonly #pending = new Map<number, Pending>();
  #producer: Kafka.Producer | undefined;
  #nextOpaque = 1;
  #lastErrorLogAt = 0;

  constructor(options: {
    config: RdkafkaConfig;
    connectTimeoutMs: number;
    pollIntervalMs: number;
    log: Logger;
    metrics: KafkaMetrics;
  }) {
    this.#config = options.config;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#log = options.log;
    this.#metrics = options.metrics;
  }

  get connected(): boolean {
    return this.#producer !== undefined;
  }

  /** Records produced and not yet reported on. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Connect and fetch metadata once; throws GW_ERR_KAFKA_CONNECT after connectTimeoutMs. */
  async connect(): Promise<void> {
    if (this.#producer) return;
    const producer = new Kafka.Producer(this.#config.global, this.#config.topic);
    producer.on('delivery-report', (err, report) => this.#onDeliveryReport(err, report));
    producer.on('event.error', (err) => this.#onClientError(err));
    producer.on('event.stats', (stats: { message: string }) => this.#onStats(producer, stats.message));
    try {
      await new Promise<void>((resolve, reject) => {
        producer.connect({ timeout: this.#connectTimeoutMs }, (err) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      this.#metrics.connectAttempts.inc({ result: 'failed' });
      try {
        producer.disconnect(() => undefined);
      } catch {
        // node-rdkafka throws "Producer not connected" here: there is nothing to release.
      }
      throw new GatewayError('GW_ERR_KAFKA_CONNECT', `no answer from Kafka at ${String(this.#config.global['bootstrap.servers'])} within ${this.#connectTimeoutMs} ms (${(err as Error).message})`, { cause: err });
    }
    producer.setPollInterval(this.#pollIntervalMs);
    this.#producer = producer;
    this.#metrics.connectAttempts.inc({ result: 'ok' });
    this.#metrics.connected.set(1);
    // gridgate_kafka_in_flight reads the producer in use: the one connected last (a rebuilt one).
    this.#metrics.tally.inFlight = () => this.#pending.size;
  }

  /**
   * Hand one record to librdkafka; `callback` runs exactly once, from its delivery report.
   * Throws GW_ERR_KAFKA_PRODUCE when librdkafka refuses it synchronously (queue full: -184,
   * fatal idempotence error: -150, too large: 10), in which case the callback never runs.
   */
  produce(record: OutgoingRecord, callback: DeliveryCallback): void {
    const producer = this.#producer;
    if (!producer) throw new GatewayError('GW_ERR_KAFKA_PRODUCE', 'producer is not connected');
    const opaque = this.#nextOpaque++;
    const headers = record.headers ? this.#headersOf(record.headers) : undefined;
    this.#pending.set(opaque, { callback, sentAt: performance.now() });
    try {
      producer.produce(record.topic, null, record.value, record.key, record.timestampMs ?? Date.now(), opaque, headers);
    } catch (err) {
      this.#pending.delete(opaque);
      const code = (err as LibrdKafkaError).code;
      this.#metrics.failed.inc({ reason: `produce_${code}` });
      throw new GatewayError('GW_ERR_KAFKA_PRODUCE', `librdkafka refused the record (code ${code}): ${(err as Error).message}`, { cause: err });
    }
    this.#metrics.tally.produced++;
  }

  /**
   * node-rdkafka's form of a headers object ([{ name: value }, …]), built once per object: the
   * pipeline and the spool reader hand out the same few frozen headers objects for millions of
   * records, and rebuilding the array per record was measurable (bench/kafka.ts).
   */
  #headersOf(headers: Readonly<Record<string, string>>): MessageHeader[] {
    let converted = this.#headerCache.get(headers);
    if (!converted) {
      converted = Object.entries(headers).map(([k, v]) => ({ [k]: v }));
      this.#headerCache.set(headers, converted);
    }
    return converted;
  }

  /** produce() as a promise: resolves on a successful report, rejects on a failed one. */
  send(record: OutgoingRecord): Promise<Delivered> {
    return new Promise((resolve, reject) => {
      this.produce(record, (err, delivered) => (err ? reject(err) : resolve(delivered as Delivered)));
    });
  }

  /** Wait up to timeoutMs for every in-flight report; true when none is left outstanding. */
  async flush(timeoutMs: number): Promise<boolean> {
    const producer = this.#producer;
    if (!producer || this.#pending.size === 0) return this.#pending.size === 0;
    await new Promise<void>((resolve) => {
      producer.flush(timeoutMs, (err) => {
        if (err) this.#log.warn({ err: err.message, inFlight: this.#pending.size }, 'flush did not complete');
        resolve();
      });
    });
    // flush() serves the last reports on the poll that follows it.
    await new Promise((resolve) => setImmediate(resolve));
    producer.poll();
    return this.#pending.size === 0;
  }

  /** Which of `topics` the cluster does not have (a metadata request). */
  async missingTopics(topics: readonly string[], timeoutMs: number): Promise<string[]> {
    const producer = this.#producer;
    if (!producer) throw new GatewayError('GW_ERR_KAFKA_PRODUCE', 'producer is not connected');
    const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
      producer.getMetadata({ timeout: timeoutMs }, (err, m) => (err ? reject(err) : resolve(m))),
    );
    const present = new Set(metadata.topics.filter((t) => t.partitions.length > 0).map((t) => t.name));
    return topics.filter((t) => !present.has(t));
  }

  /** Disconnect, waiting at most timeoutMs (a broker that is down cannot slow the stop further). */
  async disconnect(timeoutMs = 5_000): Promise<void> {
    const producer = this.#producer;
    if (!producer) return;
    this.#producer = undefined;
    this.#metrics.connected.set(0);
    producer.setPollInterval(0);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      producer.disconnect(timeoutMs, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #onDeliveryReport(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    const opaque = report.opaque as number;
    const pending = this.#pending.get(opaque);
    if (!pending) return;
    this.#pending.delete(opaque);
    if (err) {
      // node-rdkafka passes delivery errors with code -1 and a lower-cased message only.
      this.#metrics.failed.inc({ reason: err.message.replace(/[^a-z0-9]+/gi, '_').toLowerCase() });
      pending.callback(new GatewayError('GW_ERR_KAFKA_DELIVERY', `Kafka did not take the record: ${err.message}`, { cause: err }));
      return;
    }
    this.#metrics.tally.acknowledged++;
    this.#metrics.ackLatency.observe((performance.now() - pending.sentAt) / 1000);
    pending.callback(null, { topic: report.topic, partition: report.partition, offset: report.offset });
  }

  /**
   * librdkafka's statistics (statistics.interval.ms): the only place that says whether a broker
   * connection is up. It reconnects on its own after an outage and its error events are no
   * reliable edge, so gridgate_kafka_connected follows the brokers' states instead.
   */
  #onStats(producer: Kafka.Producer, json: string): void {
    if (producer !== this.#producer) return;
    try {
      this.#metrics.connected.set(brokersUp(JSON.parse(json) as Statistics) ? 1 : 0);
    } catch {
      // A statistics document we cannot read leaves the gauge as it was.
    }
  }

  #onClientError(err: LibrdKafkaError): void {
    this.#metrics.clientErrors.inc({ reason: clientErrorReason(err.code) });
    // librdkafka repeats transport errors every reconnect attempt; once a minute is enough.
    const now = Date.now();
    if (now - this.#lastErrorLogAt < 60_000) return;
    this.#lastErrorLogAt = now;
    this.#log.warn({ err: err.message, code: err.code }, 'kafka client error (repeats suppressed for 60 s)');
  }
}

/** What an operator acts on differently: wrong credentials, missing ACLs, certificates, the network. */
function clientErrorReason(code: number): string {
  switch (code) {
    case Kafka.CODES.ERRORS.ERR__AUTHENTICATION:
    case Kafka.CODES.ERRORS.ERR_SASL_AUTHENTICATION_FAILED:
      return 'authentication';
    case Kafka.CODES.ERRORS.ERR_TOPIC_AUTHORIZATION_FAILED:
    case Kafka.CODES.ERRORS.ERR_CLUSTER_AUTHORIZATION_FAILED:
    case Kafka.CODES.ERRORS.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return 'authorization';
    case Kafka.CODES.ERRORS.ERR__SSL:
      return 'tls';
    case Kafka.CODES.ERRORS.ERR__TRANSPORT:
    case Kafka.CODES.ERRORS.ERR__RESOLVE:
      return 'transport';
    case Kafka.CODES.ERRORS.ERR__ALL_BROKERS_DOWN:
      return 'all_brokers_down';
    default:
      return 'other';
  }
}

/** The part of librdkafka's statistics JSON read here (STATISTICS.md: brokers.*.state). */
interface Statistics {
  brokers?: Record<string, { state?: string }>;
}

/** Any broker connection up (state UP; INIT, DOWN, CONNECT, AUTH… are not). */
export const brokersUp = (stats: Statistics): boolean => Object.values(stats.brokers ?? {}).some((b) => b.state === 'UP');
