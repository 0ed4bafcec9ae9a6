import { fstatSync } from 'node:fs';
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

// Under systemd, stdout goes to journald: a syslog priority prefix `<N>` on each line lets
// `journalctl -p warning` and the journal's colours know the level. journald strips the prefix, so
// `journalctl -o cat | jq` still reads plain JSON. Only when stdout really is the journal stream
// (JOURNAL_STREAM names its device:inode), never for a terminal, a pipe or a file.
const PRIORITY: Record<string, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 };

function journalPrefix(line: string): string {
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  return `<${PRIORITY[level ?? 'info'] ?? 6}>${line}`;
}

/** sd_journal_stream_fd(3)'s check: JOURNAL_STREAM is "device:inode" of the journal's socket. */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const stream = env['JOURNAL_STREAM'];
  if (!stream) return false;
  try {
    const st = fstatSync(1);
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export function createLogger(
  config: LogConfig,
  bindings: Record<string, string>,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
  journal = stdoutIsJournal(),
): Logger {
  return pino(
    {
      level: config.level,
      ...(journal ? { hooks: { streamWrite: journalPrefix } } : {}),
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
