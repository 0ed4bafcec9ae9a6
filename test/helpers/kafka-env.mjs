// Where the test broker lives, shared by scripts/run-tests.mjs and test/helpers/kafka.ts: its own
// port (not 9092, so a developer's or the demo's broker is never touched) and a data directory
// under the OS temp dir.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_KAFKA_PORT = Number(process.env.GRIDGATE_TEST_KAFKA_PORT ?? 19092);

export function kafkaEnv() {
  return {
    KAFKA_PORT: String(TEST_KAFKA_PORT),
    KAFKA_DATA_DIR: join(tmpdir(), `gridgate-test-kafka-${TEST_KAFKA_PORT}`),
  };
}

/** The broker process from kafka-local's pid file is alive (cheap: no JVM, no network). */
export function kafkaRunning() {
  try {
    process.kill(Number(readFileSync(join(kafkaEnv().KAFKA_DATA_DIR, 'kafka.pid'), 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}
