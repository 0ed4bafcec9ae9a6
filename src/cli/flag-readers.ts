import { GatewayError } from '../errors.js';

// Typed readers over a command's parsed flags, for the commands with many valued flags (the
// simulators): each rejects a malformed value as a usage error naming the command and the flag.

export interface Endpoint {
  host: string;
  port: number;
}

const usage = (command: string, message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `${command}: ${message}`);

/** HOST:PORT, [IPv6]:PORT, or a bare PORT (loopback). */
export function parseEndpoint(command: string, text: string, what: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text) ?? /^()(\d+)$/.exec(text);
  if (!m) throw usage(command, `${what} takes HOST:PORT (got "${text}")`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export function flagReaders<K extends string>(command: string, values: Record<string, string | boolean | undefined>) {
  const str = (name: K): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const integer = (name: K): number | undefined => {
    const s = str(name);
    if (s === undefined) return undefined;
    if (!/^[-+]?\d+$/.test(s.trim())) throw usage(command, `--${name} takes an integer (got "${s}")`);
    return Number(s);
  };
  const choice = <T extends string>(name: K, allowed: readonly T[]): T | undefined => {
    const s = str(name);
    if (s !== undefined && !(allowed as readonly string[]).includes(s)) throw usage(command, `--${name} takes ${allowed.join(' or ')} (got "${s}")`);
    return s as T | undefined;
  };
  const endpoint = (name: K): Endpoint | undefined => {
    const s = str(name);
    return s === undefined ? undefined : parseEndpoint(command, s, `--${name}`);
  };
  return { str, integer, choice, endpoint };
}
