import {
  AttributeIds,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  TimestampsToReturn,
  type ClientMonitoredItemBase,
  type ClientSession,
  type DataValue,
  type MonitoringParametersOptions,
  type StatusCode,
} from 'node-opcua';
import type { Monitoring, PlannedItem, SubscriptionPlan } from './plan.js';

// One subscription (one publishing interval) and its monitored items on a session.
//
// Items with the same monitoring settings are created together (CreateMonitoredItems with up to
// CHUNK items): the server answers per item, so one unknown node fails that item only. A failed
// item is reported and tried again later on its own. Every subscription also monitors the
// server's clock (Server_ServerStatus_CurrentTime, i=2258, sampled every second): with it, a
// healthy subscription delivers something at least every publishing interval or keep-alive, so
// `silentForMs` measures how long it has been dead, whatever its items do.
//
// node-opcua keeps the ClientSubscription object across its own reconnection (re-activation,
// transfer, or re-creation on a new session): the handlers here stay valid through it.

const CHUNK = 500;
const SERVER_CURRENT_TIME = 'i=2258';

export interface SubscriptionEvents {
  value(item: PlannedItem, dv: DataValue): void;
  failed(item: PlannedItem, status: StatusCode): void;
}

export interface ResolvedItem {
  item: PlannedItem;
  /** The NodeId text to monitor (a browse path resolved, nsu= mapped to ns=). */
  nodeId: string;
}

export class ItemSubscription {
  readonly publishingIntervalMs: number;
  readonly #plan: SubscriptionPlan;
  readonly #events: SubscriptionEvents;
  /** The monitored item currently delivering each item's values, by the item's index (the hot path's lookup). */
  #current: (ClientMonitoredItemBase | undefined)[] = [];
  readonly #failed = new Map<string, ResolvedItem>();
  #subscription: ClientSubscription | undefined;
  #lastActivityMs = Date.now();
  #revisedMs = 0;

  constructor(plan: SubscriptionPlan, events: SubscriptionEvents) {
    this.#plan = plan;
    this.publishingIntervalMs = plan.publishingIntervalMs;
    this.#events = events;
  }

  get items(): readonly PlannedItem[] {
    return this.#plan.items;
  }

  /** The interval the server granted (it may revise ours). */
  get revisedPublishingIntervalMs(): number {
    return this.#revisedMs;
  }

  /** Items the server refused, by name. */
  get failed(): ReadonlyMap<string, ResolvedItem> {
    return this.#failed;
  }

  /** Create the subscription and its items; `resolved` holds the items whose node is known. */
  async create(session: ClientSession, resolved: readonly ResolvedItem[], options: { keepAliveMs: number; lifetimeMs: number }): Promise<void> {
    const interval = this.publishingIntervalMs;
    const keepAliveCount = Math.max(1, Math.min(65_535, Math.floor(options.keepAliveMs / interval)));
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: interval,
      requestedMaxKeepAliveCount: keepAliveCount,
      // The server keeps the subscription this long without a publish request (a reconnect window).
      requestedLifetimeCount: Math.min(4_000_000, Math.max(3 * keepAliveCount, Math.ceil(options.lifetimeMs / interval))),
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.#subscription = subscription;
    this.#revisedMs = subscription.publishingInterval;
    this.#lastActivityMs = Date.now();
    const alive = (): void => {
      this.#lastActivityMs = Date.now();
    };
    subscription.on('keepalive', alive);
    subscription.on('received_notifications', alive);

    const clock = await subscription.monitor(
      { nodeId: SERVER_CURRENT_TIME, attributeId: AttributeIds.Value },
      { samplingInterval: 1000, queueSize: 1, discardOldest: true },
      TimestampsToReturn.Both,
    );
    clock.on('changed', alive);

    const byMonitoring = new Map<string, ResolvedItem[]>();
    for (const r of resolved) {
      const key = JSON.stringify(r.item.monitoring);
      const list = byMonitoring.get(key) ?? [];
      list.push(r);
      byMonitoring.set(key, list);
    }
    for (const list of byMonitoring.values()) {
      for (let i = 0; i < list.length; i += CHUNK) await this.#monitorGroup(subscription, list.slice(i, i + CHUNK));
    }
  }

  async #monitorGroup(subscription: ClientSubscription, chunk: ResolvedItem[]): Promise<void> {
    const group = await subscription.monitorItems(
      chunk.map((r) => ({ nodeId: r.nodeId, attributeId: AttributeIds.Value })),
      monitoringParameters(chunk[0]!.item.monitoring),
      TimestampsToReturn.Both,
    );
    group.on('changed', (mi, dv, index) => {
      const r = chunk[index];
      if (r && this.#current[r.item.index] === mi) this.#events.value(r.item, dv);
    });
    group.monitoredItems.forEach((mi, i) => {
      const r = chunk[i]!;
      if (mi.statusCode.isGood()) this.#current[r.item.index] = mi;
      else this.#fail(r, mi.statusCode);
    });
  }

  #fail(r: ResolvedItem, status: StatusCode): void {
    this.#current[r.item.index] = undefined;
    this.#failed.set(r.item.name, r);
    this.#events.failed(r.item, status);
  }

  /** Report items node-opcua re-created with a bad status (after a reconnection); they join the retry list. */
  checkAfterRepair(): void {
    for (const item of this.#plan.items) {
      const mi = this.#current[item.index];
      if (!mi || mi.statusCode.isGood()) continue;
      // The client-side shell of a refused item would be re-created by every later repair: drop it.
      mi.terminate().catch(() => undefined);
      this.#fail({ item, nodeId: mi.itemToMonitor.nodeId.toString() }, mi.statusCode);
    }
  }

  /** Try the refused items again, one by one; returns those that now work. */
  async retryFailed(): Promise<PlannedItem[]> {
    const subscription = this.#subscription;
    if (!subscription || this.#failed.size === 0) return [];
    const recovered: PlannedItem[] = [];
    for (const [name, r] of [...this.#failed]) {
      try {
        const mi = await subscription.monitor({ nodeId: r.nodeId, attributeId: AttributeIds.Value }, monitoringParameters(r.item.monitoring), TimestampsToReturn.Both);
        if (!mi.statusCode.isGood()) continue;
        this.#failed.delete(name);
        this.#current[r.item.index] = mi;
        mi.on('changed', (dv: DataValue) => {
          if (this.#current[r.item.index] === mi) this.#events.value(r.item, dv);
        });
        recovered.push(r.item);
      } catch {
        // still refused: next round
      }
    }
    return recovered;
  }

  /** How long nothing (no data, no keep-alive, no clock tick) has arrived. */
  silentForMs(now = Date.now()): number {
    return now - this.#lastActivityMs;
  }

  /** Pause or resume the server's publishing (backpressure: the server keeps the latest values). */
  async setPublishing(on: boolean): Promise<void> {
    await this.#subscription?.setPublishingMode(on);
  }

  /** Delete it on the server (best effort: the session may already be gone). */
  async terminate(): Promise<void> {
    const s = this.#subscription;
    this.#subscription = undefined;
    this.#current = [];
    this.#failed.clear();
    if (s) await s.terminate().catch(() => undefined);
  }
}

export function monitoringParameters(m: Monitoring): MonitoringParametersOptions {
  return {
    samplingInterval: m.samplingIntervalMs,
    queueSize: m.queueSize,
    discardOldest: m.discardOldest,
    ...(m.deadband
      ? {
          filter: new DataChangeFilter({
            trigger: DataChangeTrigger.StatusValue,
            deadbandType: m.deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
            deadbandValue: m.deadband.value,
          }),
        }
      : {}),
  };
}
