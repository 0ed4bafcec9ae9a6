import type { Registry } from 'prom-client';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import type { Component, Readiness } from './component.js';

// The component graph of one site, in start order. Factories are pure: no sockets or timers until
// start(). Sources, the pipeline and the spool join here as their issues land: the spool and the
// pipeline between the sink and the sources, the sources last (an explicit map from source type to
// factory in src/protocols/, never registration by import side effect).

export interface Graph {
  components: Component[];
  http: HealthServer;
  sink: KafkaSink;
}

export function buildGraph(
  config: SiteConfig,
  log: Logger,
  registry: Registry,
  readiness: () => Record<string, Readiness>,
): Graph {
  const child = (component: string): Logger => log.child({ component });
  const http = new HealthServer(config.http, registry, readiness, child('http'));
  const sink = new KafkaSink({ config: config.kafka, site: config.site, log: child('kafka-sink'), registry });
  return { components: [http, sink], http, sink };
}
