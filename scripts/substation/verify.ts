import { execFile } from 'node:child_process';
import type { TopicReport } from '../../src/sinks/kafka/topic-audit.js';
import { BIN } from './children.js';

// `gridgate verify-topic --json` for each topic of a site, run as an operator would run it.

const VERIFY_TIMEOUT_MS = 15 * 60_000;

export interface TopicVerdict {
  topic: string;
  report: TopicReport;
}

export function verifyTopic(topic: string, configFile: string, env: NodeJS.ProcessEnv = {}): Promise<TopicVerdict> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // An hour of a soak is millions of records, and the topics are read at once: give it time.
      [BIN, 'verify-topic', '--topic', topic, '--from-beginning', '--config', configFile, '--json', '--timeout-ms', String(VERIFY_TIMEOUT_MS)],
      { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 2 ** 20, timeout: VERIFY_TIMEOUT_MS + 60_000 },
      (err, stdout, stderr) => {
        // Exit 1 means "not clean": the report says why. Anything else without a report is a failure.
        try {
          resolve({ topic, report: JSON.parse(stdout) as TopicReport });
        } catch {
          reject(new Error(`verify-topic ${topic} failed (${err ? `${err.message}, code ${String(err.code)}, signal ${String(err.signal)}` : 'exit 0'}; ${stdout.length} bytes of output)\n${stderr}`));
        }
      },
    );
  });
}

/** Every topic at once: each verify-topic spends most of its time waiting for the partitions' ends. */
export function verifyTopics(topics: readonly string[], configFile: string, env: NodeJS.ProcessEnv = {}): Promise<TopicVerdict[]> {
  return Promise.all(topics.map((topic) => verifyTopic(topic, configFile, env)));
}

/** One line per topic, as verify-topic's own summary line says it. */
export function verdictLines(verdicts: readonly TopicVerdict[]): string[] {
  return verdicts.map(({ topic, report: r }) => {
    const t = r.totals;
    return `${topic}: ${r.records} records, ${r.streams.length} streams: ${r.clean ? 'clean' : 'NOT CLEAN'} (${t.lost} lost, ${t.duplicates} duplicates, ${t.outOfOrder} out of order, ${t.lostAcrossRestarts} missing across restarts)`;
  });
}
