import assert from 'node:assert/strict';
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DgramSocket } from 'node-unix-socket';
import { BIN, httpGet, simulatePmu, startGateway } from '../helpers/gridgate.js';
import { BOOTSTRAP, createTopic, ensureKafkaWithTopics } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';
import { until } from '../helpers/wait.js';

// `gridgate run` as a Type=notify unit sees it: a unix datagram socket stands in for systemd's
// NOTIFY_SOCKET (with WATCHDOG_USEC set), and SIGHUP reloads with a changed, an invalid and a
// needs-a-restart config while two simulated PMUs stream. What reaches Kafka is checked by
// verify-topic: a gap inside the epoch would be a record lost by a reload.

class NotifySocket {
  readonly path: string;
  readonly messages: string[] = [];
  readonly #socket = new DgramSocket();

  constructor(dir: string) {
    this.path = join(dir, 'notify.sock');
    this.#socket.bind(this.path);
    this.#socket.on('data', (data: Buffer) => this.messages.push(data.toString()));
  }

  /** Index of the first message at or after `from` that has the line `line`. */
  async waitFor(line: string, from = 0, timeoutMs = 20_000): Promise<number> {
    let at = -1;
    await until(() => (at = this.messages.findIndex((m, i) => i >= from && m.split('\n').includes(line))) >= 0, `"${line}" on NOTIFY_SOCKET`, timeoutMs);
    return at;
  }

  close(): void {
    this.#socket.close();
  }
}

/** `gridgate reload` as ExecReload runs it (async: the gateway's log pipe must keep draining meanwhile). */
function reload(file: string, pid: number): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'reload', '--config', file, '--pid', String(pid)], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const pmuSource = (name: string, port: number, extra = ''): string => `
  - name: ${name}
    type: c37118
    address: 127.0.0.1:${port}
    idcode: 1
    commandTimeoutMs: 1000${extra}`;

