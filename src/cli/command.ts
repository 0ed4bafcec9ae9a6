import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GatewayError } from '../errors.js';

// The shape every subcommand has, and strict flag parsing that turns node's errors into usage
// errors (exit 64) naming the command.

export interface Command {
  /** One line for `gridgate --help`. */
  summary: string;
  /** The command's own `--help` text. */
  usage: string;
  run(args: string[]): Promise<number>;
}

export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  } catch (err) {
    throw new GatewayError('GW_ERR_USAGE', `${command}: ${(err as Error).message}`, { cause: err });
  }
}
