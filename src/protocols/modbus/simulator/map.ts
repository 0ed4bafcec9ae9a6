import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { formatPath, positionOf, type KeyPath } from '../../../config/locate.js';
import { ajvProblem, type ProblemSource } from '../../../config/ajv-problem.js';
import { ConfigError, type ConfigProblem } from '../../../config/problems.js';
import { compileValidator, type SchemaValidator } from '../../../config/validator.js';
import type { Area } from '../config.js';
import {
  MapSchema,
  VALUE_KINDS,
  VALUE_SCHEMAS,
  type RegisterMap,
  type RegisterMapInput,
  type RegisterSpec,
  type ValueKind,
} from './map-schema.js';
import { registersOf } from './values.js';

// Loading a register map: a YAML (or JSON) file, or an object from a test. As for the PMU
// simulator's scenarios (and the site config), every problem is reported at once with
// file:line:column and the key path, through ConfigError (GW_ERR_CONFIG_INVALID); ajv fills the
// defaults. After the schema: each `value` against its kind's schema, then what JSON Schema
// cannot say (types against areas, overlapping registers, unique unit ids, ranges in order).

const MAX_MAP_BYTES = 4 * 1024 * 1024;

/** Compiled once, at import (the CLI imports this module only for `simulate modbus`). */
const validateMap = compileValidator(MapSchema);
const validateValue = Object.fromEntries(VALUE_KINDS.map((k) => [k, compileValidator(VALUE_SCHEMAS[k])])) as Record<ValueKind, SchemaValidator>;
const CONTEXT = () => ({ interpolated: new Set<string>(), secrets: [] });

export const BIT_AREAS: ReadonlySet<Area> = new Set(['coil', 'discrete-input']);

type Source = ProblemSource;

export async function loadMap(file: string): Promise<RegisterMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
    if (text.length > MAX_MAP_BYTES) throw new Error(`larger than ${MAX_MAP_BYTES} bytes`);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError('GW_ERR_CONFIG_READ', [{ file, message: `cannot read register map: ${reason}` }]);
  }
  return parseMapText(text, file);
}

