import type { Registry } from 'prom-client';
import { SpoolComponent } from '../buffer/component.js';
import type { SiteConfig } from '../config/site-schema.js';
import { HealthServer } from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import type { Component, Readiness } from './component.js';

// The component graph of one site, in start order. Factories are pure: no sockets or timers until
// start(). The pipeline and the sources join here as their issues land, after the spool, the
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
  const sink = new KafkaSink({ config: config.kafka, site: config.site, log: child('kafka-sink'), registry });
  const spool = config.spool ? new SpoolComponent(config.spool, child('spool'), registry) : undefined;
  return { components: spool ? [http, sink, spool] : [http, sink], http, sink, spool };
}
