import { setTimeout as sleep } from 'node:timers/promises';
import Kafka from 'node-rdkafka';
import type { Registry } from 'prom-client';
import type { SpoolComponent } from '../../buffer/component.js';
import type { SpoolEntry } from '../../buffer/entry-codec.js';
import type { Component, Deadline, Readiness } from '../../daemon/component.js';
import type { Logger } from '../../observability/logger.js';
import { Backoff } from '../../protocols/shared/backoff.js';
import type { KafkaConfig } from './config.js';
import { createKafkaMetrics, type KafkaMetrics } from './metrics.js';
import { Delivery } from './delivery.js';
import { KafkaProducer } from './producer.js';
import { assertFeatures, connectionConfig, rdkafkaConfig } from './producer-config.js';
import { configuredTopics, createCommand, createTopics } from './topics.js';
import { GatewayError } from '../../errors.js';

// The Kafka sink as a daemon component. start() returns at once: a backhaul that is down at boot
// must not keep the gateway (and its sources) from starting, so the first connection is made in the
// background, a fresh Producer per attempt, with back-off. Once connected, librdkafka reconnects by
// itself through later outages; a fatal producer error builds a new one. With a spool, records
// enter through offer() and Delivery (delivery.ts) takes them to Kafka through outages. /readyz
// reports the state.

/** Part of the stop budget kept back from the flush: disconnect, then the spool's close. */
const STOP_RESERVE_MS = 1000;

export class KafkaSink implements Component {
  readonly name = 'kafka-sink';
  readonly #config: KafkaConfig;
  readonly #clientId: string;
  readonly #log: Logger;
  readonly #metrics: KafkaMetrics;
  readonly #stopping = new AbortController();
  readonly #spool: SpoolComponent | undefined;
  #delivery: Delivery | undefined;
  #producer: KafkaProducer | undefined;
  #lastError = 'connecting';
  #attemptInProgress = false;

  /** Topics beyond kafka.topics that records go to (sources' overrides): checked the same way. */
  readonly #extraTopics: readonly string[];

  constructor(options: {
    config: KafkaConfig;
    site: string;
    log: Logger;
    registry: Registry;
    spool?: SpoolComponent | undefined;
    extraTopics?: readonly string[];
  }) {
    this.#config = options.config;
    this.#extraTopics = options.extraTopics ?? [];
    this.#spool = options.spool;
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
    const spool = this.#spool?.spool;
    if (spool) {
      const d = this.#config.delivery;
      this.#delivery = new Delivery({
        spool,
        mode: d.mode,
        log: this.#log,
        stallMs: d.stallMs,
        liveWindow: d.liveWindow,
        drainWindow: d.drainWindow,
        retry: this.#config.reconnect,
        metrics: this.#metrics,
        onFatal: () => void this.#rebuildProducer(),
      });
    }
    void this.#connectLoop(this.#stopping.signal);
  }

  /**
   * Hand records to Kafka (through the spool when it must), waiting while the spool is full
   * (whenFull=block): that wait is the back-pressure sources see. Without a spool section there is
   * no delivery guarantee to offer, so this throws.
   */
  async offer(entries: readonly SpoolEntry[]): Promise<void> {
    if (!this.#delivery) throw new GatewayError('GW_ERR_CONFIG_INVALID', 'the Kafka sink needs the spool section to take records');
    await this.#delivery.offerAll(entries);
  }

  async stop(deadline: Deadline): Promise<void> {
    this.#stopping.abort();
    const producer = this.#producer;
    this.#producer = undefined;
    if (!producer) {
      // Not connected: nothing was handed to librdkafka (offered records are in the spool). An
      // attempt still in progress is not waited for; its metadata request runs on a libuv pool
      // thread that cannot be cancelled and that libuv joins at exit, so say why the exit may lag.
      await this.#delivery?.stop(async () => true, 0);
      if (this.#attemptInProgress) {
        this.#log.info({ connectTimeoutMs: this.#config.connectTimeoutMs }, 'a Kafka connection attempt is in progress; the process exits when it ends');
      }
      return;
    }
    // Flush with what is left of the budget, keeping a share for the disconnect and for the
    // components that stop after the sink (the spool's final fsync).
    const flushMs = Math.max(0, deadline.remainingMs() - STOP_RESERVE_MS);
    if (this.#delivery) {
      // What Kafka has not confirmed by then is spilled to the spool (still open: it stops after
      // the sink) and sent after the restart.
      const spilled = await this.#delivery.stop((ms) => producer.flush(ms), flushMs);
      this.#log.info({ spilled }, spilled > 0 ? 'records Kafka had not confirmed were spilled to the spool' : 'everything sent was confirmed');
    } else if (!(await producer.flush(flushMs))) {
      this.#log.error({ inFlight: producer.inFlight }, 'records still unacknowledged at shutdown deadline; they are not confirmed in Kafka');
    }
    await producer.disconnect(Math.max(100, deadline.remainingMs() / 2));
    this.#log.info('kafka producer disconnected');
  }

  readiness(): Readiness {
    return this.#producer ? { ready: true } : { ready: false, detail: this.#lastError };
  }

  /** True once every configured topic exists (created first with missingTopics: create); false if stopped. */
  async #awaitTopics(producer: KafkaProducer, signal: AbortSignal, backoff: Backoff): Promise<boolean> {
    const topics = [...new Set([...configuredTopics(this.#config), ...this.#extraTopics])];
    let reported = false;
    while (!signal.aborted) {
      let missing: string[];
      try {
        missing = await producer.missingTopics(topics, this.#config.connectTimeoutMs);
      } catch (err) {
        this.#lastError = `metadata request failed: ${(err as Error).message}`;
        await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (missing.length === 0) return true;
      if (this.#config.missingTopics === 'create') {
        try {
          await createTopics(connectionConfig(this.#config), this.#config, missing, this.#config.connectTimeoutMs);
          this.#log.info({ topics: missing, ...this.#config.newTopics }, 'created missing Kafka topics');
          continue;
        } catch (err) {
          this.#lastError = (err as Error).message;
          this.#log.error({ err: this.#lastError, code: 'GW_ERR_KAFKA_TOPIC' }, 'cannot create missing Kafka topics; records wait in the spool');
        }
      } else {
        this.#lastError = `topics missing: ${missing.join(', ')} (create them, or set kafka.missingTopics: create)`;
        if (!reported) {
          this.#log.error(
            { topics: missing, code: 'GW_ERR_KAFKA_TOPIC', create: createCommand(this.#config, missing) },
            'configured Kafka topics do not exist; records wait in the spool until they do',
          );
          reported = true;
        }
      }
      await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
    }
    return false;
  }

  /** After a fatal error: drop the producer (its unconfirmed records stay in the spool), build a new one. */
  async #rebuildProducer(): Promise<void> {
    const old = this.#producer;
    if (!old || this.#stopping.signal.aborted) return;
    this.#producer = undefined;
    this.#delivery?.replaceProducer(undefined);
    await old.disconnect().catch(() => undefined);
    await this.#connectLoop(this.#stopping.signal);
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
      // Nothing is handed to a producer until every configured topic exists: records wait in the
      // spool meanwhile, and a missing topic costs no data.
      backoff.reset();
      if (!(await this.#awaitTopics(producer, signal, backoff))) {
        await producer.disconnect(1000);
        return;
      }
      this.#producer = producer;
      this.#delivery?.replaceProducer(producer);
      this.#log.info({ attempts: backoff.attempts + 1 }, 'kafka producer connected');
      return;
    }
  }
}
