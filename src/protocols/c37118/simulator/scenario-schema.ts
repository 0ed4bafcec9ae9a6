import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Section, StringEnum } from '../../../config/schema-helpers.js';

// The scenario file's JSON Schema (TypeBox), one schema per event type. scenario.ts validates the
// document, then each event against the schema its `type` names, so an error reads
// "events[2].deltaHz: must be number" rather than ajv's guesses across a oneOf. Times are seconds
// after the scenario start (t = 0: --start-soc, or the start of the second the simulator started).

export const EVENT_TYPES = [
  'frequency-step',
  'frequency-ramp',
  'oscillation',
  'voltage',
  'phase-jump',
  'gps-loss',
  'config-change',
  'drop',
  'stat',
  'digital',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const at = Type.Number({ minimum: 0, description: 'Start of the event, seconds after the scenario start.' });
const pmus = Type.Optional(
  Type.Array(Type.Integer({ minimum: 0, description: 'A PMU index.' }), {
    minItems: 1,
    uniqueItems: true,
    description: 'Indexes of the PMUs affected (0 = the first PMU block); all PMUs when absent.',
  }),
);
const duration = (what: string) =>
  Type.Optional(Type.Number({ exclusiveMinimum: 0, description: `How long ${what} lasts, seconds; to the end of the run when absent.` }));

function event<K extends EventType, T extends TProperties>(type: K, description: string, properties: T) {
  return Type.Object(
    { type: Type.Literal(type, { description: 'The event type.' }), at, pmus, ...properties },
    { additionalProperties: false, description },
  );
}

export const EventSchemas = {
  'frequency-step': event('frequency-step', 'A step of the frequency deviation (ideal: no ROCOF spike).', {
    deltaHz: Type.Number({ description: 'Step size, Hz (negative: a drop).' }),
  }),
  'frequency-ramp': event('frequency-ramp', 'A constant ROCOF for durationS; the frequency then holds.', {
    rocofHzPerS: Type.Number({ description: 'Rate of change of frequency during the ramp, Hz/s.' }),
    durationS: Type.Number({ exclusiveMinimum: 0, description: 'Length of the ramp, seconds.' }),
  }),
  oscillation: event('oscillation', 'A (damped) electromechanical mode on angle, magnitude and so frequency.', {
    modeHz: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.5, description: 'Mode frequency, Hz (inter-area 0.1–1).' }),
    angleDeg: Type.Number({ minimum: 0, default: 0, description: 'Angle swing amplitude, degrees.' }),
    magnitudePct: Type.Number({ minimum: 0, maximum: 100, default: 0, description: 'Magnitude swing amplitude, % of the value.' }),
    dampingRatio: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Damping ratio ζ (0: sustained).' }),
    durationS: duration('the oscillation'),
  }),
  voltage: event('voltage', 'A voltage sag (pu < 1) or swell (pu > 1) on some phases.', {
    pu: Type.Number({ minimum: 0, maximum: 2, description: 'Voltage magnitude during the event, per unit of nominal.' }),
    phases: Type.Optional(
      Type.Array(StringEnum(['A', 'B', 'C'] as const, { description: 'A phase.' }), {
        minItems: 1,
        uniqueItems: true,
        description: 'Phases affected; all three when absent.',
      }),
    ),
    durationS: duration('the sag or swell'),
  }),
  'phase-jump': event('phase-jump', 'A step of every phasor angle of the PMU (switching, islanding).', {
    deg: Type.Number({ description: 'Angle step, degrees.' }),
  }),
  'gps-loss': event('gps-loss', 'Loss of the UTC source: STAT sync and unlocked-time bits, time quality.', {
    durationS: duration('the loss'),
    unlockedForS: Type.Number({ minimum: 0, default: 0, description: 'Seconds the clock had already been unlocked at `at`.' }),
    driftPpm: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Holdover drift used to estimate the time error, ppm.' }),
    clock: StringEnum(['holdover', 'failed'] as const, {
      default: 'holdover',
      description: 'holdover: time quality degrades with the estimated error; failed: clock failure (0xF).',
    }),
  }),
  'config-change': event('config-change', 'STAT bit 10 from `at`, then after warnS a new configuration (CFGCNT + 1).', {
    warnS: Type.Number({ minimum: 0, default: 5, description: 'Seconds STAT bit 10 is set before the change (the standard says one minute).' }),
    addPhasors: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'Phasors added (1 when no add* key is given).' })),
    addAnalogs: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'Analog channels added.' })),
    addDigitals: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, description: 'Digital words added.' })),
  }),
  drop: event('drop', 'Frames not sent at all (every destination): gaps in the time stamps.', {
    durationS: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Length of the gap, seconds; one frame when absent.' })),
    probability: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Chance each frame in the span is dropped (seeded).' }),
  }),
  stat: event('stat', 'Extra STAT bits (data error 15–14, trigger 11 and reason 3–0, …) ORed in.', {
    set: Type.Integer({ minimum: 0, maximum: 0xffff, description: 'STAT bits to set.' }),
    durationS: duration('the bits'),
  }),
  digital: event('digital', 'A digital status word takes a value (a breaker opens).', {
    word: Type.Integer({ minimum: 0, default: 0, description: 'Index of the digital word in the PMU.' }),
    value: Type.Integer({ minimum: 0, maximum: 0xffff, description: 'The word during the event.' }),
    durationS: duration('the value'),
  }),
} satisfies Record<EventType, TObject>;

