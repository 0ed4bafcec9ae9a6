import { Counter, Gauge, type Registry } from 'prom-client';
import { loadConfig } from '../config/load.js';
import { ConfigError, formatProblem } from '../config/problems.js';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import type { Component } from './component.js';
import type { Daemon } from './daemon.js';
import type { Graph } from './graph.js';
import { analyticsEntry, planReload } from './reload-plan.js';
import { writeReloadReport } from './reload-report.js';

// SIGHUP: read and validate the config file again, then apply what changed by restarting only the
// components it concerns (reload-plan.ts says which can be). An invalid file, or one that changes
// a section needing a restart, leaves the running config untouched and says so in the log and in
// gridgate_config_last_reload_successful. Reloads run one at a time; signals during one coalesce
// into one more.
//
// Records are not lost by a reload: a restarted source stops the way it does at shutdown (what it
// decoded is emitted before its stop resolves), the pipeline, spool and sink never stop, and the
// source's streams keep their sequence numbers in the same epoch.

export type ReloadResult = 'applied' | 'unchanged' | 'invalid' | 'needs_restart' | 'failed';

export interface ReloaderOptions {
  file: string;
  daemon: Daemon;
  graph: Graph;
  config: SiteConfig;
  log: Logger;
  registry: Registry;
  /** Called once a reload finished, whatever its result (sd_notify READY=1 and STATUS=). */
  onDone?: (result: ReloadResult) => void;
}

export class Reloader {
  readonly #o: ReloaderOptions;
  #running: SiteConfig;
  readonly #sources = new Map<string, Component>();
  #http: HealthServer;
  #busy: Promise<ReloadResult> | undefined;
  /** Lines for the reload report: what was applied, or why not. */
  #detail: string[] = [];
  #again = false;
  readonly #m: { reloads: Counter<'result'>; successful: Gauge; at: Gauge };

  constructor(options: ReloaderOptions) {
    this.#o = options;
    this.#running = options.config;
    this.#http = options.graph.http;
    options.config.sources.forEach((s, i) => this.#sources.set(s.name, options.graph.sources[i]!));
    const registers = [options.registry];
    this.#m = {
      reloads: new Counter({
        name: 'gridgate_config_reloads_total',
        help: 'Config reloads (SIGHUP), by result: applied, unchanged, invalid, needs_restart or failed.',
        labelNames: ['result'],
        registers,
      }),
      successful: new Gauge({ name: 'gridgate_config_last_reload_successful', help: '1 if the last reload was applied or found nothing to change (1 at start).', registers }),
      at: new Gauge({ name: 'gridgate_config_last_reload_timestamp_seconds', help: 'When the last reload finished (or the gateway started).', registers }),
    };
    this.#m.successful.set(1);
    this.#m.at.set(Date.now() / 1000);
  }

  /** The config in force: the start's, or the last reload's. */
  get running(): SiteConfig {
    return this.#running;
  }

