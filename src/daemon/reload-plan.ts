import type { SiteConfig } from '../config/site-schema.js';
import { Secret } from '../config/secret.js';
import type { SourceAnalytics } from '../pipeline/analytics/config.js';

type SourceConfig = SiteConfig['sources'][number];

// What a SIGHUP with a new, valid config changes, and whether it can be applied in place. Pure:
// two configs in, a plan out (src/daemon/reloader.ts applies it).
//
// Applied in place: log.level, shutdown, http (the metrics server restarts), and sources added,
// removed or changed (only those restart; the rest keep their connections). Everything else
// (site, kafka, spool, state, analytics) is what every record passes through: changing it under
// a running stream would mix two configurations in one epoch, so the plan says "restart" and the
// reload applies nothing. A restart drains to the spool and loses nothing.

export interface AnalyticsEntry {
  settings?: SourceAnalytics;
  idcode?: number;
}

export interface ReloadPlan {
  /** Keys whose change needs a restart (`kafka`, `sources.pmu-1.analytics`); when any, nothing is applied. */
  needsRestart: string[];
  /** Keys applied, for the log line (`log.level`, `sources.pmu-2 (added)`). */
  changed: string[];
  logLevel?: SiteConfig['log']['level'];
  drainTimeoutMs?: number;
  http: boolean;
  added: SourceConfig[];
  removed: string[];
  restarted: SourceConfig[];
}

/** The analytics settings of the sources that feed them (every PMU; SCADA sources that opt in). */
export function analyticsEntry(source: SourceConfig): AnalyticsEntry | undefined {
  if (source.type === 'c37118') return { ...(source.analytics ? { settings: source.analytics } : {}), idcode: source.idcode };
  return source.analytics === 'features' ? {} : undefined;
}

/** The topics a source writes to besides the site's own: the sink checks them at start. */
export function sourceTopics(source: SourceConfig): string[] {
  return [source.topics?.records, source.topics?.deadLetter].filter((t): t is string => t !== undefined);
}

export interface RunningState {
  config: SiteConfig;
  /** Every source's analytics entry since start (removed sources' too: their streams' windows remain). */
  analytics: ReadonlyMap<string, AnalyticsEntry>;
  /** Topics the sink knows about. */
  topics: ReadonlySet<string>;
  /** False when the gateway started without sources, so without a pipeline to attach one to. */
  hasPipeline: boolean;
}

export function planReload(running: RunningState, next: SiteConfig): ReloadPlan {
  const old = running.config;
  const plan: ReloadPlan = { needsRestart: [], changed: [], http: false, added: [], removed: [], restarted: [] };
  for (const key of ['site', 'kafka', 'spool', 'state', 'analytics'] as const) {
    if (!same(old[key], next[key])) plan.needsRestart.push(key);
  }
  if (old.log.level !== next.log.level) {
    plan.logLevel = next.log.level;
    plan.changed.push('log.level');
  }
  if (old.shutdown.drainTimeoutMs !== next.shutdown.drainTimeoutMs) {
    plan.drainTimeoutMs = next.shutdown.drainTimeoutMs;
    plan.changed.push('shutdown.drainTimeoutMs');
  }
  if (!same(old.http, next.http)) {
    plan.http = true;
    plan.changed.push('http');
  }

  const before = new Map(old.sources.map((s) => [s.name, s]));
  const after = new Set(next.sources.map((s) => s.name));
  for (const source of next.sources) {
    const previous = before.get(source.name);
    if (previous && same(previous, source)) continue;
    const entry = analyticsEntry(source);
    const known = running.analytics.get(source.name);
    if (known !== undefined && entry !== undefined && !same(known, entry)) plan.needsRestart.push(`sources.${source.name}.analytics`);
    for (const topic of sourceTopics(source)) if (!running.topics.has(topic)) plan.needsRestart.push(`sources.${source.name}.topics (${topic})`);
    if (previous) {
      plan.restarted.push(source);
      plan.changed.push(`sources.${source.name} (changed)`);
    } else {
      plan.added.push(source);
      plan.changed.push(`sources.${source.name} (added)`);
    }
  }
  if (!running.hasPipeline && plan.added.length > 0) plan.needsRestart.push('sources (the gateway started without any)');
  for (const name of before.keys()) {
    if (after.has(name)) continue;
    plan.removed.push(name);
    plan.changed.push(`sources.${name} (removed)`);
  }
  return plan;
}

/**
 * Deep equality over a loaded config: plain data plus Secret values, compared by what they hold
 * (util.isDeepStrictEqual sees only a Secret's public fields, so a new password would look unchanged).
 */
export function same(a: unknown, b: unknown): boolean {
  if (a instanceof Secret || b instanceof Secret) return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal();
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && same((a as Record<string, unknown>)[k], rb[k]));
}
