import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import type { KeyPath } from '../../../config/locate.js';
import { ajvProblem, type ProblemSource } from '../../../config/ajv-problem.js';
import { ConfigError, type ConfigProblem } from '../../../config/problems.js';
import { compileValidator, type SchemaValidator } from '../../../config/validator.js';
import {
  EVENT_TYPES,
  EventSchemas,
  ScenarioSchema,
  type EventType,
  type Scenario,
  type ScenarioEvent,
  type ScenarioInput,
} from './scenario-schema.js';

// Loading a scenario: a YAML (or JSON, which is YAML) file, events given on the command line as
// YAML flow maps (`--event 'type: frequency-step, at: 5, deltaHz: -0.2'`), or an object from a
// test. Every problem is reported at once, with file:line:column where there is a file, through
// the site config's ConfigError (GW_ERR_CONFIG_INVALID). Defaults are filled in by ajv.

const MAX_SCENARIO_BYTES = 1024 * 1024;

/** Compiled once, at import (the CLI imports this module only for `simulate pmu`). */
const validateScenario = compileValidator(ScenarioSchema);
const validateEvent = Object.fromEntries(EVENT_TYPES.map((t) => [t, compileValidator(EventSchemas[t])])) as Record<
  EventType,
  SchemaValidator
>;

type Source = ProblemSource;

/** A scenario file plus events from flags; with neither, the default scenario. */
export async function loadScenario(file: string | undefined, eventFlags: readonly string[] = []): Promise<Scenario> {
  let scenario: Scenario;
  if (file === undefined) scenario = parseScenario({});
  else {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
      if (text.length > MAX_SCENARIO_BYTES) throw new Error(`larger than ${MAX_SCENARIO_BYTES} bytes`);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError('GW_ERR_CONFIG_READ', [{ file, message: `cannot read scenario file: ${reason}` }]);
    }
    scenario = parseScenarioText(text, file);
  }
  const problems: ConfigProblem[] = [];
  eventFlags.forEach((flag, k) => {
    const file = `--event #${k + 1}`;
    let data: unknown;
    try {
      data = parseYaml(flag.trim().startsWith('{') ? flag : `{${flag}}`);
    } catch (err) {
      problems.push({ file, message: `not a YAML map: ${(err as Error).message.split('\n')[0]}` });
      return;
    }
    const event = checkEvent(data, [], { file }, problems);
    if (event) scenario.events.push(event);
  });
  if (problems.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', problems);
  return scenario;
}

/** A scenario from YAML or JSON text; `file` names it in errors. */
export function parseScenarioText(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors.map((e): ConfigProblem => ({ file, ...lines.linePos(e.pos[0]), message: e.message.split('\n')[0]! }));
  if (syntax.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', syntax);
  return check(doc.toJS({ maxAliasCount: 100 }) ?? {}, { file, doc, lines });
}

/** A scenario from an object (tests, the programmatic API), defaults filled in; the input is not changed. */
export function parseScenario(input: ScenarioInput | Scenario): Scenario {
  return check(structuredClone(input), { file: '(scenario)' });
}

function check(data: unknown, src: Source): Scenario {
  const problems: ConfigProblem[] = [];
  if (!validateScenario.call({ interpolated: new Set<string>(), secrets: [] }, data)) {
    problems.push(...toProblems(validateScenario.errors ?? [], [], src));
  }
  const events: ScenarioEvent[] = [];
  const raw = (data as { events?: unknown }).events;
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      const event = checkEvent(item, ['events', i], src, problems);
      if (event) events.push(event);
    });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  if (problems.length > 0) throw new ConfigError('GW_ERR_CONFIG_INVALID', problems);
  const scenario = data as Scenario;
  scenario.events = events;
  return scenario;
}

function checkEvent(item: unknown, base: KeyPath, src: Source, problems: ConfigProblem[]): ScenarioEvent | undefined {
  const type = (item as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    // The document schema reports a bad type inside a file; a flag has no document schema.
    if (base.length === 0) problems.push({ file: src.file, path: 'type', message: `must be one of: ${EVENT_TYPES.join(', ')}` });
    return undefined;
  }
  const validate = validateEvent[type as EventType];
  if (!validate.call({ interpolated: new Set<string>(), secrets: [] }, item)) {
    problems.push(...toProblems(validate.errors ?? [], base, src));
    return undefined;
  }
  const event = item as ScenarioEvent;
  if (event.type === 'config-change' && event.addPhasors === undefined && event.addAnalogs === undefined && event.addDigitals === undefined) {
    event.addPhasors = 1;
  }
  return event;
}

function toProblems(errors: ErrorObject[], base: KeyPath, src: Source): ConfigProblem[] {
  return errors.map((e) => ajvProblem(e, base, src));
}
