import { Type, type Static } from '@sinclair/typebox';

// What every source schema shares: its name, HOST:PORT addresses, and the optional `topics` key
// that overrides the site-wide kafka.topics for that source's records.

const TOPIC = { pattern: '^[A-Za-z0-9._-]{1,249}$' };

/** HOST:PORT, a name or an IPv4 address, or an IPv6 address in brackets. */
export const HOST_PORT = '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$';

/** Every source's `name`: it becomes part of records, keys, metrics and logs. */
export const SourceNameSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'Source name (lower case, digits, - and _): the `source` of its records and the middle of their Kafka key.',
});

export const SourceTopicsSchema = Type.Object(
  {
    records: Type.Optional(
      Type.String({ ...TOPIC, description: "Topic for this source's measurement records, instead of the site's (kafka.topics.pmuFrames for C37.118, scadaValues for Modbus)." }),
    ),
    deadLetter: Type.Optional(Type.String({ ...TOPIC, description: "Topic for this source's undecodable input, instead of kafka.topics.deadLetter." })),
  },
  { additionalProperties: false, description: 'Topics for this source, overriding kafka.topics (which must still exist, or be created: missingTopics).' },
);

export type SourceTopics = Static<typeof SourceTopicsSchema>;
