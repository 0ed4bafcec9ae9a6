import { Type, type Static } from '@sinclair/typebox';
import { Section, StringEnum } from '../../config/schema-helpers.js';
import { SourceAnalyticsSchema } from '../../pipeline/analytics/config.js';
import { HOST_PORT, SourceNameSchema, SourceTopicsSchema } from '../../pipeline/config.js';
import { BackoffSchema } from '../shared/backoff.js';

// One C37.118 source = one connection to a PMU or an upstream PDC, in the PDC client role.

export const C37118_TRANSPORTS = ['tcp', 'udp', 'tcp+udp'] as const;
export const CONFIG_FRAMES = ['cfg2', 'cfg3'] as const;


export const C37118SourceSchema = Type.Object(
  {
    name: SourceNameSchema,
    type: Type.Literal('c37118', { description: 'IEEE C37.118.2 synchrophasor stream (PMU or PDC), gridgate as PDC client.' }),
    transport: StringEnum(C37118_TRANSPORTS, {
      default: 'tcp',
      description:
        'tcp: commands, configuration and data over one TCP connection. udp: spontaneous data to a bound UDP port, no commands. tcp+udp: commands and configuration over TCP, data over UDP.',
    }),
    address: Type.Optional(
      Type.String({
        pattern: HOST_PORT,
        description: 'The device as HOST:PORT (TCP, usually port 4712). Required for tcp and tcp+udp; for udp, datagrams are accepted from this host only.',
      }),
    ),
    idcode: Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'The stream IDCODE of the device: commands carry it (some devices disconnect otherwise) and frames of other streams are rejected.',
    }),
    udp: Type.Optional(
      Section(
        {
          bind: Type.String({
            pattern: HOST_PORT,
            default: '0.0.0.0:4713',
            description: 'Local HOST:PORT the data datagrams arrive on (the port configured in the PMU).',
          }),
          peers: Type.Array(Type.String({ minLength: 1, description: 'A host (IP address) allowed to send data.' }), {
            default: [],
            description: "Hosts whose datagrams are accepted, besides the address's host. Anything else is counted and dropped.",
          }),
        },
        { description: 'UDP reception (transport udp and tcp+udp).' },
      ),
    ),
    configFrame: StringEnum(CONFIG_FRAMES, {
      default: 'cfg2',
      description: 'Configuration to request: cfg2, or cfg3 (falls back to CFG-2 when the device does not answer or closes).',
    }),
    requestHeader: StringEnum(['yes', 'no'] as const, {
      default: 'yes',
      description: 'Ask for the header frame at connect (logged; never waited for: some devices never answer).',
    }),
    commandTimeoutMs: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 2000,
      description: 'How long to wait for the configuration after asking, before asking again (or falling back from CFG-3).',
    }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description: 'TCP connect timeout in milliseconds.',
    }),
    staleAfterPeriods: Type.Integer({
      minimum: 2,
      maximum: 10_000,
      default: 10,
      description:
        'A stream with no data frame for this many reporting periods is marked stale (quality bad) and, over TCP, the connection is re-established.',
    }),
    reconnect: BackoffSchema,
    topics: Type.Optional(SourceTopicsSchema),
    analytics: SourceAnalyticsSchema,
  },
  {
    additionalProperties: false,
    description: 'A C37.118 synchrophasor source.',
    // Commands need somewhere to go: only a pure UDP receiver may leave the address out.
    if: { properties: { transport: { const: 'udp' } }, required: ['transport'] },
    else: { required: ['address'] },
  },
);

export type C37118SourceConfig = Static<typeof C37118SourceSchema>;
