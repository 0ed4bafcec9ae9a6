import { GatewayError, codeOf } from '../errors.js';
import { VERSION } from '../version.js';
import { checkConfigCommand } from './check-config.js';
import { decodeCommand } from './decode.js';
import { opcuaCommand } from './opcua.js';
import { probeCommand } from './probe.js';
import { reloadCommand } from './reload.js';
import type { Command } from './command.js';
import { EXIT } from './exit-codes.js';
import { runCommand } from './run.js';
import { simulateCommand } from './simulate.js';
import { spoolCommand } from './spool.js';
import { systemdDropinCommand } from './systemd-dropin.js';
import { verifyTopicCommand } from './verify-topic.js';

// The dispatcher: `gridgate <command> [args]`. Commands are an explicit table; simulate, decode
// and probe join it with their issues.

export const COMMANDS: Readonly<Record<string, Command>> = {
  run: runCommand,
  'check-config': checkConfigCommand,
  reload: reloadCommand,
  'systemd-dropin': systemdDropinCommand,
  spool: spoolCommand,
  'verify-topic': verifyTopicCommand,
  decode: decodeCommand,
  probe: probeCommand,
  simulate: simulateCommand,
  opcua: opcuaCommand,
};

export function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.summary}`);
  return `gridgate ${VERSION}: substation edge gateway (C37.118, Modbus, OPC UA to Kafka)

Usage: gridgate <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help             this help; gridgate <command> --help for a command's own
  -V, --version          print the version

Exit status: 0 ok, 1 failure (check-config: invalid), 64 usage error, 70 internal error,
78 invalid config (run). Docs: README.md, docs/config.md, docs/errors.md.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`gridgate: unknown command "${name}"\n\n${usage()}`);
    return EXIT.USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT.OK;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_USAGE') {
      process.stderr.write(`gridgate ${err.message}\nTry: gridgate ${name} --help\n`);
      return EXIT.USAGE;
    }
    if (err instanceof GatewayError && err.code !== 'GW_ERR_INTERNAL') {
      // An expected failure (a missing topic, an unreachable broker): one line an operator can act on.
      process.stderr.write(`gridgate ${name}: ${err.message} [${err.code}]\n`);
      return EXIT.FAILURE;
    }
    process.stderr.write(`gridgate ${name}: ${codeOf(err)}: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.SOFTWARE;
  }
}
