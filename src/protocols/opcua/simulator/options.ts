import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { GatewayError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';

// The simulator's options, their defaults and bounds, checked once at start. The CLI
// (cli-options.ts) and tests build these; everything downstream receives ResolvedOptions.

export type SecurityChoice = 'secure' | 'all';
export type TrustClients = 'all' | 'pki';

export interface OpcuaSimulatorOptions {
  /** Listen address; default 127.0.0.1. 0.0.0.0 or :: listen everywhere (endpoints then carry the FQDN). */
  host?: string;
  /** TCP port; default 4840; 0 = any free port. */
  port?: number;
  /**
   * Server PKI root (node-opcua's layout: own/, trusted/, rejected/, issuers/). The server's
   * certificate and key are created there once and reused by every later start.
   */
  pkiDir: string;
  /** secure (default): Sign and SignAndEncrypt with the three current policies; all: also None. */
  security?: SecurityChoice;
  /** Anonymous sessions; default true. */
  allowAnonymous?: boolean;
  /** Username → password for UserName tokens. */
  users?: Record<string, string>;
  /** all (default): accept any valid client certificate, log its thumbprint; pki: only those in pkiDir/trusted. */
  trustClients?: TrustClients;
  /** Synthetic tags Sim.Tag00001…; default 0. */
  tags?: number;
  /** How often every value is updated, ms; default 100. */
  updateMs?: number;
  /** How long clients see ServerState Shutdown before the sockets close, ms; default 100 (node-opcua's). */
  shutdownDelayMs?: number;
  log?: Logger;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  pkiDir: string;
  security: SecurityChoice;
  allowAnonymous: boolean;
  users: ReadonlyMap<string, string>;
  trustClients: TrustClients;
  tags: number;
  updateMs: number;
  shutdownDelayMs: number;
  log: Logger;
}

export const DEFAULT_PORT = 4840;
export const MAX_TAGS = 100_000;

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate opcua: ${message}`);

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw usage(`${name} must be an integer from ${min} to ${max} (got ${v})`);
  return v;
}

function oneOf<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  const v = value ?? fallback;
  if (!allowed.includes(v)) throw usage(`${name} must be ${allowed.join(' or ')} (got ${v})`);
  return v;
}

export function resolveOptions(o: OpcuaSimulatorOptions): ResolvedOptions {
  if (typeof o.pkiDir !== 'string' || o.pkiDir === '') throw usage('a PKI folder (pkiDir) is required');
  const users = new Map(Object.entries(o.users ?? {}));
  for (const [name, password] of users) {
    if (name === '' || typeof password !== 'string' || password === '') throw usage(`user "${name}" needs a non-empty name and password`);
  }
  const allowAnonymous = o.allowAnonymous ?? true;
  if (!allowAnonymous && users.size === 0) throw usage('without anonymous sessions and without users nobody can log in');
  return {
    host: o.host ?? '127.0.0.1',
    port: int('the port', o.port, DEFAULT_PORT, 0, 0xffff),
    pkiDir: o.pkiDir,
    security: oneOf('security', o.security, 'secure', ['secure', 'all']),
    allowAnonymous,
    users,
    trustClients: oneOf('trustClients', o.trustClients, 'all', ['all', 'pki']),
    tags: int('the synthetic tag count', o.tags, 0, 0, MAX_TAGS),
    updateMs: int('the update interval (ms)', o.updateMs, 100, 10, 3_600_000),
    shutdownDelayMs: int('the shutdown delay (ms)', o.shutdownDelayMs, 100, 0, 60_000),
    log: o.log ?? pino({ level: 'silent' }),
  };
}

/** ${XDG_STATE_HOME:-~/.local/state}/gridgate/opcua-simulator/pki: kept across runs, so clients keep trusting it. */
export function defaultPkiDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'gridgate', 'opcua-simulator', 'pki');
}
