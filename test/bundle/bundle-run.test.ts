import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DgramSocket } from 'node-unix-socket';
import { INSTALLED_NODE_FLAGS } from '../../scripts/substation/node-flags.js';
import { BOOTSTRAP, createTopic, ensureKafkaWithTopics } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';
import { until } from '../helpers/wait.js';
import { assertBundleBuilt, installFresh, NODE_VERSION, run } from './bundle-files.js';

// The installed bundle doing its job: `gridgate simulate pmu` and `gridgate run` from the install
// (its bundled Node, its node_modules, nothing from this checkout) against the real test broker,
// then `gridgate verify-topic` from the install reads the topic back. A unix datagram socket
// stands in for systemd's NOTIFY_SOCKET: sd_notify (node-unix-socket's prebuilt Node-API binary)
// must work on the bundled runtime as it does on the development one.

/** Starts an installed command with its stdout split into lines; resolves lines as they come. */
function start(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const { NODE_OPTIONS: _options, NODE_PATH: _path, ...env } = process.env;
  const child = spawn(command, args, { cwd: '/', env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const waitFor = async (match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no such line from ${args[0]}:\n${lines.join('\n')}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, lines, exited, waitFor, stderr: () => stderr };
}

describe('the installed bundle against the test broker', () => {
  const children: ChildProcess[] = [];
  let root = '';
  before(async () => {
    assertBundleBuilt();
    await ensureKafkaWithTopics();
    root = await installFresh();
  });
  after(() => {
    children.forEach((c) => c.kill('SIGKILL'));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('carries a simulated PMU to Kafka for 5 s on the bundled Node, stops with exit 0 on SIGTERM, and verify-topic finds the topic clean', async (t) => {
    const gridgate = join(root, 'usr/bin/gridgate');
    const sim = start(gridgate, ['simulate', 'pmu', '--listen', '127.0.0.1:0', '--pmus', '1', '--rate', '50', '--fnom', '50']);
    children.push(sim.child);
    const address = (JSON.parse(await sim.waitFor((l) => l.startsWith('{'))) as { tcp: string }).tcp;

    const topics = { pmuFrames: await createTopic('bundle-pmu'), deadLetter: await createTopic('bundle-dlq') };
    const state = await tempDir('gridgate-bundle-');
    const config = join(state, 'site.yaml');
    await writeFile(config, `site: north
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  lingerMs: 1
  topics: { pmuFrames: ${topics.pmuFrames}, deadLetter: ${topics.deadLetter} }
spool: { dir: ${join(state, 'spool')} }
state: { dir: ${state} }
sources:
  - { name: pmu-a, type: c37118, address: "${address}", idcode: 1 }
shutdown: { drainTimeoutMs: 5000 }
`);
    const notify = new DgramSocket();
    const notes: string[] = [];
    notify.bind(join(state, 'notify.sock'));
    notify.on('data', (data: Buffer) => notes.push(data.toString()));
    const gw = start(gridgate, ['run', '--config', config], { NOTIFY_SOCKET: join(state, 'notify.sock'), WATCHDOG_USEC: '1000000' });
    children.push(gw.child);
    const log = async (msg: string): Promise<Record<string, unknown>> =>
      JSON.parse(await gw.waitFor((l) => (JSON.parse(l) as { msg?: string }).msg === msg)) as Record<string, unknown>;
    const started = await log('gridgate started');
    assert.equal(started.node, NODE_VERSION, 'the bundled runtime, not the one running this test');
    assert.deepEqual(started.nodeFlags, [...INSTALLED_NODE_FLAGS], "the launcher's Node flags");
    await log('configuration received');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    assert.equal((await log('gridgate stopped')).clean, true);
    sim.child.kill('SIGTERM');
    const said = (line: string): boolean => notes.some((n) => n.split('\n').includes(line));
    await until(() => said('STOPPING=1'), 'STOPPING=1 on NOTIFY_SOCKET', 2000);
    notify.close();
    assert.ok(said('READY=1') && said('WATCHDOG=1'), `READY=1 and WATCHDOG=1 from the bundled runtime: ${JSON.stringify(notes)}`);

    const verify = run(gridgate, ['verify-topic', '--brokers', BOOTSTRAP, '--topic', topics.pmuFrames, '--from-beginning', '--json'], { cwd: '/' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout) as { records: number; streams: unknown[] };
    t.diagnostic(`${report.records} records in ${report.streams.length} stream(s), clean`);
    assert.ok(report.records >= 200, `about 250 frames in 5 s at 50 frames/s, saw ${report.records}`);
    assert.equal(report.streams.length, 1);
  });
});