describe('gridgate run under systemd (Type=notify, SIGHUP)', () => {
  const children: ChildProcess[] = [];
  let notify: NotifySocket | undefined;
  before(() => ensureKafkaWithTopics());
  after(() => {
    children.forEach((c) => c.kill('SIGKILL'));
    notify?.close();
  });

  it('says READY=1, pings WATCHDOG=1, reloads on SIGHUP restarting only what changed, keeps the running config on a bad one, says STOPPING=1, and loses no record', async (t) => {
    const dir = await tempDir('gridgate-systemd-');
    notify = new NotifySocket(dir);
    const a = await simulatePmu(['--rate', '50', '--fnom', '50', '--pmu-idcode', '101']);
    const b = await simulatePmu(['--rate', '50', '--fnom', '50', '--pmu-idcode', '201']);
    children.push(a.child, b.child);
    const topic = await createTopic('reload-pmu');
    const file = join(dir, 'site.yaml');
    const site = (sources: string, { level = 'info', lingerMs = 1 } = {}): string => `site: north
log: { level: ${level} }
http: { port: 0 }
kafka: { brokers: ["${BOOTSTRAP}"], lingerMs: ${lingerMs}, topics: { pmuFrames: ${topic} } }
spool: { dir: ${join(dir, 'spool')} }
state: { dir: ${dir} }
shutdown: { drainTimeoutMs: 5000 }
sources:${sources}
`;
    await writeFile(file, site(pmuSource('pmu-a', a.port)));
    const gw = startGateway(['run', '--config', file], [], { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '1000000' });
    children.push(gw.child);
    const port = (await gw.waitForLog((l) => l.msg === 'metrics and health endpoints listening')).port as number;

    const ready = await notify.waitFor('READY=1');
    assert.match(notify.messages[ready]!, /^STATUS=kafka .*; sources \d\/1 up$/m);
    // Periodic, every WATCHDOG_USEC / 2 (500 ms here).
    const pings = (): number => notify!.messages.filter((m) => m === 'WATCHDOG=1').length;
    await until(() => pings() >= 3, 'three WATCHDOG=1 pings', 5000);
    await gw.waitForLog((l) => l.msg === 'configuration received' && l.source === 'pmu-a');
    await new Promise((r) => setTimeout(r, 1000));

    // A changed source (restarted), a new one (started), a new log level: applied in place.
    const mark = notify.messages.length;
    // `gridgate reload` (ExecReload) returns once the daemon applied it, and says what it applied.
    const both = pmuSource('pmu-a', a.port, '\n    staleAfterPeriods: 20') + pmuSource('pmu-b', b.port);
    await writeFile(file, site(both, { level: 'debug' }));
    const reloadStart = Date.now();
    const applied = await reload(file, gw.child.pid!);
    t.diagnostic(`gridgate reload (validate, SIGHUP, one source restarted, one started) returned in ${Date.now() - reloadStart} ms`);
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal(applied.stdout, `${file}: reload applied\n  log.level\n  sources.pmu-a (changed)\n  sources.pmu-b (added)\n`);
    const reloaded = gw.logs.find((l) => l.msg === 'config reloaded')!;
    assert.deepEqual(reloaded.changed, ['log.level', 'sources.pmu-a (changed)', 'sources.pmu-b (added)']);
    const reloading = await notify.waitFor('RELOADING=1', mark);
    assert.match(notify.messages[reloading]!, /^MONOTONIC_USEC=\d+$/m);
    assert.match(notify.messages[await notify.waitFor('READY=1', reloading)]!, /\(reload: applied\)/);
    await gw.waitForLog((l) => l.msg === 'configuration received' && l.source === 'pmu-b');
    // Applied before the sources restart, so their restart is already logged at debug.
    const restarted = gw.logs.filter((l) => l.level === 'debug' && l.msg === 'component started for a reload').map((l) => [l.component, l.replaced]);
    assert.deepEqual(restarted, [['source-pmu-a', true], ['source-pmu-b', false]]);
    await new Promise((r) => setTimeout(r, 1000));

    // An invalid file: `gridgate reload` refuses it without signalling; a bare SIGHUP gets it
    // rejected by the daemon, every problem logged with file:line, the running config kept.
    await writeFile(file, site(pmuSource('pmu-a', a.port) + '\n    idcodee: 3'));
    const refused = await reload(file, gw.child.pid!);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /idcodee: unknown key[\s\S]*invalid config, not reloading/);
    gw.child.kill('SIGHUP');
    const rejected = await gw.waitForLog((l) => l.msg === 'config reload rejected: invalid config, keeping the running one');
    assert.match(String((rejected.problems as string[])[0]), new RegExp(`^${file}:\\d+:\\d+ sources\\[0\\]\\.idcodee: unknown key`));
    let metrics = (await httpGet(port, '/metrics')).body;
    assert.match(metrics, /^gridgate_config_last_reload_successful 0$/m);
    assert.match(metrics, /^gridgate_config_reloads_total\{result="invalid"\} 1$/m);

    // A change to kafka needs a restart: nothing applied, said so.
    await writeFile(file, site(both, { level: 'debug', lingerMs: 5 }));
    const needs = await reload(file, gw.child.pid!);
    assert.equal(needs.status, 1);
    assert.equal(needs.stderr, `${file}: reload needs restart\n  kafka\n`);
    assert.deepEqual(gw.logs.find((l) => l.msg === 'config reload needs a restart')?.sections, ['kafka']);

    // Both sources still stream after the rejected reloads.
    const frames = async (source: string): Promise<number> =>
      Number(new RegExp(`^gridgate_c37118_frames_total\\{source="${source}",type="data"\\} (\\d+)$`, 'm').exec((await httpGet(port, '/metrics')).body)?.[1] ?? 0);
    const before = [await frames('pmu-a'), await frames('pmu-b')];
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await frames('pmu-a')) > before[0]! && (await frames('pmu-b')) > before[1]!, 'both sources still receive');
    metrics = (await httpGet(port, '/metrics')).body;
    assert.match(metrics, /^gridgate_config_reloads_total\{result="applied"\} 1$/m);
    assert.match(metrics, /^gridgate_config_reloads_total\{result="needs_restart"\} 1$/m);

    // A source removed: stopped, and its gauges gone (an alert on them would fire until a restart).
    await writeFile(file, site(pmuSource('pmu-b', b.port), { level: 'debug' }));
    const removed = await reload(file, gw.child.pid!);
    assert.equal(removed.stdout, `${file}: reload applied\n  sources.pmu-a (removed)\n`, removed.stderr);
    metrics = (await httpGet(port, '/metrics')).body;
    assert.doesNotMatch(metrics, /^gridgate_c37118_(connected|stale)\{source="pmu-a"\}/m);
    assert.match(metrics, /^gridgate_c37118_connected\{source="pmu-b"\} 1$/m);

    const stopMark = notify.messages.length;
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    assert.match(notify.messages[await notify.waitFor('STOPPING=1', stopMark)]!, /^STATUS=stopping \(SIGTERM\)/m);

    // Every record of both PMUs, across the restart of pmu-a's source: one epoch, no gap, in order.
    const verify = spawnSync(process.execPath, [BIN, 'verify-topic', '--brokers', BOOTSTRAP, '--topic', topic, '--from-beginning', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout) as { clean: boolean; streams: { key: string; records: number; epochs: number; lost: number }[] };
    const streams = Object.fromEntries(report.streams.map((st) => [st.key, st]));
    assert.deepEqual(Object.keys(streams).sort(), ['north/pmu-a/101', 'north/pmu-b/201']);
    // A reload is not a restart: the restarted source's stream stays in its epoch, without a gap.
    assert.deepEqual([streams['north/pmu-a/101']!.epochs, streams['north/pmu-a/101']!.lost], [1, 0]);
    assert.ok(streams['north/pmu-a/101']!.records > 150 && streams['north/pmu-b/201']!.records > 50, JSON.stringify(report.streams));
  });
});
