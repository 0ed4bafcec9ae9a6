import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema-helpers.js';
import { HOST_PORT, SourceNameSchema, SourceTopicsSchema } from '../../pipeline/config.js';
import { BackoffSchema } from '../shared/backoff.js';

// One Modbus source = one connection: a TCP device (or gateway), or a serial bus with its RTU units
// (directly or through a serial-to-TCP converter). Read-only by design: the tags name only the
// four readable areas, and the source issues function codes 1–4, nothing else.
//
// Addresses: `addressing` says how the numbers in the map are written.
//   zero-based  the protocol address, 0–65535, as on the wire (the default)
//   one-based   register 1 is protocol address 0 (most device manuals' "register 40001 = 1st")
//   modicon     5- or 6-digit references whose first digit is the area: 0xxxx coils, 1xxxx
//               discrete inputs, 3xxxx input registers, 4xxxx holding registers; the rest is
//               one-based (40001 = holding register at protocol address 0); `area` may be left out.
//               Addresses are numbers, so a coil's leading 0 is not written: coils 1–9999 are
//               00001–09999 = 1–9999; coils above 9999 need zero- or one-based addressing.
//
// Orders (Telegraf's byte_order): ABCD big-endian, BADC bytes swapped in each register, CDAB
// registers in reverse order (64-bit: GHEFCDAB), DCBA fully little-endian.

export const MODBUS_TRANSPORTS = ['tcp', 'rtu', 'rtu-over-tcp'] as const;
export const AREAS = ['coil', 'discrete-input', 'holding-register', 'input-register'] as const;
export const TAG_TYPES = ['bool', 'bit', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
/** Byte order within the value, by register: A is the most significant byte (Modbus is big-endian). */
export const WORD_ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
export const ADDRESSING = ['zero-based', 'one-based', 'modicon'] as const;

export type Area = (typeof AREAS)[number];
export type TagType = (typeof TAG_TYPES)[number];
export type WordOrder = (typeof WORD_ORDERS)[number];

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

export const TagSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME, description: 'Tag name, unique in the device: the stream of its records is <device>/<tag>.' }),
    area: Type.Optional(StringEnum(AREAS, { description: 'Register area (function code 1, 2, 4 or 3); implied by a modicon address.' })),
    address: Type.Integer({ minimum: 0, maximum: 465_536, description: 'Address of the first register or bit, written as `addressing` says.' }),
    type: StringEnum(TAG_TYPES, {
      default: 'uint16',
      description: 'bool: a coil or discrete input; bit: one bit of a register (`bit`); int/uint 16–64, float32/64: 1–4 registers; string: `length` registers, two ASCII bytes each.',
    }),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'type bit: the bit of the register, 0 = least significant.' })),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 125, description: 'type string: number of registers.' })),
    order: Type.Optional(StringEnum(WORD_ORDERS, { description: "Byte and word order of this tag; the device's `order` when absent." })),
    scale: Type.Number({ default: 1, description: 'Engineering value = raw × scale + offset (numbers only).' }),
    offset: Type.Number({ default: 0, description: 'Added after scaling.' }),
    unit: Type.String({ default: '', maxLength: 32, description: 'Engineering unit, carried in the records (V, A, kW, °C …).' }),
    deadband: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Publish only when the engineering value moved by more than this since the last published one (0: every change; quality changes always publish).',
    }),
    group: Type.String({ default: 'default', description: 'Poll group (device pollGroups) that sets how often the tag is read.' }),
  },
  { additionalProperties: false, description: 'One mapped value.' },
);

