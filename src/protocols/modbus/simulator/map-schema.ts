import { Type, type Static, type TObject } from '@sinclair/typebox';
import { StringEnum } from '../../../config/schema-helpers.js';
import { AREAS, TAG_TYPES, WORD_ORDERS, type Area, type TagType, type WordOrder } from '../config.js';

// The register map the simulator serves (`--map FILE`), as JSON Schema (TypeBox). Areas, types and
// orders are the site config's own (../config.ts), so a map and a gateway config speak the same
// words. Addresses here are always protocol addresses (0–65535, as on the wire). A register's
// `value` is checked by map.ts against the schema its kind names (VALUE_SCHEMAS), so an error reads
// "units[0].registers[2].value.sine.periodS: must be > 0" rather than ajv's guesses across an anyOf.
// Times are seconds after the simulator started.

export const GARBAGE_KINDS = ['wrong-length', 'wrong-unit', 'wrong-function', 'wrong-transaction', 'bad-crc'] as const;
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

export const VALUE_KINDS = ['sine', 'ramp', 'counter', 'random', 'toggle'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

const address = (description: string) => Type.Integer({ minimum: 0, maximum: 0xffff, description });
const at = Type.Number({ minimum: 0, default: 0, description: 'Start, seconds after the simulator started.' });
const durationS = Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'How long it lasts, seconds; to the end of the run when absent.' }));

export const VALUE_SCHEMAS = {
  sine: Type.Object(
    {
      amplitude: Type.Number({ description: 'Peak deviation from the offset, in raw units.' }),
      periodS: Type.Number({ exclusiveMinimum: 0, description: 'Period, seconds.' }),
      offset: Type.Number({ default: 0, description: 'Mean value, raw units.' }),
      phaseDeg: Type.Number({ default: 0, description: 'Phase at t = 0, degrees.' }),
    },
    { additionalProperties: false, description: 'offset + amplitude · sin(2π t / periodS + phase).' },
  ),
  ramp: Type.Object(
    {
      perS: Type.Number({ description: 'Change per second, raw units.' }),
      from: Type.Number({ default: 0, description: 'Value at t = 0.' }),
      to: Type.Optional(Type.Number({ description: 'Wraps back to `from` on reaching this (a sawtooth); integers otherwise wrap at the type range.' })),
    },
    { additionalProperties: false, description: 'from + perS · t.' },
  ),
  counter: Type.Object(
    {
      perS: Type.Number({ minimum: 0, description: 'Counts per second.' }),
      from: Type.Number({ default: 0, description: 'Count at t = 0.' }),
    },
    { additionalProperties: false, description: 'floor(from + perS · t), wrapping at the type range (an energy or event counter).' },
  ),
  random: Type.Object(
    {
      min: Type.Number({ description: 'Smallest value.' }),
      max: Type.Number({ description: 'Largest value.' }),
      everyS: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'A new value this often, seconds.' }),
    },
    { additionalProperties: false, description: 'Uniform in [min, max], a function of (seed, t / everyS, register): repeatable.' },
  ),
  toggle: Type.Object(
    {
      periodS: Type.Number({ exclusiveMinimum: 0, description: 'Full period, seconds: 1 for the first half, 0 for the second.' }),
    },
    { additionalProperties: false, description: 'A square wave: 1, then 0 (a breaker, an alarm).' },
  ),
} satisfies Record<ValueKind, TObject>;

export type ValueSpec =
  | number
  | boolean
  | string
  | { sine: Static<(typeof VALUE_SCHEMAS)['sine']> }
  | { ramp: Static<(typeof VALUE_SCHEMAS)['ramp']> }
  | { counter: Static<(typeof VALUE_SCHEMAS)['counter']> }
  | { random: Static<(typeof VALUE_SCHEMAS)['random']> }
  | { toggle: Static<(typeof VALUE_SCHEMAS)['toggle']> };

export const RegisterSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 128, description: 'A label for logs (the tag name).' })),
    area: StringEnum(AREAS, { default: 'holding-register', description: 'Register area: coil, discrete-input (bits), holding-register, input-register.' }),
    address: address('Protocol address of the first register or bit (0-based, as on the wire).'),
    type: Type.Optional(
      StringEnum(TAG_TYPES, { description: 'Value type: bool for coils and discrete inputs (the default there), uint16 otherwise.' }),
    ),
    order: Type.Optional(StringEnum(WORD_ORDERS, { description: "Byte and word order of a multi-byte value; the unit's `order` when absent." })),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'type bit: the bit of the register, 0 = least significant.' })),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 125, description: 'type string: registers (two bytes each); default: enough for the value.' })),
    value: Type.Unknown({
      default: 0,
      description: 'A constant (number, true/false, or text for a string), or one of { sine }, { ramp }, { counter }, { random }, { toggle }.',
    }),
    repeat: Type.Integer({
      minimum: 1,
      maximum: 65536,
      default: 1,
      description: 'Serve this many copies at consecutive addresses (large maps for benchmarks); copy k has phaseDeg + 10k and its own random stream.',
    }),
  },
  { additionalProperties: false, description: 'One served value.' },
);

const AddressRange = (description: string) =>
  Type.Object(
    {
      area: Type.Optional(StringEnum(AREAS, { description: 'Area; every area when absent.' })),
      from: address('First address of the range.'),
      to: Type.Optional(address('Last address of the range (inclusive); `from` when absent.')),
    },
    { additionalProperties: false, description },
  );

