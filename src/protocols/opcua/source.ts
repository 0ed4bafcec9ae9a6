import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientSession, DataValue, OPCUACertificateManager, OPCUAClient, StatusCode } from 'node-opcua';
import type { Component, Deadline, Readiness } from '../../daemon/component.js';
import { nowUs, type SourceRecord } from '../../pipeline/record.js';
import { Backoff } from '../shared/backoff.js';
import { Quality, qualityLevel } from '../shared/quality.js';
import type { SourceContext } from '../c37118/source.js';
import { securityPolicyOf, type OpcuaSourceConfig } from './config.js';
import { opcuaMetrics, type OpcuaMetrics } from './metrics.js';
import { certificateInfo, newestRejected, openPki, ownCertificate, pkiDirOf } from './pki.js';
import { planItems, planSubscriptions, type PlannedItem } from './plan.js';
import { opcuaValueRecord, type OpcuaReading } from './records.js';
import type * as Runtime from './runtime.js';
import { overflowed, severityOf, statusQuality } from './status.js';
import type { ItemSubscription } from './subscription.js';

// An OPC UA source: one secure session to one server, one subscription per publishing interval,
// every notification a scada-value record.
//
//   connect (our back-off) ─▶ session ─▶ resolve nodes ─▶ subscriptions + items ─▶ notifications ─▶ records
//        ▲                                                                               │
//        │   connection lost: node-opcua repairs it (re-activate │ transfer │ re-create) ◀┘
//        └── the repair failed for good, or the watchdog found a subscription dead twice
//
// Every item gets a record for every value the server sends, and one bad record (comms_failure)
// when the connection is lost, so a consumer never takes a frozen last value for a live one. An item
// the server refuses (unknown node, no match for a browse path) gets a bad record (rejected) and is
// tried again every retryFailedItemsMs; the other items are not affected. While the pipeline is
// full the subscriptions stop publishing (the server keeps each item's latest values in its queue).

interface ItemState {
  item: PlannedItem;
  nodeId: string;
  quality: number;
  /** Notifications received, and when the first and latest of this session arrived (rate estimate). */
  count: number;
  firstMs: number;
  lastMs: number;
}

interface Outage {
  startUs: number;
  endUs: number | undefined;
  /** Updates the items were delivering per second before it. */
  ratePerS: number;
  /** Values with an event time inside the outage delivered after it (the server's queues, republish). */
  recovered: number;
}

const WATCH_EVERY_MS = 1000;

export class OpcuaSource implements Component {
  readonly name: string;
  readonly #c: OpcuaSourceConfig;
  readonly #ctx: SourceContext;
  readonly #m: OpcuaMetrics;
  readonly #items: PlannedItem[];
  /** Per item, by its index in the config (the hot path's lookup). */
  readonly #states: ItemState[];
  readonly #abort = new AbortController();
  /** node-opcua and what uses it, loaded in start(). */
  #rt!: typeof Runtime;
  #subscriptions: ItemSubscription[] = [];
  #unresolved = new Map<string, PlannedItem>();
  #pki: OPCUACertificateManager | undefined;
  #client: OPCUAClient | undefined;
  #session: ClientSession | undefined;
  #loop: Promise<void> | undefined;
  #state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'stopped' = 'connecting';
  #lastError: string | undefined;
  #outage: Outage | undefined;
  #pending: SourceRecord[] = [];
  #flushScheduled = false;
  #paused = false;
  /** Notifications since the last flush: counted here, added to the counter once per batch. */
  #notified = 0;
  /** The latency histogram's child for this source (no label lookup per value). */
  readonly #latency: { observe(value: number): void };
  /** Periodic jobs still running (the watchdog, the retry of refused items): not started twice. */
  readonly #busy = new Set<'watch' | 'retry'>();
  /** The rejected server certificate last explained in the log (said once, not at every retry). */
  #explained: string | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Resolves the current session's "end": the repair failed for good, or the watchdog gave up. */
  #endSession: ((reason: string) => void) | undefined;

