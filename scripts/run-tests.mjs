#!/usr/bin/env node
// Runs node:test on every *.test.ts below the given directories (Node 20's --test takes no globs).
//   node scripts/run-tests.mjs [--with-kafka] DIR [DIR...] [-- extra node --test flags]
// --with-kafka starts the local test broker (scripts/kafka-local on GRIDGATE_TEST_KAFKA_PORT,
// default 19092) before the tests and stops it afterwards, unless it was already running: then it
// is reused and left alone. Each integration test also starts it if needed, so one file can run
// on its own. Every test and suite has a 10-minute deadline (the longest, the delivery suite, takes
// about 4.5): one that hangs fails, named, instead of holding CI until its own limit. A test may
// set a longer `timeout`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaEnv, kafkaRunning } from '../test/helpers/kafka-env.mjs';

const argv = process.argv.slice(2);
const withKafka = argv[0] === '--with-kafka';
const rest = withKafka ? argv.slice(1) : argv;
const split = rest.indexOf('--');
const dirs = rest.slice(0, split < 0 ? undefined : split);
const extra = split < 0 ? [] : rest.slice(split + 1);
const files = dirs
  .flatMap((dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))))
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts under ${dirs.join(', ')}`);
  process.exit(1);
}

const kafkaLocal = (command) =>
  spawnSync('scripts/kafka-local', [command], { stdio: 'inherit', env: { ...process.env, ...kafkaEnv() } }).status;
const startedKafka = withKafka && !kafkaRunning();
if (startedKafka && kafkaLocal('start') !== 0) {
  console.error('run-tests: the local Kafka broker did not start');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=600000', ...extra, ...files], {
  stdio: 'inherit',
});
if (startedKafka) kafkaLocal('stop');
process.exit(result.status ?? 1);
