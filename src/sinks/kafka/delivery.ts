import type { Logger } from '../../observability/logger.js';
import type { SpoolEntry } from '../../buffer/entry-codec.js';
import type { Spool, SpoolRecord } from '../../buffer/spool.js';
import { GatewayError } from '../../errors.js';
import { Backoff, type BackoffConfig } from '../../protocols/shared/backoff.js';
import type { KafkaMetrics } from './metrics.js';
import type { KafkaProducer } from './producer.js';

// Delivery: every record reaches Kafka once, in order per stream, through outages of any length
// (up to the spool's capacity). Records enter with offer(); they leave gridgate's custody only on
// a successful delivery report.
//
//                offer()
//                   │
//        ┌──────────┴──────────────────────────────┐
//   LIVE │ produce directly; unresolved records    │ SPILLING / DRAINING: append to the spool,
//        │ kept in memory                          │ behind whatever it holds (per-stream FIFO)
//        └──────────┬──────────────────────────────┘
//   LIVE ──stall, queue full, failed report──▶ SPILLING: first the unresolved live records are
//        appended to the spool in order (remembered: a later success acks the spool copy, and the
//        reader skips it), then everything new goes behind them.
//   SPILLING ──no live record left in flight──▶ DRAINING: produce from the spool in order, in a
//        bounded window, acknowledging each spool record on its delivery report. A live record and
//        its spool copy are never in flight together, so an outage alone causes no duplicate.
//   DRAINING ──reader caught up, nothing in flight──▶ LIVE
//   DRAINING ──failed report──▶ held: nothing more is read; once the records in flight have
//        reported and the back-off has passed, the reader goes back to the first unacknowledged
//        record and sends it alone; when Kafka takes it, the drain goes on from there, in order.
//        Kafka refuses for reasons that outlast its own retries (a revoked ACL, a topic's
//        max.message.bytes): the records wait in the spool, in order, until it takes them, and
//        no restart is needed.
//
// WAL mode skips LIVE: every record is appended and made durable first, then sent from the spool.
// A producer that fails fatally (produce() throwing -150) is replaced by the caller
// (replaceProducer), and the spool is read again from its first unacknowledged record.

export type DeliveryMode = 'spill' | 'wal';
type State = 'live' | 'spilling' | 'draining';

export interface DeliveryOptions {
  spool: Spool;
  mode: DeliveryMode;
  log: Logger;
  /** Spill when the oldest unresolved live record has waited this long (broker slow or gone). */
  stallMs: number;
  /** Spill when this many live records are unresolved. */
  liveWindow: number;
  /** Spool records in flight at once while draining. */
  drainWindow: number;
  /** Back-off before a spooled record Kafka did not take is sent again (kafka.reconnect). */
  retry: BackoffConfig;
  metrics?: Pick<KafkaMetrics, 'spooled' | 'replayed' | 'deliveryState'>;
  /** librdkafka reported a fatal error (-150): the caller rebuilds the producer (replaceProducer). */
  onFatal?: (err: Error) => void;
}

interface LiveRecord {
  entry: SpoolEntry;
  sentAt: number;
  /** Set once a copy went to the spool on leaving LIVE. */
  spoolId?: number;
}

export class Delivery {
  readonly #o: DeliveryOptions;
  #producer: KafkaProducer | undefined;
  #state: State;
  /** Unresolved live records by produce order (Map keeps insertion order). */
  readonly #live = new Map<number, LiveRecord>();
  #nextLive = 1;
  #drainInFlight = 0;
  #draining: Promise<void> | undefined;
  /** Spool records read but refused by a full producer queue: sent first on the next round. */
  #carry: SpoolRecord[] = [];
  /** A refusal was logged and nothing has gone out since: one line per episode, not one per retry. */
  #refusalLogged = false;
  /** A drain report failed: nothing more is read until the retry (see the diagram). */
  #held = false;
  /** Retrying: one record in flight until Kafka takes one, so nothing passes a refused record. */
  #probing = false;
  /** The back-off of a held drain; held with no timer left means the retry is due. */
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #retry: Backoff;
  /** The spool id whose failed report began the episode: its success ends it. */
  #refused: number | undefined;
  /** Bumped with every producer, so reports from a replaced one are told apart. */
  #generation = 0;
  /** WAL mode: durability of the latest append (appends become durable in order). */
  #lastDurable: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;
  #stopped = false;
  #transitions = 0;

