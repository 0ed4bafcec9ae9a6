import type { ErrorObject } from 'ajv';
import type { Document, LineCounter } from 'yaml';
import { formatPath, pointerToPath, positionOf, type KeyPath } from './locate.js';
import type { ConfigProblem } from './problems.js';

// One ajv error as a ConfigProblem, for the small YAML files beside the site config (simulator
// scenarios and register maps): the key path under `base`, the file position when the document is
// at hand, and a message that names unknown and missing keys and the allowed values.

export interface ProblemSource {
  file: string;
  doc?: Document;
  lines?: LineCounter;
}

export function ajvProblem(e: ErrorObject, base: KeyPath, src: ProblemSource): ConfigProblem {
  const path = [...base, ...pointerToPath(e.instancePath)];
  let message = e.message ?? e.keyword;
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    path.push(key);
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    message = `unknown key "${key}"; allowed here: ${known.join(', ')}`;
  } else if (e.keyword === 'required') {
    path.push(String(e.params.missingProperty));
    message = 'required key is missing';
  } else if (e.keyword === 'enum') {
    message = `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
  }
  const where = src.doc && src.lines ? positionOf(src.doc, src.lines, path) : {};
  return { file: src.file, ...where, path: formatPath(path), message };
}
