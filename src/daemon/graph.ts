import type { Registry } from 'prom-client';
import { SpoolComponent } from '../buffer/component.js';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import type { Component, Readiness } from './component.js';

// The component graph of one site, in start order. Factories are pure: no sockets or timers until
// start(). The pipeline and the sources join here as their issues land, after the sink, the
// sources last (an explicit map from source type to
// factory in src/protocols/, never registration by import side effect).

export interface Graph {
  components: Component[];
  http: HealthServer;
  sink: KafkaSink;
  spool: SpoolComponent | undefined;
}

export function buildGraph(
  config: SiteConfig,
  log: Logger,
  registry: Registry,
  readiness: () => Record<string, Readiness>,
): Graph {
  const child = (component: string): Logger => log.child({ component });
  const http = new HealthServer(config.http, registry, readiness, child('http'));
  const spool = config.spool ? new SpoolComponent(config.spool, child('spool'), registry) : undefined;
  const sink = new KafkaSink({ config: config.kafka, site: config.site, log: child('kafka-sink'), registry, spool });
  // The spool opens before the sink and closes after it, so the sink can spill what Kafka has not
  // confirmed at shutdown into a spool that is still open.
  return { components: spool ? [http, spool, sink] : [http, sink], http, sink, spool };
}