  constructor(options: DeliveryOptions) {
    this.#o = options;
    this.#retry = new Backoff(options.retry);
    // Draining first: whatever a previous run left in the spool goes out before anything new, and
    // with an empty spool the first drain round finds nothing and goes live at once.
    this.#state = 'draining';
    this.#publishState();
    this.#timer = setInterval(() => this.#tick(), Math.max(20, Math.min(250, options.stallMs / 4)));
    this.#timer.unref();
  }

  get state(): State {
    return this.#state;
  }

  /** How often the state changed (for tests and metrics). */
  get transitions(): number {
    return this.#transitions;
  }

  /** Live records in flight plus spool records in flight. */
  get inFlight(): number {
    return this.#live.size + this.#drainInFlight;
  }

  /** Use this producer from now on (connected at boot, or rebuilt after a fatal error). */
  replaceProducer(producer: KafkaProducer | undefined): void {
    const replacing = this.#producer !== undefined;
    if (replacing && this.#live.size > 0) {
      // The old producer may never report on these: spool them (in order) and forget them here.
      this.#leaveLive('the producer is being replaced');
      this.#live.clear();
    }
    this.#producer = producer;
    this.#generation++;
    this.#drainInFlight = 0;
    this.#carry = [];
    // The rewind below sends again whatever a held drain was waiting to retry.
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#held = false;
    // What the old producer had not confirmed is read again from the spool.
    if (replacing) this.#o.spool.rewind();
    if (producer) void this.#drain();
  }

