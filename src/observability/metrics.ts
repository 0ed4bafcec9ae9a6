import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';

// One Prometheus registry per daemon (never prom-client's global one, so tests and future reloads
// start clean). Process and Node metrics use their standard names (process_*, nodejs_*, including
// nodejs_eventloop_lag_p99_seconds); gridgate's own start with gridgate_. No site label: the scrape
// target carries it.

export function createMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const build = new Gauge({
    name: 'gridgate_build_info',
    help: 'Always 1; labels say which gridgate and Node.js run.',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  build.set({ version: VERSION, node: process.versions.node }, 1);
  return registry;
}
