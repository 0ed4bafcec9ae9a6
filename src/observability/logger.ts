import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogConfig } from './config.js';

export type { Logger } from 'pino';

// pino JSON lines on stdout (journald stores them). Components log through child loggers
// (`log.child({ component: 'kafka-sink' })`). Secrets are Secret objects that serialise as
// [redacted]; the redact paths below are the second line of defence for anything that slips past
// as a plain string (a library error that echoes a connection string, a copied config section).

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'keyPassword',
  '*.keyPassword',
  '*.*.keyPassword',
  '*.*.*.keyPassword',
  '["sasl.password"]',
  '*["sasl.password"]',
  '["ssl.key.password"]',
  '*["ssl.key.password"]',
];

export function createLogger(
  config: LogConfig,
  bindings: Record<string, string>,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level: config.level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
