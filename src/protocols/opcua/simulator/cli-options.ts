import { parseCommandArgs } from '../../../cli/command.js';
import { flagReaders } from '../../../cli/flag-readers.js';
import { GatewayError } from '../../../errors.js';
import { LOG_LEVELS } from '../../../observability/config.js';
import { defaultPkiDir, type OpcuaSimulatorOptions } from './options.js';
import { PASSWORD_ENV } from './usage.js';

// `gridgate simulate opcua` flags (usage.ts) to OpcuaSimulatorOptions. Only the shape of each
// value is checked here; ranges are resolveOptions' job, so the CLI and the API refuse the same
// things. The password of --user comes from the environment: a flag would show in `ps`.

const FLAGS = {
  listen: { type: 'string' },
  pki: { type: 'string' },
  security: { type: 'string' },
  'trust-clients': { type: 'string' },
  user: { type: 'string' },
  'no-anonymous': { type: 'boolean' },
  tags: { type: 'string' },
  'update-ms': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate opcua: ${message}`);

export interface OpcuaCli {
  options: OpcuaSimulatorOptions;
  logLevel: (typeof LOG_LEVELS)[number];
}

export async function opcuaOptionsFromArgs(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<OpcuaCli> {
  const { values: v } = parseCommandArgs('simulate opcua', args, FLAGS);
  const { str, integer, choice, endpoint } = flagReaders<keyof typeof FLAGS>('simulate opcua', v);
  const user = str('user');
  const noAnonymous = v['no-anonymous'] === true;
  let users: Record<string, string> | undefined;
  if (user !== undefined) {
    const password = env[PASSWORD_ENV];
    if (!password) throw usage(`--user ${user} needs its password in the environment variable ${PASSWORD_ENV}`);
    users = { [user]: password };
  }
  if (noAnonymous && user === undefined) throw usage('--no-anonymous needs --user (nobody could log in)');
  const listen = endpoint('listen');
  const options: OpcuaSimulatorOptions = {
    host: listen?.host,
    port: listen?.port,
    pkiDir: str('pki') ?? defaultPkiDir(env),
    security: choice('security', ['secure', 'all'] as const),
    trustClients: choice('trust-clients', ['all', 'pki'] as const),
    allowAnonymous: !noAnonymous,
    users,
    tags: integer('tags'),
    updateMs: integer('update-ms'),
  };
  return { options, logLevel: choice('log-level', LOG_LEVELS) ?? 'info' };
}
