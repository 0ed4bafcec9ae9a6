import type { Registry } from 'prom-client';
import { SpoolComponent } from '../buffer/component.js';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { createSource } from '../protocols/index.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import { configuredTopics } from '../sinks/kafka/topics.js';
import type { Component, Readiness } from './component.js';
import { analyticsEntry, sourceTopics, type AnalyticsEntry } from './reload-plan.js';

type SourceConfig = SiteConfig['sources'][number];

// The component graph of one site, in start order: the downstream end first, so nothing produces
// into a stage that is not there yet, and the sources last (an explicit map from source type to
// factory in src/protocols/index.ts). Factories are pure: no sockets or timers until start().

export interface Graph {
  components: Component[];
  http: HealthServer;
  sink: KafkaSink;
  spool: SpoolComponent | undefined;
  pipeline: Pipeline | undefined;
  sources: Component[];
  /** Builds a source wired to this graph's pipeline (at start, and for a reload). */
  makeSource: ((config: SourceConfig) => Component) | undefined;
  /** The analytics' view of the sources; a reload adds new sources to it. */
  analyticsSources: Map<string, AnalyticsEntry>;
  /** Topics the sink checks at start: a source's override must be one of them. */
  topics: Set<string>;
}

export function buildGraph(
  config: SiteConfig,
  log: Logger,
  registry: Registry,
  readiness: () => Record<string, Readiness>,
  configFile?: string,
): Graph {
  const child = (component: string, extra: Record<string, string> = {}): Logger => log.child({ component, ...extra });
  const http = new HealthServer(config.http, registry, readiness, child('http'));
  const spool = config.spool ? new SpoolComponent(config.spool, child('spool'), registry) : undefined;
  const extraTopics = config.sources.flatMap(sourceTopics);
  const sink = new KafkaSink({ config: config.kafka, site: config.site, log: child('kafka-sink'), registry, spool, extraTopics });
  // The spool opens before the sink and closes after it, so the sink can spill what Kafka has not
  // confirmed at shutdown into a spool that is still open.
  const components: Component[] = spool ? [http, spool, sink] : [http, sink];
  const sources: Component[] = [];
  const analyticsSources = new Map(
    config.sources.flatMap((s) => {
      const entry = analyticsEntry(s);
      return entry ? [[s.name, entry] as const] : [];
    }),
  );
  let pipeline: Pipeline | undefined;
  let makeSource: Graph['makeSource'];
  if (config.sources.length > 0) {
    // The schema requires state and spool whenever there are sources.
    pipeline = new Pipeline({
      site: config.site,
      stateDir: config.state!.dir,
      topics: config.kafka.topics,
      encoding: config.kafka.encoding,
      offer: (entries) => sink.offer(entries),
      analytics: {
        config: config.analytics,
        // The sources whose records feed the analytics: every PMU, and SCADA sources that opt in.
        sources: analyticsSources,
      },
      log: child('pipeline'),
      registry,
    });
    components.push(pipeline);
    const p = pipeline;
    makeSource = (source) =>
      createSource(source, {
        log: child(`source-${source.name}`, { source: source.name }),
        registry,
        emit: p.emitter(source.name, source.topics),
        onResume: (resume) => p.onResume(resume),
        stateDir: config.state!.dir,
        ...(configFile ? { configFile } : {}),
      });
    sources.push(...config.sources.map(makeSource));
    components.push(...sources);
  }
  return { components, http, sink, spool, pipeline, sources, makeSource, analyticsSources, topics: new Set([...configuredTopics(config.kafka), ...extraTopics]) };
}
