import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/problems.js';
import { GatewayError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { parseCommandArgs, type Command } from './command.js';

// `gridgate check-config FILE`: systemd's ExecStartPre and an operator's first check. It reads and
// validates only: no sockets, no state directory, nothing started.

export const checkConfigCommand: Command = {
  summary: 'check-config FILE      validate a site config (no network); exit 0 valid, 1 invalid',
  usage: `Usage: gridgate check-config FILE

Validates FILE against the site schema, with \${ENV_VAR} references resolved from the environment
(so run it with the service's environment). Prints every problem as
  file:line:column key.path: message
Exit status: 0 valid, 1 invalid or unreadable, 64 usage error. Starts nothing, opens no socket.`,

  async run(args) {
    const { positionals } = parseCommandArgs('check-config', args, {}, true);
    if (positionals.length !== 1) throw new GatewayError('GW_ERR_USAGE', 'check-config: expected exactly one FILE');
    const file = positionals[0] as string;
    try {
      const config = await loadConfig(file);
      process.stdout.write(`${file}: ok (site ${config.site})\n`);
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const n = err.problems.length;
      process.stderr.write(`${err.report()}\n${file}: ${n} problem${n === 1 ? '' : 's'} [${err.code}]\n`);
      return EXIT.FAILURE;
    }
  },
};
