import { Type, type Static } from '@sinclair/typebox';
import { SpoolSchema } from '../buffer/config.js';
import { AnalyticsSchema } from '../pipeline/analytics/config.js';
import { ShutdownSchema, StateSchema } from '../daemon/config.js';
import { C37118SourceSchema, type C37118SourceConfig } from '../protocols/c37118/config.js';
import { ModbusSourceSchema, type ModbusSourceConfig } from '../protocols/modbus/config.js';
import { OpcuaSourceSchema, type OpcuaSourceConfig } from '../protocols/opcua/config.js';
import { HttpSchema, LogSchema } from '../observability/config.js';
import { KafkaSchema } from '../sinks/kafka/config.js';

// The site config schema, composed from each component's own schema. config/schema.json and the
// reference in docs/config.md are generated from it (`npm run schema`); a test keeps them current.
// Each protocol's source schema joins `sources`.

export const SITE_SCHEMA_ID = 'urn:gridgate:site-config:1';

/**
 * A source: one schema per protocol, chosen by `type` (ajv's discriminator), so a problem is
 * reported against that protocol's keys only, never as "must match exactly one schema".
 */
const SourceSchema = Type.Unsafe<C37118SourceConfig | ModbusSourceConfig | OpcuaSourceConfig>({
  type: 'object',
  required: ['type'],
  oneOf: [C37118SourceSchema, ModbusSourceSchema, OpcuaSourceSchema],
  discriminator: { propertyName: 'type' },
  description: 'One field device connection; `type` chooses the protocol and its keys.',
});

export const SiteConfigSchema = Type.Object(
  {
    site: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      description:
        'Site identifier (lower case, digits, - and _): the `site` field, header and first part of the Kafka key of every record.',
    }),
    log: LogSchema,
    http: HttpSchema,
    kafka: KafkaSchema,
    spool: Type.Optional(SpoolSchema),
    state: Type.Optional(StateSchema),
    sources: Type.Array(SourceSchema, {
      default: [],
      description: 'The field devices this site reads from, one entry per connection. Names must be unique.',
    }),
    analytics: AnalyticsSchema,
    shutdown: ShutdownSchema,
  },
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SITE_SCHEMA_ID,
    title: 'gridgate site configuration',
    description: 'One file per substation site, usually /etc/gridgate/sites/<site>.yaml.',
    additionalProperties: false,
    allOf: [
      // WAL mode writes every record to the spool before sending it: it cannot run without one.
      {
        if: {
          type: 'object',
          properties: {
            kafka: {
              type: 'object',
              properties: { delivery: { type: 'object', properties: { mode: { const: 'wal' } }, required: ['mode'] } },
              required: ['delivery'],
            },
          },
          required: ['kafka'],
        },
        then: { required: ['spool'] },
      },
      // Records need the spool (the sink's delivery guarantee) and the state (epoch and seq).
      {
        if: { type: 'object', properties: { sources: { type: 'array', minItems: 1 } }, required: ['sources'] },
        then: { required: ['spool', 'state'] },
      },
    ],
  },
);

export type SiteConfig = Static<typeof SiteConfigSchema>;
