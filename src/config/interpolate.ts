// `${ENV_VAR}` references in string values, resolved from the environment before validation.
// `$${` writes a literal `${`. An unset variable is a problem named by the variable, never by a
// value. The JSON pointers of interpolated values are returned so the schema's `secret` keyword can
// insist that secrets came from a reference and not from the file.

export interface Interpolation {
  /** JSON pointers (ajv instancePath form) of every string that held at least one reference. */
  interpolated: Set<string>;
  problems: { pointer: string; message: string }[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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
  const value = text.replace(REFERENCE, (match: string, name: string | undefined) => {
    if (match === '$${') return '${';
    referenced = true;
    if (!match.endsWith('}')) {
      out.problems.push({ pointer, message: 'unterminated ${...} reference (write $${ for a literal ${)' });
      return '';
    }
    if (name === undefined || !NAME.test(name)) {
      out.problems.push({ pointer, message: `"\${${name ?? ''}}" is not a valid environment variable reference` });
      return '';
    }
    const found = env[name];
    if (found === undefined) {
      out.problems.push({ pointer, message: `environment variable ${name} is not set` });
      return '';
    }
    return found;
  });
  if (referenced) out.interpolated.add(pointer);
  return value;
}
