import { setTimeout as sleep } from 'node:timers/promises';
import { readReloadReport } from '../daemon/reload-report.js';
import { GatewayError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';
import { flagReaders } from './flag-readers.js';
import { loadSiteConfig } from './site-config.js';

// `gridgate reload --config FILE --pid PID`: systemd's ExecReload. Validates FILE first (a bad
// file is never signalled), sends SIGHUP to the running gateway, and waits for its reload report
// (src/daemon/reload-report.ts), so `systemctl reload` returns once the reload is applied, and
// fails when it was not.

const POLL_MS = 50;

export const reloadCommand: Command = {
  summary: 'reload --config FILE --pid PID   validate, SIGHUP the gateway, wait for the result',
  usage: `Usage: gridgate reload --config FILE --pid PID [--timeout-ms N]

Validates FILE (as check-config does); if valid, sends SIGHUP to the gateway process PID (systemd:
$MAINPID) and waits until it reports the reload done, at most --timeout-ms (default 60000).
Prints what was applied, or why not.
Exit status: 0 applied (or nothing changed), 1 invalid, needs a restart, failed or timed out,
64 usage error.`,

  async run(args) {
    const { values } = parseCommandArgs('reload', args, {
      config: { type: 'string', short: 'c' },
      pid: { type: 'string' },
      'timeout-ms': { type: 'string' },
    });
    const flags = flagReaders<'config' | 'pid' | 'timeout-ms'>('reload', values);
    const file = flags.str('config');
    const pid = flags.integer('pid');
    if (file === undefined || pid === undefined || pid <= 1) throw new GatewayError('GW_ERR_USAGE', 'reload: --config FILE and --pid PID (the gateway, not init) are required');
    const timeoutMs = flags.integer('timeout-ms') ?? 60_000;

    const config = await loadSiteConfig(file, 'invalid config, not reloading');
    if (!config) return EXIT.FAILURE;
    const stateDir = config.state?.dir;
    const sentAt = Date.now();
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      process.stderr.write(`reload: cannot signal process ${pid}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return EXIT.FAILURE;
    }
    if (!stateDir) {
      process.stdout.write(`${file}: SIGHUP sent to ${pid} (no state.dir, so no reload report to wait for: see the log)\n`);
      return EXIT.OK;
    }
    for (const deadline = sentAt + timeoutMs; Date.now() < deadline; await sleep(POLL_MS)) {
      const report = await readReloadReport(stateDir);
      if (!report || report.pid !== pid || report.atMs < sentAt) continue;
      const ok = report.result === 'applied' || report.result === 'unchanged';
      const lines = report.detail.map((d) => `  ${d}`).join('\n');
      (ok ? process.stdout : process.stderr).write(`${file}: reload ${report.result.replace('_', ' ')}${lines ? `\n${lines}` : ''}\n`);
      return ok ? EXIT.OK : EXIT.FAILURE;
    }
    process.stderr.write(`${file}: process ${pid} did not report a reload within ${timeoutMs} ms (see its log)\n`);
    return EXIT.FAILURE;
  },
};
