import type { Registry } from 'prom-client';
import { SpoolComponent } from '../buffer/component.js';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { createSource } from '../protocols/index.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import type { Component, Readiness } from './component.js';

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
  const extraTopics = config.sources.flatMap((s) => [s.topics?.records, s.topics?.deadLetter].filter((t): t is string => t !== undefined));
  const sink = new KafkaSink({ config: config.kafka, site: config.site, log: child('kafka-sink'), registry, spool, extraTopics });
  // The spool opens before the sink and closes after it, so the sink can spill what Kafka has not
  // confirmed at shutdown into a spool that is still open.
  const components: Component[] = spool ? [http, spool, sink] : [http, sink];
  const sources: Component[] = [];
  let pipeline: Pipeline | undefined;
  if (config.sources.length > 0) {
    // The schema requires state and spool whenever there are sources.
    pipeline = new Pipeline({
      site: config.site,
      stateDir: config.state!.dir,
      topics: config.kafka.topics,
      offer: (entries) => sink.offer(entries),
      analytics: {
        config: config.analytics,
        // The sources whose records feed the analytics: every PMU, and SCADA sources that opt in.
        sources: new Map(
          config.sources.flatMap((s) =>
            s.type === 'c37118' ? [[s.name, { settings: s.analytics, idcode: s.idcode }] as const] : s.analytics === 'features' ? [[s.name, {}] as const] : [],
          ),
        ),
      },
      log: child('pipeline'),
      registry,
    });
    components.push(pipeline);
    const p = pipeline;
    for (const source of config.sources) {
      sources.push(
        createSource(source, {
          log: child(`source-${source.name}`, { source: source.name }),
          registry,
          emit: p.emitter(source.name, source.topics),
          onResume: (resume) => p.onResume(resume),
          stateDir: config.state!.dir,
          ...(configFile ? { configFile } : {}),
        }),
      );
    }
    components.push(...sources);
  }
  return { components, http, sink, spool, pipeline, sources };
}
