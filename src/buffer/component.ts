import type { Registry } from 'prom-client';
import type { Component, Readiness } from '../daemon/component.js';
import type { Logger } from '../observability/logger.js';
import type { SpoolConfig } from './config.js';
import { createSpoolMetrics } from './metrics.js';
import { Spool } from './spool.js';

// The spool as a daemon component: opened (and recovered) at start, before the pipeline and the
// sources, closed at stop after them, so that everything appended is written, synced and its
// ledger persisted before the process exits. The Kafka sink (issue #5) appends to it and drains it.

export class SpoolComponent implements Component {
  readonly name = 'spool';
  readonly #config: SpoolConfig;
  readonly #log: Logger;
  readonly #metrics: ReturnType<typeof createSpoolMetrics>;
  #spool: Spool | undefined;

  constructor(config: SpoolConfig, log: Logger, registry: Registry) {
    this.#config = config;
    this.#log = log;
    this.#metrics = createSpoolMetrics(registry, () => this.#spool);
  }

  /** The open spool; undefined before start and after stop. */
  get spool(): Spool | undefined {
    return this.#spool;
  }

  async start(): Promise<void> {
    this.#spool = await Spool.open(this.#config, { log: this.#log, metrics: this.#metrics });
  }

  async stop(): Promise<void> {
    const spool = this.#spool;
    this.#spool = undefined;
    await spool?.close();
  }

  readiness(): Readiness {
    return this.#spool ? { ready: true } : { ready: false, detail: 'not open' };
  }
}
