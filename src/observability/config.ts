import { Type, type Static } from '@sinclair/typebox';
import { Section, StringEnum } from '../config/schema-helpers.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export const LogSchema = Section(
  {
    level: StringEnum(LOG_LEVELS, {
      default: 'info',
      description:
        'Lowest level written to stdout (journald). error means data loss or an operator must act; nothing per frame is logged above debug.',
    }),
  },
  { description: 'Structured JSON logging (pino) to stdout.' },
);

export const HttpSchema = Section(
  {
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description:
        'Address the metrics and health server binds. Loopback by default: expose it deliberately, e.g. behind a reverse proxy.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 9464,
      description: 'TCP port for /metrics, /healthz and /readyz; 0 picks a free port (logged at start).',
    }),
  },
  { description: 'HTTP server for Prometheus /metrics, /healthz (alive) and /readyz (sources and sink ready).' },
);

export type LogConfig = Static<typeof LogSchema>;
export type HttpConfig = Static<typeof HttpSchema>;
