import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// `${ENV_VAR}` references in string values, resolved from the environment before validation;
// `${ENV_VAR:-default}` falls back to the default when the variable is unset or empty (as in the
// shell), e.g. `${STATE_DIRECTORY:-/var/lib/gridgate/north}/spool`. `${credential:ID}` is the
// content of systemd credential ID (LoadCredential=ID:…, read from $CREDENTIALS_DIRECTORY/ID, one
// trailing newline dropped), for secrets systemd cannot put in the environment. `$${` writes a
// literal `${`. An unset variable without a default, or a missing or empty credential, is a problem
// named by the variable or credential, never by a value. The JSON
// pointers of values that came from the environment alone are returned, so the schema's `secret`
// keyword can insist that a secret came from a reference and not from the file (a default is text
// in the file, so it does not count).

export interface Interpolation {
  /** JSON pointers (ajv instancePath form) of strings with a reference, every one resolved from the environment. */
  interpolated: Set<string>;
  problems: { pointer: string; message: string }[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const REFERENCE_BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const CREDENTIAL_BODY = /^credential:([A-Za-z0-9_][A-Za-z0-9_.-]*)$/;

/** Replace references in place inside a plain JSON-like tree (objects, arrays, scalars). */
export function interpolateEnv(root: unknown, env: NodeJS.ProcessEnv): Interpolation {
  const result: Interpolation = { interpolated: new Set(), problems: [] };
  walk(root, '', env, result);
  return result;
}

function walk(node: unknown, pointer: string, env: NodeJS.ProcessEnv, out: Interpolation): unknown {
  if (typeof node === 'string') return node.includes('$') ? resolve(node, pointer, env, out) : node;
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      node[i] = walk(item, `${pointer}/${i}`, env, out);
    });
  } else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      record[key] = walk(record[key], `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, env, out);
    }
  }
  return node;
}

function resolve(text: string, pointer: string, env: NodeJS.ProcessEnv, out: Interpolation): string {
  let referenced = false;
  let defaulted = false;
  const value = text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    referenced = true;
    if (!match.endsWith('}')) {
      out.problems.push({ pointer, message: 'unterminated ${...} reference (write $${ for a literal ${)' });
      return '';
    }
    const credential = CREDENTIAL_BODY.exec(body ?? '');
    if (credential) return readCredential(credential[1]!, pointer, env, out);
    const parsed = REFERENCE_BODY.exec(body ?? '');
    if (!parsed) {
      out.problems.push({ pointer, message: `"\${${body ?? ''}}" is not a valid environment variable reference` });
      return '';
    }
    const [, name, fallback] = parsed as unknown as [string, string, string | undefined];
    const found = env[name];
    if (fallback !== undefined && (found === undefined || found === '')) {
      defaulted = true;
      return fallback;
    }
    if (found === undefined) {
      out.problems.push({ pointer, message: `environment variable ${name} is not set` });
      return '';
    }
    return found;
  });
  if (referenced && !defaulted) out.interpolated.add(pointer);
  return value;
}

function readCredential(id: string, pointer: string, env: NodeJS.ProcessEnv, out: Interpolation): string {
  const dir = env['CREDENTIALS_DIRECTORY'];
  if (!dir) {
    out.problems.push({ pointer, message: `credential ${id}: CREDENTIALS_DIRECTORY is not set (the unit needs LoadCredential=${id}:FILE)` });
    return '';
  }
  let value: string;
  try {
    value = readFileSync(join(dir, id), 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    out.problems.push({ pointer, message: `credential ${id}: cannot read ${join(dir, id)} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return '';
  }
  if (value === '') out.problems.push({ pointer, message: `credential ${id} is empty (is its file under /etc/gridgate/credentials/ missing?)` });
  return value;
}
