import { setTimeout as sleep } from 'node:timers/promises';
import type { Component, Deadline, Readiness } from '../../daemon/component.js';
import { qualityLevel } from '../shared/quality.js';
import { Backoff } from '../shared/backoff.js';
import type { SourceContext } from '../c37118/source.js';
import type { ModbusSourceConfig } from './config.js';
import { ModbusConnection } from './connection.js';
import { DevicePoller, type PollOutcome } from './device-poller.js';
import { modbusMetrics, type ModbusMetrics } from './metrics.js';
import { resolveDevice } from './resolve.js';
import { PollSchedule, type Tick } from './schedule.js';

// A Modbus source: one connection (TCP device or gateway, or a serial bus) and the devices behind
// it, each polled per poll group on a drift-free schedule. The plans are resolved once, here, from
// the config (the config check already rejected what resolve finds wrong).
//
//   PollSchedule (device × group) ──tick──▶ DevicePoller.poll ──reads──▶ ModbusConnection (one at a time)
//                                                   │
//                                                   └──▶ records (scada-value) ──emit──▶ pipeline
//
// A poll is skipped, and counted, when the previous poll of the same device and group is still
// running (overrun), when the device is backed off after failures (degraded), or while the
// pipeline is full (paused). Tags that miss their polls go stale. The connection reconnects with
// back-off; while it is down every poll fails fast as `closed` (comms failure, once per tag).

export class ModbusSource implements Component {
  readonly name: string;
  readonly #c: ModbusSourceConfig;
  readonly #ctx: SourceContext;
  readonly #m: ModbusMetrics;
  readonly #devices: DevicePoller[];
  readonly #connection: ModbusConnection;
  readonly #schedules: PollSchedule[] = [];
  readonly #running = new Set<string>();
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #paused = false;
  #unsubscribe: (() => void) | undefined;
  #state: 'connecting' | 'connected' | 'disconnected' = 'connecting';
  #lastError: string | undefined;
  #stopped = false;

  constructor(config: ModbusSourceConfig, ctx: SourceContext) {
    this.name = `source-${config.name}`;
    this.#c = config;
    this.#ctx = ctx;
    this.#m = modbusMetrics(ctx.registry);
    this.#m.sources.set(config.name, this);
    this.#connection = new ModbusConnection(config);
    this.#devices = config.devices.map((device) => {
      const { tags, problems } = resolveDevice(device, config);
      if (problems.length > 0) throw new Error(`modbus source ${config.name}, device ${device.name}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
      return new DevicePoller(device, tags, config, config.deviceBackoff);
    });
  }

  /** The devices' pollers (probe, tests). */
  get devices(): readonly DevicePoller[] {
    return this.#devices;
  }

  async start(): Promise<void> {
    // Present from the start: a device that never answers is disconnected, not absent from /metrics.
    this.#m.connected.set({ source: this.#c.name }, 0);
    this.#unsubscribe = this.#ctx.onResume(() => (this.#paused = false));
    this.#loop = this.#connect(this.#abort.signal);
    for (const device of this.#devices) {
      for (const [group, intervalMs] of device.intervals) {
        const schedule = new PollSchedule(intervalMs, (tick) => void this.#tick(device, group, tick));
        schedule.start();
        this.#schedules.push(schedule);
      }
    }
  }

  async stop(deadline: Deadline): Promise<void> {
    // Polls still in flight fail as the connection closes: their records would be noise.
    this.#stopped = true;
    for (const s of this.#schedules) s.stop();
    this.#abort.abort();
    this.#unsubscribe?.();
    await deadline.race(this.#connection.close());
    await deadline.race(this.#loop ?? Promise.resolve());
    this.#m.connected.set({ source: this.#c.name }, 0);
  }

  readiness(): Readiness {
    if (this.#state !== 'connected') return { ready: false, detail: this.#lastError ? `${this.#state}: ${this.#lastError}` : this.#state };
    const degraded = this.#devices.filter((d) => d.isDegraded(Date.now())).map((d) => d.name);
    return degraded.length > 0 ? { ready: true, detail: `degraded: ${degraded.join(', ')}` } : { ready: true };
  }

  /** Keep the connection open: connect, wait for it to close, back off, again. */
  async #connect(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#c.reconnect);
    const log = this.#ctx.log;
    // One listener for the whole loop (one per connection would pile up on the signal).
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      try {
        const closed = new Promise<void>((resolve) => {
          void this.#connection.open(resolve).then(
            () => {
              this.#state = 'connected';
              this.#lastError = undefined;
              backoff.reset();
              this.#m.connected.set({ source: this.#c.name }, 1);
              log.info({ transport: this.#c.transport, address: this.#c.address ?? this.#c.serial?.path }, 'Modbus connection open');
            },
            (err: Error) => {
              this.#lastError = err.message;
              resolve();
            },
          );
        });
        await Promise.race([closed, stopped]);
      } catch (err) {
        this.#lastError = (err as Error).message;
      }
      if (signal.aborted) break;
      if (this.#state === 'connected') log.warn({ err: this.#lastError }, 'Modbus connection closed; reconnecting');
      this.#state = 'disconnected';
      this.#m.connected.set({ source: this.#c.name }, 0);
      await this.#connection.close();
      const delay = backoff.next();
      if (backoff.attempts <= 1 || backoff.attempts % 10 === 0) log.warn({ err: this.#lastError, retryInMs: delay }, 'cannot open the Modbus connection');
      await sleep(delay, undefined, { signal }).catch(() => undefined); // no timer or listener left behind
    }
  }

  async #tick(device: DevicePoller, group: string, tick: Tick): Promise<void> {
    const source = this.#c.name;
    const key = `${device.name}\u0000${group}`;
    this.#m.jitter.observe({ source }, tick.jitterMs / 1000);
    if (tick.missed > 0) this.#m.skipped.inc({ source, device: device.name, reason: 'overrun' }, tick.missed);
    const skip = this.#running.has(key) ? 'overrun' : device.isDegraded(Date.now()) ? 'degraded' : this.#paused ? 'paused' : undefined;
    this.#m.degraded.set({ source, device: device.name }, device.isDegraded(Date.now()) ? 1 : 0);
    if (skip) {
      this.#m.skipped.inc({ source, device: device.name, reason: skip });
      this.#emit(device.checkStale(group));
      return;
    }
    this.#running.add(key);
    try {
      this.#account(device, await device.poll(group, this.#connection));
    } finally {
      this.#running.delete(key);
    }
  }

  #account(device: DevicePoller, outcome: PollOutcome): void {
    const source = this.#c.name;
    for (const [result, n] of Object.entries(outcome.results)) if (n > 0) this.#m.requests.inc({ source, device: device.name, result }, n);
    for (const us of outcome.latenciesUs) this.#m.latency.observe({ source }, us / 1e6);
    for (const reason of outcome.malformed) this.#m.malformed.inc({ source, reason });
    this.#emit(outcome.records);
  }

  /** Tags by quality level, for the gauge (computed when scraped, not per poll). */
  tagQualities(): Record<'good' | 'uncertain' | 'bad', number> {
    const levels = { good: 0, uncertain: 0, bad: 0 };
    for (const d of this.#devices) for (const q of d.qualities()) levels[qualityLevel(q)]++;
    return levels;
  }

  #emit(records: PollOutcome['records']): void {
    if (records.length === 0 || this.#stopped) return;
    if (!this.#ctx.emit(records)) this.#paused = true;
  }
}
