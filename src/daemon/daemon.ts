import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { Deadline, type Component, type Readiness } from './component.js';

// Starts components in the order given (observability, sink, spool, pipeline, sources: the
// downstream end first, so nothing produces into a stage that is not there yet) and stops them in
// reverse within one drain budget shared by all. A component that fails to start rolls back the
// ones already started.

const GRACE_AFTER_OVERRUN_MS = 250;

export interface StopResult {
  /** Every component stopped within the budget. */
  clean: boolean;
  /** Components that threw or overran the deadline. */
  failed: string[];
}

export class Daemon {
  #components: readonly Component[];
  readonly #log: Logger;
  #drainTimeoutMs: number;
  #started: Component[] = [];
  #stopping: Promise<StopResult> | undefined;

  constructor(components: readonly Component[], log: Logger, drainTimeoutMs: number) {
    this.#components = components;
    this.#log = log;
    this.#drainTimeoutMs = drainTimeoutMs;
  }

  async start(): Promise<void> {
    for (const component of this.#components) {
      try {
        await component.start();
      } catch (err) {
        this.#log.error({ err, component: component.name }, 'component failed to start; stopping the others');
        await this.stop();
        throw err;
      }
      this.#started.push(component);
    }
  }

  get drainTimeoutMs(): number {
    return this.#drainTimeoutMs;
  }

  /** A reload's new shutdown.drainTimeoutMs. */
  set drainTimeoutMs(ms: number) {
    this.#drainTimeoutMs = ms;
  }

  /**
   * A reload's change to the running graph: stop `old` (within the drain budget), start `next`.
   * Either may be absent (a source removed or added). A new component takes the old one's place
   * in the order, or goes last (sources), so a later stop still runs downstream-last.
   */
  async replace(old: Component | undefined, next: Component | undefined): Promise<void> {
    if (this.#stopping) throw new GatewayError('GW_ERR_RELOAD', 'the gateway is stopping');
    if (old) {
      const deadline = new Deadline(this.#drainTimeoutMs);
      try {
        if (!(await deadline.race(old.stop(deadline)))) this.#log.error({ component: old.name }, 'component did not stop within shutdown.drainTimeoutMs during a reload');
      } finally {
        deadline.clear();
      }
    }
    const at = old ? this.#components.indexOf(old) : this.#components.length;
    const components = this.#components.filter((c) => c !== old);
    this.#started = this.#started.filter((c) => c !== old);
    this.#components = components;
    if (!next) return;
    await next.start();
    if (this.#stopping) {
      // A stop began while this one started: it did not know about it, so stop it here.
      const grace = new Deadline(GRACE_AFTER_OVERRUN_MS);
      await next.stop(grace).catch(() => undefined);
      grace.clear();
      return;
    }
    components.splice(at, 0, next);
    this.#started = components.filter((c) => c === next || this.#started.includes(c));
    this.#log.debug({ component: next.name, replaced: old !== undefined }, 'component started for a reload');
  }

  /** Idempotent: a second call (a second signal) waits for the first stop. */
  stop(): Promise<StopResult> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  readiness(): Record<string, Readiness> {
    const report: Record<string, Readiness> = {};
    for (const component of this.#components) {
      report[component.name] = this.#started.includes(component)
        ? component.readiness()
        : { ready: false, detail: this.#stopping ? 'stopped' : 'not started' };
    }
    return report;
  }

  async #stopAll(): Promise<StopResult> {
    const shared = new Deadline(this.#drainTimeoutMs);
    const failed: string[] = [];
    for (const component of [...this.#started].reverse()) {
      const startedAt = Date.now();
      // Once one component has used up the budget, each later one still gets a short grace to
      // close its sockets and files, so that only the one really stuck is reported.
      const deadline = shared.signal.aborted ? new Deadline(GRACE_AFTER_OVERRUN_MS) : shared;
      const stopping = component.stop(deadline).catch((err: unknown) => {
        failed.push(component.name);
        this.#log.error({ err, component: component.name }, 'component failed to stop cleanly');
      });
      const finished = await deadline.race(stopping);
      if (deadline !== shared) deadline.clear();
      if (!finished) {
        failed.push(component.name);
        const err = new GatewayError('GW_ERR_SHUTDOWN_TIMEOUT', `${component.name} did not stop within shutdown.drainTimeoutMs`);
        this.#log.error({ code: err.code, component: component.name, drainTimeoutMs: this.#drainTimeoutMs }, err.message);
      } else {
        this.#log.debug({ component: component.name, ms: Date.now() - startedAt }, 'component stopped');
      }
    }
    shared.clear();
    this.#started = [];
    return { clean: failed.length === 0, failed };
  }
}