/** A map from YAML or JSON text; `file` names it in errors. */
export function parseMapText(text: string, file: string): RegisterMap {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors.map((e): ConfigProblem => ({ file, ...lines.linePos(e.pos[0]), message: e.message.split('\n')[0]! }));
  if (syntax.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', syntax);
  return checkMap(doc.toJS({ maxAliasCount: 100 }) ?? {}, { file, doc, lines });
}

/** A map from an object (tests, the API), defaults filled in; the input is not changed. */
export function parseMap(input: RegisterMapInput | RegisterMap): RegisterMap {
  return checkMap(structuredClone(input), { file: '(map)' });
}

/** Validate and complete a map; `base` prefixes every key path (a map built from a site config). */
export function checkMap(data: unknown, src: Source, base: KeyPath = []): RegisterMap {
  const problems: ConfigProblem[] = [];
  if (!validateMap.call(CONTEXT(), data)) {
    problems.push(...toProblems(validateMap.errors ?? [], base, src));
  } else {
    const map = data as RegisterMap;
    const where = (path: KeyPath, message: string): void => {
      const full = [...base, ...path];
      problems.push({ file: src.file, ...(src.doc && src.lines ? positionOf(src.doc, src.lines, full) : {}), path: formatPath(full), message });
    };
    const seen = new Map<number, number>();
    map.units.forEach((unit, u) => {
      const first = seen.get(unit.unitId);
      if (first !== undefined) where(['units', u, 'unitId'], `unit ${unit.unitId} is also units[${first}]; unit ids must be unique`);
      seen.set(unit.unitId, u);
      unit.registers.forEach((reg, r) => checkRegister(reg, ['units', u, 'registers', r], where, src, base, problems));
      checkOverlaps(unit.registers, ['units', u], where);
      unit.holes.forEach((h, i) => {
        if (h.to !== undefined && h.to < h.from) where(['units', u, 'holes', i, 'to'], `must be at least from (${h.from})`);
      });
      unit.exceptions.forEach((e, i) => {
        if (e.to < e.from) where(['units', u, 'exceptions', i, 'to'], `must be at least from (${e.from})`);
      });
    });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  if (problems.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', problems);
  return data as RegisterMap;
}

type Where = (path: KeyPath, message: string) => void;

/** Completes `type` and `length`, checks the value against the type and the area. */
function checkRegister(reg: RegisterSpec, path: KeyPath, where: Where, src: Source, base: KeyPath, problems: ConfigProblem[]): void {
  const bits = BIT_AREAS.has(reg.area);
  reg.type ??= bits ? 'bool' : 'uint16';
  const type = reg.type;
  if (bits && type !== 'bool') where([...path, 'type'], `a ${reg.area} holds bits: type must be bool (got ${type})`);
  if (!bits && type === 'bool') where([...path, 'type'], `type bool is for coils and discrete inputs; in a ${reg.area} use bit (with \`bit\`) or uint16`);
  if (type === 'bit' && reg.bit === undefined) where([...path, 'bit'], 'type bit needs `bit` (0–15)');
  if (type !== 'bit' && reg.bit !== undefined) where([...path, 'bit'], 'only type bit takes `bit`');

  const value = reg.value;
  if (typeof value === 'string') {
    if (type !== 'string') where([...path, 'value'], `text is a value only for type string (this is ${type})`);
    else {
      if (!/^[\x20-\x7e]*$/.test(value)) where([...path, 'value'], 'a string value must be printable ASCII');
      reg.length ??= Math.max(1, Math.ceil(value.length / 2));
      if (value.length > reg.length * 2) where([...path, 'value'], `${value.length} characters do not fit in ${reg.length} registers`);
    }
  } else if (type === 'string') {
    where([...path, 'value'], 'type string takes a text value');
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const kind = keys[0] as ValueKind | undefined;
    if (keys.length !== 1 || !kind || !(VALUE_KINDS as readonly string[]).includes(kind)) {
      where([...path, 'value'], `must be a number, true/false, text, or one of: ${VALUE_KINDS.map((k) => `{ ${k}: … }`).join(', ')}`);
    } else {
      const validate = validateValue[kind];
      const inner = (value as Record<string, unknown>)[kind];
      if (!validate.call(CONTEXT(), inner)) problems.push(...toProblems(validate.errors ?? [], [...base, ...path, 'value', kind], src));
      else if (kind === 'random') {
        const r = inner as { min: number; max: number };
        if (r.max < r.min) where([...path, 'value', kind, 'max'], `must be at least min (${r.min})`);
      }
    }
  } else if (typeof value !== 'number' && typeof value !== 'boolean') {
    where([...path, 'value'], `must be a number, true/false, text, or one of: ${VALUE_KINDS.map((k) => `{ ${k}: … }`).join(', ')}`);
  }
  const width = widthOf(reg);
  if (reg.address + width * reg.repeat > 0x10000) {
    where([...path, 'address'], `${reg.repeat > 1 ? `${reg.repeat} copies of ` : ''}${width} ${bits ? 'bit' : 'register'}(s) from ${reg.address} run past address 65535`);
  }
}

/** Registers (or bits) one copy of the register takes. */
export function widthOf(reg: RegisterSpec): number {
  return BIT_AREAS.has(reg.area) ? 1 : registersOf(reg.type ?? 'uint16', reg.length ?? 1);
}

/** Two values may share a register only as different bits of it. */
function checkOverlaps(registers: RegisterSpec[], path: KeyPath, where: Where): void {
  const spans = registers
    .map((reg, r) => ({ reg, r, from: reg.address, to: reg.address + widthOf(reg) * reg.repeat - 1 }))
    .sort((a, b) => (a.reg.area < b.reg.area ? -1 : a.reg.area > b.reg.area ? 1 : a.from - b.from || a.r - b.r));
  for (let i = 1; i < spans.length; i++) {
    const cur = spans[i]!;
    for (let j = i - 1; j >= 0; j--) {
      const prev = spans[j]!;
      if (prev.reg.area !== cur.reg.area) break;
      if (prev.to < cur.from) continue;
      const bitsApart = prev.reg.type === 'bit' && cur.reg.type === 'bit' && prev.reg.repeat === 1 && cur.reg.repeat === 1 && prev.reg.bit !== cur.reg.bit;
      if (!bitsApart) {
        const later = Math.max(prev.r, cur.r);
        const earlier = Math.min(prev.r, cur.r);
        where([...path, 'registers', later, 'address'], `overlaps registers[${earlier}] (${cur.reg.area} ${prev.from}–${prev.to} and ${cur.from}–${cur.to})`);
      }
    }
  }
}

function toProblems(errors: ErrorObject[], base: KeyPath, src: Source): ConfigProblem[] {
  // A union (dead: true | { at }) fails every branch; say what it takes once, not per branch.
  const unions = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword === 'anyOf' || ![...unions].some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`)))
    .map((e) => {
      const problem = ajvProblem(e, base, src);
      return e.keyword === 'anyOf' ? { ...problem, message: 'must be true, false or { at, durationS }' } : problem;
    });
}
