import { setTimeout as sleep } from 'node:timers/promises';
import Kafka from 'node-rdkafka';
import type { Registry } from 'prom-client';
import type { Component, Deadline, Readiness } from '../../daemon/component.js';
import type { Logger } from '../../observability/logger.js';
import { Backoff } from '../../protocols/shared/backoff.js';
import type { KafkaConfig } from './config.js';
import { createKafkaMetrics, type KafkaMetrics } from './metrics.js';
import { KafkaProducer } from './producer.js';
import { assertFeatures, rdkafkaConfig } from './producer-config.js';

// The Kafka sink as a daemon component. start() returns at once: a backhaul that is down at boot
// must not keep the gateway (and its sources, and later its spool) from starting, so the first
// connection is made in the background, a fresh Producer per attempt, with back-off. Once
// connected, librdkafka reconnects by itself through later outages. /readyz reports the state.

export class KafkaSink implements Component {
  readonly name = 'kafka-sink';
  readonly #config: KafkaConfig;
  readonly #clientId: string;
  readonly #log: Logger;
  readonly #metrics: KafkaMetrics;
  readonly #stopping = new AbortController();
  #producer: KafkaProducer | undefined;
  #lastError = 'connecting';
  #attemptInProgress = false;

  constructor(options: { config: KafkaConfig; site: string; log: Logger; registry: Registry }) {
    this.#config = options.config;
    this.#clientId = options.config.clientId ?? `gridgate-${options.site}`;
    this.#log = options.log;
    this.#metrics = createKafkaMetrics(options.registry);
  }

  /** The connected producer, or undefined while (re)connecting at boot. */
  get producer(): KafkaProducer | undefined {
    return this.#producer;
  }

  async start(): Promise<void> {
    assertFeatures(this.#config, Kafka.features);
    this.#log.info(
      { brokers: this.#config.brokers, clientId: this.#clientId, librdkafka: Kafka.librdkafkaVersion },
      'connecting to Kafka',
    );
    void this.#connectLoop(this.#stopping.signal);
  }

  async stop(deadline: Deadline): Promise<void> {
    this.#stopping.abort();
    const producer = this.#producer;
    // Not connected yet: nothing was handed to librdkafka, so there is nothing to drain. An attempt
    // still in progress is not waited for here; the loop drops it when it ends. Its metadata request
    // runs on a libuv pool thread that cannot be cancelled and that libuv joins at process exit, so
    // say why the exit may lag.
    if (!producer) {
      if (this.#attemptInProgress) {
        this.#log.info(
          { connectTimeoutMs: this.#config.connectTimeoutMs },
          'a Kafka connection attempt is in progress; the process exits when it ends',
        );
      }
      return;
    }
    this.#producer = undefined;
    const drained = await producer.flush(deadline.remainingMs());
    if (!drained) {
      this.#log.error(
        { inFlight: producer.inFlight },
        'records still unacknowledged at shutdown deadline; they are not confirmed in Kafka',
      );
    }
    await producer.disconnect();
    this.#log.info({ drained }, 'kafka producer disconnected');
  }

  readiness(): Readiness {
    return this.#producer ? { ready: true } : { ready: false, detail: this.#lastError };
  }

  async #connectLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#config.reconnect);
    while (!signal.aborted) {
      const producer = new KafkaProducer({
        config: rdkafkaConfig(this.#config, this.#clientId),
        connectTimeoutMs: this.#config.connectTimeoutMs,
        pollIntervalMs: this.#config.pollIntervalMs,
        log: this.#log,
        metrics: this.#metrics,
      });
      this.#attemptInProgress = true;
      const failure = await producer.connect().then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      this.#attemptInProgress = false;
      if (failure) {
        this.#lastError = failure.message;
        const delayMs = backoff.next();
        // WARN, not ERROR: nothing is lost while the sink is not taking records yet.
        this.#log.warn({ err: this.#lastError, attempt: backoff.attempts, retryInMs: delayMs }, 'kafka not reachable; retrying');
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (signal.aborted) {
        await producer.disconnect();
        return;
      }
      this.#producer = producer;
      this.#log.info({ attempts: backoff.attempts + 1 }, 'kafka producer connected');
      return;
    }
  }
}
