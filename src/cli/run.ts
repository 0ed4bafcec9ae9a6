import { Daemon } from '../daemon/daemon.js';
import { buildGraph } from '../daemon/graph.js';
import { Reloader } from '../daemon/reloader.js';
import { statusLine } from '../daemon/status-line.js';
import { SystemdNotifier } from '../daemon/systemd-notify.js';
import { GatewayError, codeOf } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { VERSION } from '../version.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';
import { loadSiteConfig } from './site-config.js';

// `gridgate run --config FILE`: load and validate the config, build the graph, start it, and stop
// it in reverse on SIGTERM/SIGINT within shutdown.drainTimeoutMs. A second signal exits at once.
// SIGHUP reloads the config (src/daemon/reloader.ts). An uncaught exception is a bug: it is logged
// with its stack, the graph is stopped with the same bounded drain, and the exit status (70) tells
// systemd to restart. Under a Type=notify unit, systemd hears READY=1 once started, a STATUS= line
// every few seconds, WATCHDOG=1 pings, RELOADING=1/READY=1 around a reload and STOPPING=1.

const STATUS_INTERVAL_MS = 5000;

export const runCommand: Command = {
  summary: 'run --config FILE      run the gateway for one site until SIGTERM/SIGINT',
  usage: `Usage: gridgate run --config FILE

Runs the gateway for the site described by FILE. Logs are JSON lines on stdout.
Stops on SIGTERM or SIGINT, draining within shutdown.drainTimeoutMs; a second signal exits at once.
SIGHUP reloads FILE: applied if valid, restarting only the sources (or metrics server) that
changed; an invalid file, or a change that needs a restart, leaves the running config in force.
Exit status: 0 stopped cleanly, 1 failed to start or could not drain in time, 64 usage error,
70 internal error (a bug; safe to restart), 78 invalid config (restarting cannot help).`,

  async run(args) {
    const { values } = parseCommandArgs('run', args, { config: { type: 'string', short: 'c' } });
    const file = values.config;
    if (typeof file !== 'string') throw new GatewayError('GW_ERR_USAGE', 'run: --config FILE is required');

    const config = await loadSiteConfig(file, 'invalid config, not starting');
    if (!config) return EXIT.CONFIG;

    const log = createLogger(config.log, { site: config.site });
    const registry = createMetrics();
    const graph = buildGraph(config, log, registry, () => daemon.readiness(), file);
    const daemon = new Daemon(graph.components, log, config.shutdown.drainTimeoutMs);
    const notifier = new SystemdNotifier(log);
    notifier.startWatchdog();
    const status = (): Promise<string> => statusLine(registry, daemon.readiness());
    const reloader = new Reloader({
      file,
      daemon,
      graph,
      config,
      log,
      registry,
      onDone: (result) => void status().then((line) => notifier.ready(`${line} (reload: ${result})`)),
    });

    let crashed = false;
    let started = false;
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
      // Until started, a reload has nothing to apply to: the start reads the file anyway.
      process.on('SIGHUP', () => {
        if (!started || stopping) return;
        notifier.reloading();
        void reloader.reload();
      });
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
    started = true;
    log.info({ version: VERSION, node: process.versions.node, nodeFlags: process.execArgv, config: file, httpPort: graph.http.port }, 'gridgate started');
    notifier.ready(await status());
    const statusTimer = setInterval(() => void status().then((line) => notifier.status(line)), STATUS_INTERVAL_MS).unref();

    const reason = await stopRequested;
    clearInterval(statusTimer);
    notifier.stopping(`stopping (${reason}): draining within ${daemon.drainTimeoutMs} ms`);
    log.info({ reason, drainTimeoutMs: daemon.drainTimeoutMs }, 'stopping');
    const result = await daemon.stop();
    log.info({ clean: result.clean, failed: result.failed }, 'gridgate stopped');
    notifier.close();
    if (crashed) return EXIT.SOFTWARE;
    return result.clean ? EXIT.OK : EXIT.FAILURE;
  },
};
