import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../config/schema-helpers.js';

export const ShutdownSchema = Section(
  {
    drainTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description:
        'How long a stop (SIGTERM/SIGINT) may take in milliseconds: components stop in reverse order within it. Keep it below the unit\'s TimeoutStopSec.',
    }),
  },
  { description: 'Graceful shutdown.' },
);

export type ShutdownConfig = Static<typeof ShutdownSchema>;

export const StateSchema = Type.Object(
  {
    dir: Type.String({
      minLength: 1,
      description:
        'Directory for the small durable state of a site: the epoch and per-stream sequence reservations (sequence.json). Created if missing. Under systemd: ${STATE_DIRECTORY}, i.e. /var/lib/gridgate/<site>. Required when the site has sources.',
    }),
  },
  { additionalProperties: false, description: 'Durable gateway state (docs/records.md: epoch and seq).' },
);

export type StateConfig = Static<typeof StateSchema>;