  /** Reload now, or once more after the reload under way. Never throws. */
  reload(): Promise<ReloadResult> {
    if (this.#busy) {
      this.#again = true;
      return this.#busy;
    }
    this.#busy = (async () => {
      let result: ReloadResult;
      do {
        this.#again = false;
        result = await this.#reloadOnce();
      } while (this.#again);
      this.#busy = undefined;
      return result;
    })();
    return this.#busy;
  }

  async #reloadOnce(): Promise<ReloadResult> {
    this.#detail = [];
    const result = await this.#apply().catch((err: unknown) => {
      this.#o.log.error({ err, code: 'GW_ERR_RELOAD' }, 'config reload failed');
      this.#detail.push((err as Error).message);
      return 'failed' as const;
    });
    this.#m.reloads.inc({ result });
    this.#m.successful.set(result === 'applied' || result === 'unchanged' ? 1 : 0);
    this.#m.at.set(Date.now() / 1000);
    const stateDir = this.#running.state?.dir;
    if (stateDir) {
      await writeReloadReport(stateDir, { pid: process.pid, atMs: Date.now(), result, detail: this.#detail }).catch((err: unknown) =>
        this.#o.log.warn({ err }, 'cannot write the reload report for `gridgate reload`'),
      );
    }
    this.#o.onDone?.(result);
    return result;
  }

  async #apply(): Promise<ReloadResult> {
    const { file, daemon, graph, log } = this.#o;
    let next: SiteConfig;
    try {
      next = await loadConfig(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.#detail = err.problems.map(formatProblem);
      log.error({ code: err.code, file, problems: this.#detail }, 'config reload rejected: invalid config, keeping the running one');
      return 'invalid';
    }
    const plan = planReload({ config: this.#running, analytics: graph.analyticsSources, topics: graph.topics, hasPipeline: graph.makeSource !== undefined }, next);
    if (plan.needsRestart.length > 0) {
      this.#detail = plan.needsRestart;
      log.warn({ code: 'GW_ERR_RELOAD', file, sections: plan.needsRestart }, 'config reload needs a restart');
      return 'needs_restart';
    }
    if (plan.changed.length === 0) {
      log.info({ file }, 'config reloaded: nothing changed');
      return 'unchanged';
    }

    if (plan.logLevel) log.level = plan.logLevel;
    if (plan.drainTimeoutMs !== undefined) daemon.drainTimeoutMs = plan.drainTimeoutMs;
    const failed: string[] = [];
    if (plan.http) {
      try {
        await daemon.replace(this.#http, this.#healthServer(next));
      } catch (err) {
        // The new address cannot be bound: serve on the old one again and report the reload failed.
        log.error({ err, code: 'GW_ERR_RELOAD' }, 'metrics server failed to start after a reload; back on the previous address');
        await daemon.replace(undefined, this.#healthServer(this.#running));
        failed.push('http');
        next = { ...next, http: this.#running.http };
      }
    }
    for (const name of plan.removed) {
      await daemon.replace(this.#sources.get(name), undefined);
      this.#sources.delete(name);
      await this.#forgetGauges(name);
    }
    for (const source of [...plan.restarted, ...plan.added]) {
      const entry = analyticsEntry(source);
      if (entry) graph.analyticsSources.set(source.name, entry);
      const component = graph.makeSource!(source);
      try {
        await daemon.replace(this.#sources.get(source.name), component);
        this.#sources.set(source.name, component);
      } catch (err) {
        // Its old instance is stopped: leave it out, so the next reload tries it as new.
        this.#sources.delete(source.name);
        failed.push(source.name);
        log.error({ err, code: 'GW_ERR_RELOAD', source: source.name }, 'source failed to start after a reload; the next reload retries it');
      }
    }
    this.#running = { ...next, sources: next.sources.filter((s) => !failed.includes(s.name)) };
    this.#detail = [...plan.changed, ...failed.map((name) => `${name}: failed to start`)];
    log.info({ file, changed: plan.changed, ...(failed.length > 0 ? { failed } : {}) }, 'config reloaded');
    return failed.length === 0 ? 'applied' : 'failed';
  }

  /**
   * A removed source's per-source gauges (connected, stale, …) would otherwise keep their last
   * value, and an alert on them would fire until the next restart. Counters stay: their totals
   * are history, and Prometheus treats a vanished counter as the end of its series anyway.
   */
  async #forgetGauges(source: string): Promise<void> {
    for (const metric of this.#o.registry.getMetricsAsArray()) {
      if (!(metric instanceof Gauge)) continue;
      for (const { labels } of (await metric.get()).values) if (labels['source'] === source) metric.remove(labels);
    }
  }

  #healthServer(config: SiteConfig): HealthServer {
    const { daemon, registry, log } = this.#o;
    this.#http = new HealthServer(config.http, registry, () => daemon.readiness(), log.child({ component: 'http' }));
    return this.#http;
  }
}