export type ScenarioEvent = { [K in EventType]: Static<(typeof EventSchemas)[K]> }[EventType];
export type EventOf<K extends EventType> = Static<(typeof EventSchemas)[K]>;

export const ScenarioSchema = Type.Object(
  {
    signal: Section(
      {
        voltageKv: Type.Number({ exclusiveMinimum: 0, default: 230, description: 'Nominal line-to-line voltage, kV (phasors are line-to-neutral).' }),
        currentA: Type.Number({ minimum: 0, default: 500, description: 'Load current, A.' }),
        powerFactor: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.95, description: 'Power factor, lagging.' }),
        frequencyOffsetHz: Type.Number({ default: 0, description: 'Steady deviation from nominal frequency, Hz.' }),
        pmuAngleStepDeg: Type.Number({ default: -2, description: 'Angle of PMU p is p × this, degrees (buses along a line).' }),
      },
      { description: 'The steady state: balanced three-phase, positive sequence.' },
    ),
    noise: Section(
      {
        magnitudePct: Type.Number({ minimum: 0, default: 0.01, description: 'Uniform magnitude noise of phasors and analogs, ± % of the value.' }),
        angleDeg: Type.Number({ minimum: 0, default: 0.01, description: 'Uniform angle noise, ± degrees.' }),
        frequencyHz: Type.Number({ minimum: 0, default: 0.0005, description: 'Uniform frequency noise, ± Hz.' }),
        rocofHzPerS: Type.Number({ minimum: 0, default: 0.002, description: 'Uniform ROCOF noise, ± Hz/s.' }),
      },
      { description: 'Measurement noise, a function of (seed, frame time, channel): repeatable.' },
    ),
    events: Type.Array(
      Type.Object(
        { type: StringEnum(EVENT_TYPES, { description: 'The event type.' }) },
        { additionalProperties: true, description: 'One scripted event; its keys depend on its type.' },
      ),
      { default: [], description: 'Scripted events, in any order.' },
    ),
  },
  { additionalProperties: false, description: 'A PMU simulator scenario.' },
);

export interface Scenario {
  signal: Static<typeof ScenarioSchema>['signal'];
  noise: Static<typeof ScenarioSchema>['noise'];
  events: ScenarioEvent[];
}

/** What a caller may pass: any subset, defaults filled in by parseScenario. */
export interface ScenarioInput {
  signal?: Partial<Scenario['signal']>;
  noise?: Partial<Scenario['noise']>;
  events?: readonly Record<string, unknown>[];
}