  constructor(config: OpcuaSourceConfig, ctx: SourceContext) {
    this.name = `source-${config.name}`;
    this.#c = config;
    this.#ctx = ctx;
    this.#m = opcuaMetrics(ctx.registry);
    const { items, problems } = planItems(config);
    if (problems.length > 0) throw new Error(`opcua source ${config.name}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
    this.#items = items;
    this.#states = items.map((item) => ({ item, nodeId: item.nodeId ?? item.target, quality: Quality.ABSENT, count: 0, firstMs: 0, lastMs: 0 }));
    this.#m.sources.set(config.name, this);
    this.#latency = this.#m.latency.labels(config.name);
  }

  /** The PKI folder: the config's, else <state.dir>/opcua/pki. */
  get pkiDir(): string {
    return pkiDirOf(this.#c, this.#ctx.stateDir);
  }

  async start(): Promise<void> {
    this.#rt = await import('./runtime.js');
    this.#rt.routeLibraryLogs(this.#ctx.log);
    this.#unsubscribe = this.#ctx.onResume(() => void this.#resume());
    // Present from the start: a server that never answers is disconnected, not absent from /metrics.
    this.#m.connected.set({ source: this.#c.name }, 0);
    this.#loop = this.#run(this.#abort.signal);
  }

  async stop(deadline: Deadline): Promise<void> {
    this.#state = 'stopped';
    this.#abort.abort();
    this.#endSession?.('stopping');
    this.#unsubscribe?.();
    await deadline.race(this.#loop ?? Promise.resolve());
    await deadline.race(this.#pki?.dispose() ?? Promise.resolve());
    this.#m.connected.set({ source: this.#c.name }, 0);
  }

  readiness(): Readiness {
    if (this.#state !== 'connected') return { ready: false, detail: this.#lastError ? `${this.#state}: ${this.#lastError}` : this.#state };
    const refused = this.refusedItems();
    return refused > 0 ? { ready: true, detail: `${refused} item(s) refused by the server` } : { ready: true };
  }

  /** Items by the quality of their latest value, for the gauge. */
  itemQualities(): Record<'good' | 'uncertain' | 'bad', number> {
    const levels = { good: 0, uncertain: 0, bad: 0 };
    for (const s of this.#states) levels[qualityLevel(s.quality)]++;
    return levels;
  }

  refusedItems(): number {
    return this.#unresolved.size + this.#subscriptions.reduce((n, s) => n + s.failed.size, 0);
  }

  /** Connect, serve the session until it ends, back off, again. */
  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#c.reconnect);
    const log = this.#ctx.log;
    while (!signal.aborted) {
      let reason = 'connect-failed';
      try {
        reason = await this.#serveSession(signal, backoff);
      } catch (err) {
        this.#lastError = (err as Error).message;
        await this.#explainConnectFailure(err as Error, backoff.attempts);
      } finally {
        await this.#closeSession();
      }
      if (signal.aborted) break;
      this.#m.sessionRestarts.inc({ source: this.#c.name, reason });
      this.#markAll(Quality.COMMS_FAILURE, 'closed', this.#lastError ?? 'no session');
      this.#state = 'disconnected';
      this.#m.connected.set({ source: this.#c.name }, 0);
      const delay = backoff.next();
      if (reason !== 'connect-failed') log.warn({ reason, retryInMs: delay }, 'OPC UA session abandoned; opening a new one');
      await sleep(delay, undefined, { signal }).catch(() => undefined); // no timer or listener left behind
    }
  }

  /** One session from connect to its end; returns why it ended. */
  async #serveSession(signal: AbortSignal, backoff: Backoff): Promise<string> {
    const c = this.#c;
    const log = this.#ctx.log;
    this.#pki ??= await openPki(this.pkiDir);
    await this.#reportClientCertificate();
    const client = this.#rt.createClient(c, this.#pki);
    this.#client = client;
    const ended = new Promise<string>((resolve) => (this.#endSession = resolve));
    if (signal.aborted) return 'stopping';
    await client.connect(c.endpoint);
    if (signal.aborted) return 'stopping';
    this.#reportServerCertificate(client);
    const session = await client.createSession(await this.#rt.userIdentity(c));
    this.#session = session;

    client.on('connection_lost', () => this.#connectionLost());
    client.on('connection_reestablished', () => this.#connectionRepaired());
    client.on('reconnection_attempt_has_failed', (err: Error, message: string) => log.debug({ err: err.message }, `OPC UA reconnection attempt failed: ${message}`));
    // node-opcua's repair can hang: against a server that answers Republish for an unknown message
    // with Good instead of BadMessageNotAvailable (asyncua 2.1 does), it republishes forever. A repair
    // not done within watchdogMs of the channel coming back: abandon the session, open a new one.
    let repairTimer: NodeJS.Timeout | undefined;
    client.on('after_reconnection', () => {
      log.debug('OPC UA secure channel re-opened; repairing the session');
      clearTimeout(repairTimer);
      repairTimer = setTimeout(() => {
        log.warn({ afterMs: c.watchdogMs }, 'OPC UA session repair did not finish: abandoning the session');
        this.#endSession?.('repair-stuck');
      }, c.watchdogMs);
    });
    client.on('connection_reestablished', () => clearTimeout(repairTimer));
    // A repair that fails for good (node-opcua gives up, the session is closed under us).
    client.on('close', (err?: Error | null) => {
      if (err) this.#endSession?.('repair-failed');
    });
    session.on('session_closed', () => this.#state !== 'stopped' && this.#endSession?.('session-closed'));

    const { resolved, unresolved } = await this.#rt.resolveItems(session, this.#items);
    for (const r of resolved) this.#stateOf(r.item).nodeId = r.nodeId;
    this.#unresolved = new Map(unresolved.map((u) => [u.item.name, u.item]));
    for (const u of unresolved) this.#refused(u.item, u.item.target, u.status, u.detail);
    const byName = new Map(resolved.map((r) => [r.item.name, r]));
    this.#subscriptions = [];
    for (const plan of planSubscriptions(this.#items)) {
      const sub = new this.#rt.ItemSubscription(plan, {
        value: (item, dv) => this.#onValue(item, dv),
        failed: (item, status) => this.#refused(item, byName.get(item.name)?.nodeId ?? item.target, status, status.description || status.name),
      });
      this.#subscriptions.push(sub);
      await sub.create(
        session,
        plan.items.flatMap((i) => (byName.has(i.name) ? [byName.get(i.name)!] : [])),
        this.#timing(),
      );
    }
    this.#state = 'connected';
    this.#lastError = undefined;
    backoff.reset();
    this.#m.connected.set({ source: c.name }, 1);
    log.info(
      { endpoint: c.endpoint, securityMode: c.securityMode, securityPolicy: securityPolicyOf(c), items: resolved.length, refused: this.refusedItems(), subscriptions: this.#subscriptions.map((s) => s.revisedPublishingIntervalMs) },
      'OPC UA session open',
    );
    if (this.#paused) await this.#setPublishing(false);

    const watchdog = setInterval(() => void this.#exclusive('watch', (s) => this.#recreateSilent(s)), WATCH_EVERY_MS);
    const retry = setInterval(() => void this.#exclusive('retry', (s) => this.#retryRefused(s)), c.retryFailedItemsMs);
    try {
      return await ended; // stop() ends it too
    } finally {
      clearInterval(watchdog);
      clearInterval(retry);
      clearTimeout(repairTimer);
    }
  }

  /** Keep-alives a few times per watchdog period (1–5 s); subscriptions outlive a reconnect as long as the session does. */
  #timing(): { keepAliveMs: number; lifetimeMs: number } {
    return { keepAliveMs: Math.min(5000, Math.max(1000, Math.floor(this.#c.watchdogMs / 3))), lifetimeMs: this.#c.sessionTimeoutMs };
  }

  async #closeSession(): Promise<void> {
    const client = this.#client;
    const session = this.#session;
    const subscriptions = this.#subscriptions;
    this.#client = undefined;
    this.#session = undefined;
    this.#subscriptions = [];
    this.#endSession = undefined;
    if (!client) return;
    // Close in the background of a deadline: a server that does not answer must not hold us.
    const bounded = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
      Promise.race([p.catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
    if (session) {
      await bounded(Promise.all(subscriptions.map((s) => s.terminate())), 2000);
      await bounded(session.close(true), 2000);
    }
    await bounded(client.disconnect(), 3000);
  }

  #onValue(item: PlannedItem, dv: DataValue): void {
    const arrivedUs = nowUs();
    const t = this.#rt.eventTime(dv, arrivedUs);
    const code = dv.statusCode.value >>> 0;
    const quality = statusQuality(code);
    this.#notified++;
    if (t.from === 'source') this.#latency.observe(Math.max(0, arrivedUs - t.us) / 1e6);
    if (overflowed(code)) {
      this.#m.overflows.inc({ source: this.#c.name });
      this.#m.lostEstimated.inc({ source: this.#c.name });
    }
    const o = this.#outage;
    if (o?.endUs !== undefined && t.us >= o.startUs && t.us <= o.endUs) o.recovered++;
    const state = this.#stateOf(item);
    const nowMs = arrivedUs / 1000;
    if (state.count === 0) state.firstMs = nowMs;
    state.count++;
    state.lastMs = nowMs;
    state.quality = quality;
    const reading: OpcuaReading = {
      value: this.#rt.recordValue(dv.value),
      dataType: this.#rt.dataTypeName(dv.value),
      statusCode: code,
      statusName: dv.statusCode.name,
      eventTimeUs: t.us,
      timeSource: t.from,
      serverTimeUs: t.serverUs,
      ingestTimeUs: arrivedUs,
    };
    const bad = severityOf(code) === 'bad';
    this.#push(opcuaValueRecord(this.#fields(state), reading, quality, bad ? { kind: 'status', detail: dv.statusCode.description || dv.statusCode.name } : null));
  }

  /** A bad record for an item the server refused (or whose node it does not know). */
  #refused(item: PlannedItem, nodeId: string, status: StatusCode, detail: string): void {
    const state = this.#stateOf(item);
    state.nodeId = nodeId;
    state.quality = statusQuality(status.value) | Quality.REJECTED;
    this.#ctx.log.warn({ item: item.name, node: nodeId, status: status.name }, `OPC UA server refused the item: ${detail}`);
    this.#pushNoValue(state, status.value, status.name, 'rejected', detail);
  }

  /** One bad record per item (connection lost, session abandoned, subscription silent); not repeated while it stays so. */
  #markAll(flag: number, kind: string, detail: string, items: readonly PlannedItem[] = this.#items): void {
    for (const item of items) {
      const state = this.#stateOf(item);
      if ((state.quality & flag) !== 0) continue;
      state.quality = flag;
      this.#pushNoValue(state, 0x80050000, 'BadCommunicationError', kind, detail);
    }
  }

  /** A record without a value, stamped by us (no server time stamp to take): the item's quality, why, and the status that says so. */
  #pushNoValue(state: ItemState, statusCode: number, statusName: string, kind: string, detail: string): void {
    const now = nowUs();
    const reading: OpcuaReading = { value: null, dataType: 'Null', statusCode: statusCode >>> 0, statusName, eventTimeUs: now, timeSource: 'gateway', serverTimeUs: null, ingestTimeUs: now };
    this.#push(opcuaValueRecord(this.#fields(state), reading, state.quality, { kind, detail }));
  }

  #connectionLost(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'reconnecting';
    this.#m.connected.set({ source: this.#c.name }, 0);
    const now = Date.now();
    let ratePerS = 0;
    for (const s of this.#states) if (s.count >= 2 && s.lastMs > s.firstMs) ratePerS += (s.count - 1) / ((s.lastMs - s.firstMs) / 1000);
    this.#outage = { startUs: now * 1000, endUs: undefined, ratePerS, recovered: 0 };
    this.#ctx.log.warn({ endpoint: this.#c.endpoint }, 'OPC UA connection lost; node-opcua is repairing it');
    this.#markAll(Quality.COMMS_FAILURE, 'closed', 'connection to the server lost');
  }

  #connectionRepaired(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'connected';
    this.#m.connected.set({ source: this.#c.name }, 1);
    this.#m.reconnects.inc({ source: this.#c.name });
    for (const sub of this.#subscriptions) sub.checkAfterRepair();
    const o = this.#outage;
    if (!o) return;
    o.endUs = Date.now() * 1000;
    const seconds = (o.endUs - o.startUs) / 1e6;
    // What the server sends late (its queues, republished messages) arrives within a few
    // publishing intervals: count it before estimating.
    const settleMs = 2 * Math.max(...this.#subscriptions.map((s) => s.revisedPublishingIntervalMs), 0) + 1000;
    setTimeout(() => {
      const lost = Math.max(0, Math.round(o.ratePerS * seconds) - o.recovered);
      this.#m.lostEstimated.inc({ source: this.#c.name }, lost);
      this.#ctx.log.warn({ outageS: Math.round(seconds * 10) / 10, lostEstimated: lost, deliveredLate: o.recovered }, 'OPC UA connection repaired; subscriptions resumed');
      if (this.#outage === o) this.#outage = undefined;
    }, settleMs).unref();
  }

  /** A periodic job on the live session, skipped while the session is down or its previous run is still going. */
  async #exclusive(job: 'watch' | 'retry', run: (session: ClientSession) => Promise<void>): Promise<void> {
    if (this.#state !== 'connected' || !this.#session || this.#busy.has(job)) return;
    this.#busy.add(job);
    try {
      await run(this.#session);
    } finally {
      this.#busy.delete(job);
    }
  }

  /** Silent subscriptions: re-create them; if that fails, the session ends. */
  async #recreateSilent(session: ClientSession): Promise<void> {
    for (const sub of this.#subscriptions) {
      const limit = Math.max(this.#c.watchdogMs, 3 * sub.revisedPublishingIntervalMs);
      if (sub.silentForMs() < limit) continue;
      this.#m.watchdogTrips.inc({ source: this.#c.name });
      this.#ctx.log.warn({ publishingIntervalMs: sub.publishingIntervalMs, silentMs: sub.silentForMs() }, 'OPC UA subscription silent: re-creating it');
      this.#markAll(Quality.STALE, 'closed', 'subscription silent (keep-alive watchdog)', sub.items);
      try {
        await sub.terminate();
        const resolution = await this.#rt.resolveItems(session, sub.items);
        await sub.create(session, resolution.resolved, this.#timing());
      } catch (err) {
        this.#lastError = `watchdog: ${(err as Error).message}`;
        this.#endSession?.('watchdog');
        return;
      }
    }
  }

  /** Refused items again; nodes that became resolvable reopen the session. */
  async #retryRefused(session: ClientSession): Promise<void> {
    for (const sub of this.#subscriptions) {
      for (const item of await sub.retryFailed().catch(() => [])) this.#ctx.log.info({ item: item.name }, 'OPC UA item accepted on retry');
    }
    if (this.#unresolved.size === 0) return;
    const resolution = await this.#rt.resolveItems(session, [...this.#unresolved.values()]).catch(() => undefined);
    if (!resolution || resolution.resolved.length === 0) return;
    // Newly resolvable (a browse path that now has a target): a session restart creates them in
    // their subscriptions; cheaper than duplicating the creation path for a rare event.
    this.#ctx.log.info({ items: resolution.resolved.map((r) => r.item.name) }, 'OPC UA nodes now resolvable: reopening the session');
    this.#endSession?.('nodes-resolvable');
  }

  async #resume(): Promise<void> {
    if (!this.#paused) return;
    this.#paused = false;
    await this.#setPublishing(true);
  }

  async #setPublishing(on: boolean): Promise<void> {
    await Promise.all(this.#subscriptions.map((s) => s.setPublishing(on).catch(() => undefined)));
  }

  #stateOf(item: PlannedItem): ItemState {
    return this.#states[item.index]!;
  }


  #fields(s: ItemState): { device: string; tag: string; unit: string; nodeId: string } {
    return { device: this.#c.name, tag: s.item.name, unit: s.item.unit, nodeId: s.nodeId };
  }

  /** Records go to the pipeline once per turn of the event loop (one publish response = one emit). */
  #push(record: SourceRecord): void {
    if (this.#state === 'stopped') return; // what a closing session says after stop() is noise
    this.#pending.push(record);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const records = this.#pending;
      this.#pending = [];
      if (this.#notified > 0) this.#m.notifications.inc({ source: this.#c.name }, this.#notified);
      this.#notified = 0;
      if (records.length === 0) return;
      if (!this.#ctx.emit(records) && !this.#paused) {
        this.#paused = true;
        void this.#setPublishing(false);
      }
    });
  }

  async #reportClientCertificate(): Promise<void> {
    const own = await ownCertificate(this.pkiDir);
    if (own) this.#m.certificateExpiry.set({ source: this.#c.name, certificate: 'client' }, own.notAfter.getTime() / 1000);
  }

  #reportServerCertificate(client: OPCUAClient): void {
    const der = (client as unknown as { serverCertificate?: Buffer }).serverCertificate;
    if (!der || der.length === 0) return;
    try {
      const info = certificateInfo(der);
      this.#m.certificateExpiry.set({ source: this.#c.name, certificate: 'server' }, info.notAfter.getTime() / 1000);
      const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
      if (days < 30) this.#ctx.log.warn({ subject: info.subject, notAfter: info.notAfter.toISOString(), thumbprint: info.thumbprint }, `the OPC UA server certificate expires in ${Math.floor(days)} days`);
    } catch {
      // a chain or an odd encoding: the metric stays unset
    }
  }

  /** The log line of a failed connect; an untrusted server certificate gets the command that trusts it. */
  async #explainConnectFailure(err: Error, attempts: number): Promise<void> {
    const log = this.#ctx.log;
    if (/server Certificate verification failed/i.test(err.message)) {
      const newest = await newestRejected(this.pkiDir);
      if (newest && this.#explained === newest.thumbprint && attempts % 10 !== 0) return;
      this.#explained = newest?.thumbprint;
      const configFile = this.#ctx.configFile ?? '<site config>';
      log.error(
        { endpoint: this.#c.endpoint, thumbprint: newest?.thumbprint, subject: newest?.subject, file: newest?.file },
        newest
          ? `the OPC UA server certificate is not trusted (kept in ${join(this.pkiDir, 'rejected')}); check its thumbprint with the server's administrator, then trust it: gridgate opcua trust --config ${configFile} --source ${this.#c.name} ${newest.thumbprint}`
          : `the OPC UA server certificate is not trusted: ${err.message}`,
      );
      return;
    }
    if (attempts > 1 && attempts % 10 !== 0) return;
    if (/BadSecurityChecksFailed|BadCertificate/i.test(err.message)) {
      // The server refused us: usually our certificate is not (yet) in its trust list.
      const own = await ownCertificate(this.pkiDir);
      log.error(
        { endpoint: this.#c.endpoint, err: err.message, clientThumbprint: own?.thumbprint, clientCertificate: own?.file },
        `the OPC UA server refused the secure channel: if it does not trust our certificate yet, its administrator trusts ${own?.file ?? 'ours'} (thumbprint ${own?.thumbprint ?? 'unknown'})`,
      );
      return;
    }
    log.warn({ endpoint: this.#c.endpoint, err: err.message, attempts }, 'cannot open the OPC UA session');
  }
}
