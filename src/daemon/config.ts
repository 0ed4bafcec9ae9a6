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
