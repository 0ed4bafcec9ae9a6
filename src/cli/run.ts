import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/problems.js';
import { Daemon } from '../daemon/daemon.js';
import { buildGraph } from '../daemon/graph.js';
import { GatewayError, codeOf } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { VERSION } from '../version.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate run --config FILE`: load and validate the config, build the graph, start it, and stop
// it in reverse on SIGTERM/SIGINT within shutdown.drainTimeoutMs. A second signal exits at once.
// An uncaught exception is a bug: it is logged with its stack, the graph is stopped with the same
// bounded drain, and the exit status (70) tells systemd to restart.

export const runCommand: Command = {
  summary: 'run --config FILE      run the gateway for one site until SIGTERM/SIGINT',
  usage: `Usage: gridgate run --config FILE

Runs the gateway for the site described by FILE. Logs are JSON lines on stdout.
Stops on SIGTERM or SIGINT, draining within shutdown.drainTimeoutMs; a second signal exits at once.
Exit status: 0 stopped cleanly, 1 failed to start or could not drain in time, 64 usage error,
70 internal error (a bug; safe to restart), 78 invalid config (restarting cannot help).`,

  async run(args) {
    const { values } = parseCommandArgs('run', args, { config: { type: 'string', short: 'c' } });
    const file = values.config;
    if (typeof file !== 'string') throw new GatewayError('GW_ERR_USAGE', 'run: --config FILE is required');

    let config;
    try {
      config = await loadConfig(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.report()}\n${file}: invalid config, not starting [${err.code}]\n`);
      return EXIT.CONFIG;
    }

    const log = createLogger(config.log, { site: config.site });
    const registry = createMetrics();
    const graph = buildGraph(config, log, registry, () => daemon.readiness(), file);
    const daemon = new Daemon(graph.components, log, config.shutdown.drainTimeoutMs);

    let crashed = false;
    const stopRequested = new Promise<string>((resolve) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting without waiting for the drain');
          process.exit(EXIT.FAILURE);
        }
        stopping = true;
        resolve(signal);
      };
      const onCrash = (err: unknown, origin: string): void => {
        log.fatal({ err, origin, code: codeOf(err) }, 'uncaught error: stopping (this is a bug, please report it)');
        crashed = true;
        if (!stopping) {
          stopping = true;
          resolve(origin);
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', (reason) => onCrash(reason, 'unhandledRejection'));
    });

    try {
      await daemon.start();
    } catch (err) {
      const code = codeOf(err);
      log.fatal({ err, code }, 'gridgate failed to start');
      return code === 'GW_ERR_KAFKA_FEATURE' ? EXIT.CONFIG : EXIT.FAILURE;
    }
    log.info({ version: VERSION, node: process.versions.node, config: file, httpPort: graph.http.port }, 'gridgate started');

    const reason = await stopRequested;
    log.info({ reason, drainTimeoutMs: config.shutdown.drainTimeoutMs }, 'stopping');
    const result = await daemon.stop();
    log.info({ clean: result.clean, failed: result.failed }, 'gridgate stopped');
    if (crashed) return EXIT.SOFTWARE;
    return result.clean ? EXIT.OK : EXIT.FAILURE;
  },
};