  /**
   * Take records, in order; returns how many were taken (all, unless the spool is full under
   * whenFull=block). The caller offers the rest once spool.waitForRoom() resolves, or uses
   * offerAll(). Nothing taken is ever dropped here.
   */
  offer(entries: readonly SpoolEntry[]): number {
    if (this.#stopped) throw new GatewayError('GW_ERR_SPOOL_CLOSED', 'offer after the sink stopped');
    if (this.#state !== 'live') return this.#spoolAppend(entries) ? entries.length : 0;
    const producer = this.#producer;
    for (const [i, entry] of entries.entries()) {
      if (!producer || this.#live.size >= this.#o.liveWindow) {
        this.#leaveLive('the live window is full');
        return i + (this.#spoolAppend(entries.slice(i)) ? entries.length - i : 0);
      }
      const id = this.#nextLive++;
      this.#live.set(id, { entry, sentAt: Date.now() });
      try {
        producer.produce(toOutgoing(entry), (err) => this.#onLiveReport(id, err));
      } catch (err) {
        this.#live.delete(id);
        this.#leaveLive((err as Error).message);
        return i + (this.#spoolAppend(entries.slice(i)) ? entries.length - i : 0);
      }
    }
    return entries.length;
  }

  /**
   * offer() every entry, waiting for room in the spool as often as needed (back-pressure). In WAL
   * mode it resolves only once they are durable: what it has acknowledged survives a crash.
   */
  async offerAll(entries: readonly SpoolEntry[]): Promise<void> {
    let taken = this.offer(entries);
    while (taken < entries.length) {
      await this.#o.spool.waitForRoom(64 * 1024);
      taken += this.offer(entries.slice(taken));
    }
    if (this.#o.mode === 'wal') await this.#lastDurable;
  }

  /**
   * Stop taking records; give Kafka until the deadline, then spill the live records it has not
   * confirmed, so that the spool holds everything not in Kafka. Returns how many were spilled.
   */
  async stop(flush: (timeoutMs: number) => Promise<boolean>, timeoutMs: number): Promise<number> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    await this.#draining; // a drain round in progress ends before the spool closes
    await flush(timeoutMs);
    const unresolved = [...this.#live.values()].filter((r) => r.spoolId === undefined).length;
    if (this.#live.size > 0) this.#leaveLive('shutdown');
    return unresolved;
  }

  #onLiveReport(id: number, err: Error | null): void {
    const record = this.#live.get(id);
    if (!record) return;
    // Not in Kafka: spill while it is still among the unresolved, so its copy keeps its place.
    if (err && record.spoolId === undefined) this.#leaveLive(err.message);
    this.#live.delete(id);
    if (!err && record.spoolId !== undefined) this.#o.spool.ack(record.spoolId);
    if (this.#state === 'spilling' && this.#live.size === 0) this.#startDraining();
  }

  /** LIVE → SPILLING: unresolved live records go to the spool first, in order, then new ones. */
  #leaveLive(reason: string): void {
    if (this.#state === 'live') {
      this.#enter('spilling');
      this.#o.log.warn({ reason, unresolved: this.#live.size }, 'kafka not keeping up: spilling to the spool');
    }
    const copies = [...this.#live.values()].filter((r) => r.spoolId === undefined);
    if (copies.length === 0) return;
    try {
      const receipt = this.#o.spool.append(copies.map((r) => r.entry));
      copies.forEach((r, i) => (r.spoolId = receipt.firstId + i));
      this.#o.metrics?.spooled.inc(copies.length);
    } catch (err) {
      // The spool is full: these stay in librdkafka's queue only. Logged as what they are.
      this.#o.log.error({ err: (err as Error).message, records: copies.length }, 'records in flight could not be spooled');
    }
  }

  #spoolAppend(entries: readonly SpoolEntry[]): boolean {
    if (entries.length === 0) return true;
    let durable: Promise<void>;
    try {
      durable = this.#o.spool.append(entries).durable;
    } catch (err) {
      if ((err as GatewayError).code === 'GW_ERR_SPOOL_FULL') return false;
      throw err;
    }
    this.#o.metrics?.spooled.inc(entries.length);
    // WAL sends only what is durable: drain as soon as the group commit covers it.
    if (this.#o.mode === 'wal') {
      this.#lastDurable = durable;
      void durable.then(() => this.#drain(), () => undefined);
    }
    else if (this.#state === 'draining') void this.#drain();
    return true;
  }

  #startDraining(): void {
    this.#enter('draining');
    this.#o.log.info('kafka keeping up again: draining the spool in order');
    void this.#drain();
  }

  /** Send spool records in order within the drain window; LIVE again once caught up (spill mode). */
  #drain(): Promise<void> {
    this.#draining ??= this.#drainRound().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drainRound(): Promise<void> {
    while (!this.#stopped && this.#state === 'draining' && !this.#held && this.#producer && this.#drainInFlight < this.#window) {
      const want = this.#window - this.#drainInFlight;
      const records = this.#carry.length > 0 ? this.#carry.splice(0) : await this.#o.spool.read(want, { durableOnly: this.#o.mode === 'wal' });
      if (records.length === 0) {
        // Caught up only when nothing is unread at all: appended records may still be on their
        // way to the file, and they must go out before anything newer goes live.
        if (this.#o.mode === 'spill' && this.#drainInFlight === 0 && !this.#o.spool.hasUnread() && !this.#stopped) {
          this.#enter('live');
          this.#o.log.info('spool drained: sending live');
        }
        return;
      }
      if (!this.#send(records)) return;
    }
  }

  get #window(): number {
    return this.#probing ? 1 : this.#o.drainWindow;
  }

  /** Produce spool records in order; false when the producer refused one (the rest are carried). */
  #send(records: SpoolRecord[]): boolean {
    const producer = this.#producer as KafkaProducer;
    const generation = this.#generation;
    for (const [i, r] of records.entries()) {
      try {
        producer.produce(toOutgoing(r.entry), (err) => this.#onDrainReport(generation, r.id, err));
      } catch (err) {
        this.#carry = records.slice(i);
        this.#o.metrics?.replayed.inc(i);
        this.#onRefused(err as GatewayError);
        return false;
      }
      this.#refusalLogged = false;
      this.#drainInFlight++;
    }
    this.#o.metrics?.replayed.inc(records.length);
    return true;
  }

  /**
   * A spooled record refused at produce() is sent again, first, on the next round (a report or
   * the tick): a full queue clears by itself, and a record is never skipped. Anything other than
   * a full queue holds the records behind it until it goes, so it is logged as an error.
   */
  #onRefused(err: GatewayError): void {
    const code = (err.cause as { code?: number } | undefined)?.code;
    if (code === -150) {
      this.#o.log.error({ err: err.message }, 'fatal producer error: the producer is rebuilt and unconfirmed records are sent again');
      this.#o.onFatal?.(err);
      return;
    }
    if (this.#refusalLogged) return;
    this.#refusalLogged = true;
    if (code === -184) this.#o.log.warn({ err: err.message }, 'drain paused: the producer queue is full');
    else this.#o.log.error({ err: err.message, code }, 'drain paused: librdkafka refuses the next spooled record; it is tried again until it goes, and the records behind it wait');
  }

  #onDrainReport(generation: number, spoolId: number, err: Error | null): void {
    if (!err) {
      this.#o.spool.ack(spoolId); // in Kafka, whichever producer took it there
      if (spoolId === this.#refused) {
        this.#o.log.info({ spoolId, retries: this.#retry.attempts }, 'Kafka took the spooled record it had refused; the drain goes on');
        this.#refused = undefined;
        this.#retry.reset();
      }
    }
    if (generation !== this.#generation) return;
    this.#drainInFlight--;
    if (err) this.#hold(err, spoolId);
    else if (this.#held) this.#maybeRetry();
    else {
      this.#probing = false;
      if (this.#drainInFlight < this.#o.drainWindow / 2) void this.#drain();
    }
  }

  /**
   * Kafka did not take a spooled record (it stays unacknowledged): read nothing more, and after the
   * back-off send again from the first unacknowledged record. Logged once per episode; each
   * failure is counted by the producer (gridgate_kafka_delivery_failed_total).
   */
  #hold(err: Error, spoolId: number): void {
    if (this.#held) return;
    this.#held = true;
    const first = this.#refused === undefined;
    this.#refused ??= spoolId;
    const retryInMs = this.#retry.next();
    if (first) {
      this.#o.log.error(
        { err: err.message, spoolId, retryInMs },
        'Kafka did not take a spooled record: the drain holds there and sends it again after a back-off; the records behind it wait, in order',
      );
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#maybeRetry();
    }, retryInMs);
    this.#retryTimer.unref();
  }

  /** The retry, once it is due and nothing is in flight (a record in flight sent twice would be a duplicate). */
  #maybeRetry(): void {
    if (!this.#held || this.#retryTimer !== undefined || this.#drainInFlight > 0 || this.#stopped) return;
    this.#held = false;
    this.#probing = true;
    this.#carry = [];
    this.#o.spool.rewind();
    void this.#drain();
  }

  #enter(state: State): void {
    this.#state = state;
    this.#transitions++;
    this.#publishState();
  }

  #publishState(): void {
    for (const s of ['live', 'spilling', 'draining'] as const) this.#o.metrics?.deliveryState.set({ state: s }, s === this.#state ? 1 : 0);
  }

  #tick(): void {
    if (this.#state === 'live') {
      const oldest = this.#live.values().next().value as LiveRecord | undefined;
      if (oldest && Date.now() - oldest.sentAt > this.#o.stallMs) this.#leaveLive(`no delivery report for ${this.#o.stallMs} ms`);
    } else if (this.#state === 'spilling' && this.#live.size === 0) {
      this.#startDraining();
    } else if (this.#state === 'draining') {
      void this.#drain();
    }
  }
}

function toOutgoing(entry: SpoolEntry): { topic: string; key: string; value: Buffer; headers?: Readonly<Record<string, string>>; timestampMs: number } {
  const value = Buffer.isBuffer(entry.value) ? entry.value : Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength);
  return entry.headers ? { topic: entry.topic, key: entry.key, value, headers: entry.headers, timestampMs: entry.timestampMs } : { topic: entry.topic, key: entry.key, value, timestampMs: entry.timestampMs };
}
