import { Type, type Static } from '@sinclair/typebox';

// Per-source topic routing: every source schema takes this optional `topics` key, overriding the
// site-wide kafka.topics for that source's records.

const TOPIC = { pattern: '^[A-Za-z0-9._-]{1,249}$' };

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
