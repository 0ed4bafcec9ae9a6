import { Type, type Static } from '@sinclair/typebox';
import { SpoolSchema } from '../buffer/config.js';
import { ShutdownSchema } from '../daemon/config.js';
import { HttpSchema, LogSchema } from '../observability/config.js';
import { KafkaSchema } from '../sinks/kafka/config.js';

// The site config schema, composed from each component's own schema. config/schema.json and the
// reference in docs/config.md are generated from it (`npm run schema`); a test keeps them current.
// Protocol sources join under `sources` as their issues land.

export const SITE_SCHEMA_ID = 'urn:gridgate:site-config:1';

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
    shutdown: ShutdownSchema,
  },
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SITE_SCHEMA_ID,
    title: 'gridgate site configuration',
    description: 'One file per substation site, usually /etc/gridgate/sites/<site>.yaml.',
    additionalProperties: false,
    // WAL mode writes every record to the spool before sending it: it cannot run without one.
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
);

export type SiteConfig = Static<typeof SiteConfigSchema>;