export const ExceptionRuleSchema = Type.Object(
  {
    area: Type.Optional(StringEnum(AREAS, { description: 'Area; every area when absent.' })),
    from: Type.Integer({ minimum: 0, maximum: 0xffff, default: 0, description: 'First address: a read touching [from, to] is answered with the exception.' }),
    to: Type.Integer({ minimum: 0, maximum: 0xffff, default: 0xffff, description: 'Last address (inclusive).' }),
    code: Type.Integer({ minimum: 1, maximum: 11, description: 'Exception code: 1 illegal function … 4 server device failure, 6 busy, 10/11 gateway.' }),
    at,
    durationS,
    probability: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Chance each matching read fails (seeded by the request count).' }),
  },
  { additionalProperties: false, description: 'Reads answered with an exception for a while.' },
);

// No defaults inside: ajv ignores (and strict mode refuses) a default under anyOf.
export const ScheduleSchema = Type.Object(
  { at: Type.Number({ minimum: 0, description: 'Start, seconds after the simulator started.' }), durationS },
  { additionalProperties: false, description: 'A span of time.' },
);

export const UnitSchema = Type.Object(
  {
    unitId: Type.Integer({ minimum: 0, maximum: 255, description: 'Unit (slave) id: 1–247 on a serial line.' }),
    order: StringEnum(WORD_ORDERS, { default: 'ABCD', description: 'Default byte and word order of multi-register values (ABCD: big-endian).' }),
    registers: Type.Array(RegisterSchema, { default: [], description: 'The served values.' }),
    unmapped: StringEnum(['zero', 'illegal-address'] as const, {
      default: 'zero',
      description: 'Addresses no register covers: read as 0 (gateways read across small gaps), or answer exception 2.',
    }),
    holes: Type.Array(AddressRange('Addresses answered with exception 2 (illegal data address).'), {
      default: [],
      description: 'A read touching any of these answers exception 2.',
    }),
    exceptions: Type.Array(ExceptionRuleSchema, { default: [], description: 'Scheduled exceptions, checked before holes.' }),
    delayMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 0, description: 'Every response of this unit is sent this late, ms.' }),
    dead: Type.Union([Type.Boolean(), ScheduleSchema], {
      default: false,
      description: 'true: the unit never answers (a timeout, over TCP too); { at, durationS }: only then.',
    }),
    garbage: Type.Optional(
      Type.Object(
        {
          probability: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Chance each response is malformed (seeded by the request count).' }),
          kinds: Type.Optional(
            Type.Array(StringEnum(GARBAGE_KINDS, { description: 'A kind of malformed response.' }), {
              minItems: 1,
              uniqueItems: true,
              description: 'Kinds to choose from; default: every kind the transport has (bad-crc: RTU only; wrong-transaction: TCP only).',
            }),
          ),
        },
        { additionalProperties: false, description: 'Malformed responses for fault tests.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'One simulated unit (slave).' },
);

export const MapSchema = Type.Object(
  {
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff_ffff, description: 'Seed of random values and faults; --seed overrides it.' })),
    unknownUnits: StringEnum(['silent', 'gateway-exception'] as const, {
      default: 'silent',
      description: 'A request for a unit not in the map: no answer, or (TCP only) exception 11 as a serial gateway would.',
    }),
    units: Type.Array(UnitSchema, { minItems: 1, description: 'The units served, on every transport.' }),
  },
  { additionalProperties: false, description: 'A Modbus simulator register map.' },
);

export type GarbageSpec = { probability: number; kinds?: GarbageKind[] };
export type Schedule = Static<typeof ScheduleSchema>;
export type ExceptionRule = Static<typeof ExceptionRuleSchema>;
export type HoleRange = { area?: Area; from: number; to?: number };

export interface RegisterSpec {
  name?: string;
  area: Area;
  address: number;
  type?: TagType;
  order?: WordOrder;
  bit?: number;
  length?: number;
  value: ValueSpec;
  repeat: number;
}

export interface UnitSpec {
  unitId: number;
  order: WordOrder;
  registers: RegisterSpec[];
  unmapped: 'zero' | 'illegal-address';
  holes: HoleRange[];
  exceptions: ExceptionRule[];
  delayMs: number;
  dead: boolean | Schedule;
  garbage?: GarbageSpec;
}

/** A checked map, defaults filled in. */
export interface RegisterMap {
  seed?: number;
  unknownUnits: 'silent' | 'gateway-exception';
  units: UnitSpec[];
}

/** A value as a caller may write it: keys with defaults may be left out. */
export type ValueInput =
  | number
  | boolean
  | string
  | { sine: { amplitude: number; periodS: number; offset?: number; phaseDeg?: number } }
  | { ramp: { perS: number; from?: number; to?: number } }
  | { counter: { perS: number; from?: number } }
  | { random: { min: number; max: number; everyS?: number } }
  | { toggle: { periodS: number } };

/** What a caller may pass: defaults are filled in by parseMap. */
export interface RegisterMapInput {
  seed?: number;
  unknownUnits?: RegisterMap['unknownUnits'];
  units: (Partial<Omit<UnitSpec, 'registers' | 'exceptions'>> & {
    unitId: number;
    registers?: (Partial<Omit<RegisterSpec, 'value'>> & { address: number; value?: ValueInput })[];
    exceptions?: (Partial<ExceptionRule> & { code: number })[];
  })[];
}