export const DeviceSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME, description: 'Device name, unique in the source: the first part of its tags’ streams.' }),
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1, description: 'Modbus unit (slave) ID: 1–247 on a serial bus; 255 or 1 for most TCP devices.' }),
    order: StringEnum(WORD_ORDERS, { default: 'ABCD', description: 'Default byte and word order of multi-register values (ABCD = big-endian, the Modbus norm).' }),
    addressing: StringEnum(ADDRESSING, { default: 'zero-based', description: 'How the tag addresses are written: zero-based (protocol), one-based, or modicon (40001-style).' }),
    pollGroups: Type.Record(Type.String({ pattern: NAME }), Type.Integer({ minimum: 100, maximum: 86_400_000 }), {
      additionalProperties: false,
      default: { default: 1000 },
      description: 'Poll groups: name → interval in ms (from 100 ms). Tags name their group.',
    }),
    tags: Type.Array(TagSchema, { minItems: 1, description: 'The register map.' }),
  },
  { additionalProperties: false, description: 'One unit on the connection.' },
);

export const ModbusSourceSchema = Type.Object(
  {
    name: SourceNameSchema,
    type: Type.Literal('modbus', { description: 'Modbus TCP or RTU polling (read-only: function codes 1–4).' }),
    transport: StringEnum(MODBUS_TRANSPORTS, {
      default: 'tcp',
      description: 'tcp: Modbus TCP (MBAP). rtu: RTU frames on a serial port. rtu-over-tcp: RTU frames (with CRC) through a serial-to-TCP converter.',
    }),
    address: Type.Optional(Type.String({ pattern: HOST_PORT, description: 'HOST:PORT for tcp and rtu-over-tcp (usually port 502).' })),
    serial: Type.Optional(
      Type.Object(
        {
          path: Type.String({ minLength: 1, description: 'Serial device, e.g. /dev/ttyS0 or /dev/ttyUSB0.' }),
          baudRate: Type.Integer({ minimum: 300, maximum: 921_600, default: 9600, description: 'Baud rate of the line.' }),
          parity: StringEnum(['none', 'even', 'odd'] as const, { default: 'even', description: 'Parity (the Modbus default is even).' }),
          stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: 'Stop bits per character.' }),
          dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8, description: 'Data bits (RTU needs 8).' }),
        },
        { additionalProperties: false, description: 'Serial line settings for transport rtu.' },
      ),
    ),
    timeoutMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'A request unanswered this long fails with a timeout.' }),
    interFrameDelayMs: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1000,
        description: 'Silence between a response and the next request on a serial bus, ms; default 3.5 character times (1.75 ms above 19,200 baud).',
      }),
    ),
    maxGap: Type.Integer({
      minimum: 0,
      maximum: 124,
      default: 8,
      description: 'Neighbouring tags are read together when at most this many unmapped registers (×16 bits for coils and inputs) lie between them.',
    }),
    maxRegistersPerRead: Type.Integer({ minimum: 1, maximum: 125, default: 125, description: 'Largest register read (the protocol allows 125).' }),
    maxBitsPerRead: Type.Integer({ minimum: 1, maximum: 2000, default: 2000, description: 'Largest coil or discrete input read (the protocol allows 2000).' }),
    staleAfterIntervals: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'A tag not refreshed for this many of its poll intervals is stale (quality bad).' }),
    deviceBackoff: BackoffSchema,
    reconnect: BackoffSchema,
    devices: Type.Array(DeviceSchema, { minItems: 1, description: 'The units polled over this connection (several on a serial bus).' }),
    analytics: StringEnum(['off', 'features'] as const, {
      default: 'off',
      description:
        "features: this source's numeric tag values also feed the windowed statistics (one stream per tag, channel `value`, windowed as they arrive; outlier flags too when `value` is in analytics.detectors.outlier.channels); off: raw values only.",
    }),
    topics: Type.Optional(SourceTopicsSchema),
  },
  { additionalProperties: false, description: 'A Modbus source: one connection and the devices behind it.' },
);

export type ModbusSourceConfig = Static<typeof ModbusSourceSchema>;
export type ModbusDeviceConfig = Static<typeof DeviceSchema>;
export type ModbusTagConfig = Static<typeof TagSchema>;
