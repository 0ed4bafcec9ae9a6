import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import { analyticsProblems } from '../pipeline/analytics/config.js';
import { modbusProblems } from '../protocols/modbus/config-checks.js';
import { opcuaProblems } from '../protocols/opcua/plan.js';
import { interpolateEnv } from './interpolate.js';
import { formatPath, pathAtOffset, pointerToPath, positionOf, toPosition } from './locate.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { Secret } from './secret.js';
import { SiteConfigSchema, type SiteConfig } from './site-schema.js';
import { compileValidator, type ValidationContext } from './validator.js';

// Site config: read YAML → interpolate ${ENV} → validate with ajv (defaults filled in) → wrap
// secrets → deep-freeze. Every problem is collected and reported at once with file:line:column and
// the key path. No network I/O happens here: `gridgate check-config` is systemd's ExecStartPre.

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Rules between keys, each naming the key at fault. */
function crossChecks(config: SiteConfig): { path: (string | number)[]; message: string }[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  // Source names are keys (records, metrics, logs), so unique.
  const seen = new Set<string>();
  config.sources.forEach((source, i) => {
    if (seen.has(source.name)) found.push({ path: ['sources', i, 'name'], message: `"${source.name}" names another source already; names must be unique` });
    seen.add(source.name);
  });
  config.sources.forEach((source, i) => {
    if (source.type === 'modbus') for (const p of modbusProblems(source)) found.push({ path: ['sources', i, ...p.path], message: p.message });
    if (source.type === 'opcua') for (const p of opcuaProblems(source)) found.push({ path: ['sources', i, ...p.path], message: p.message });
  });
  found.push(...analyticsProblems(config.analytics, seen));
  return found;
}

/** Compiled once, at import; the function itself keeps no state between validations. */
const validateSite = compileValidator(SiteConfigSchema);

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<SiteConfig> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    if (info.size > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError('GW_ERR_CONFIG_READ', [{ file, message: `cannot read config file: ${reason}` }]);
  }
  return parseConfig(text, file, env);
}

/** The pure part of loadConfig: text in, frozen config out, or a ConfigError with every problem. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv): SiteConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });

  const syntax = [...doc.errors, ...doc.warnings].map((e): ConfigProblem => {
    const offset = e.pos[0];
    return {
      file,
      ...toPosition(lines, offset),
      path: syntaxPath(doc, offset),
      message: e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, ''),
    };
  });
  if (syntax.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', syntax);

  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const { interpolated, problems: refProblems } = interpolateEnv(data, env);
  const context: ValidationContext = { interpolated, secrets: [] };
  const valid = validateSite.call(context, data);

  const problems: ConfigProblem[] = refProblems.map((p) => {
    const path = pointerToPath(p.pointer);
    return { file, ...positionOf(doc, lines, path), path: formatPath(path), message: p.message };
  });
  if (!valid) {
    // A value whose reference could not be resolved fails the schema too (empty, wrong type):
    // the reference problem is the one worth reading.
    const unresolved = new Set(problems.map((p) => p.path));
    const fromSchema = schemaProblems(validateSite.errors ?? [], doc, lines, file);
    problems.push(...fromSchema.filter((p) => !unresolved.has(p.path)));
  } else {
    // What JSON Schema cannot say: relations between keys.
    for (const { path, message } of crossChecks(data as SiteConfig)) {
      problems.push({ file, ...positionOf(doc, lines, path), path: formatPath(path), message });
    }
  }
  if (problems.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', sortAndDedupe(problems));

  for (const pointer of context.secrets) wrapSecret(data, pointerToPath(pointer));
  return deepFreeze(data) as SiteConfig;
}

function syntaxPath(doc: Document, offset: number): string {
  const path = pathAtOffset(doc, offset);
  return path.length === 0 ? '(yaml)' : formatPath(path);
}

function schemaProblems(errors: ErrorObject[], doc: Document, lines: LineCounter, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    // `if` only says "must match then"; the `then` branch's own error says what is missing.
    if (e.keyword === 'if') continue;
    const path = pointerToPath(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = closest(key, known);
      out.push({
        file,
        ...positionOf(doc, lines, [...path, key], true),
        path: formatPath([...path, key]),
        message: `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; allowed here: ${known.join(', ')}`,
      });
    } else if (e.keyword === 'required') {
      const key = String(e.params.missingProperty);
      out.push({ file, ...positionOf(doc, lines, path), path: formatPath([...path, key]), message: 'required key is missing' });
    } else if (e.keyword === 'enum') {
      const allowed = (e.params.allowedValues as unknown[]).map(String).join(', ');
      out.push({ file, ...positionOf(doc, lines, path), path: formatPath(path), message: `must be one of: ${allowed}` });
    } else if (e.keyword === 'discriminator') {
      // A list of variants chosen by a tag (sources by `type`): name the tag and its values.
      const tag = String(e.params.tag);
      const variants = (e.parentSchema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] } | undefined)?.oneOf ?? [];
      const allowed = variants.map((v) => String(v.properties?.[tag]?.const)).join(', ');
      out.push({ file, ...positionOf(doc, lines, [...path, tag]), path: formatPath([...path, tag]), message: `must be one of: ${allowed}` });
    } else {
      // ajv's own messages state the rule ("must be integer", "must be <= 65535") and never echo
      // the offending value, so nothing interpolated (a secret) can leak through them.
      out.push({ file, ...positionOf(doc, lines, path), path: formatPath(path), message: e.message ?? e.keyword });
    }
  }
  return out;
}

/** The known key within edit distance 2 of `key`, or equal ignoring case; undefined if none. */
export function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function sortAndDedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const id = `${p.path}\0${p.message}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

function wrapSecret(root: unknown, path: (string | number)[]): void {
  const last = path[path.length - 1];
  let parent = root as Record<string | number, unknown>;
  for (const seg of path.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
  if (last !== undefined && typeof parent[last] === 'string') parent[last] = new Secret(parent[last] as string);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
