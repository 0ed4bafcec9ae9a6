import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startOpcuaSimulator, type OpcuaSimulator } from '../../../../src/protocols/opcua/simulator/simulator.js';
import { metricValue, tempDir } from '../../../helpers/spool.js';
import { opcuaSourceConfig, reasons, startOpcuaSource, trustServer, type RunningSource } from '../../../helpers/opcua-source.js';
import { until } from '../../../helpers/wait.js';

// The OPC UA source against the product simulator (node-opcua's server, SignAndEncrypt): user
// identities, backpressure, and the keep-alive watchdog on a server that stops answering without
// closing its socket. The asyncua peer test and the Kafka integration test cover the rest.

describe('OPC UA source', () => {
  let dir: string;
  let sim: OpcuaSimulator;
  const running: RunningSource[] = [];
  const children: ChildProcess[] = [];
  let userCert: string;
  let userKey: string;

  const config = (overrides: Parameters<typeof opcuaSourceConfig>[0] extends infer T ? Partial<T> : never = {}) =>
    opcuaSourceConfig({
      endpoint: sim.endpointUrl,
      pki: join(dir, 'client-pki'),
      items: [
        { name: 'p', nodeId: `ns=${sim.status.namespaceIndex};s=Substation.Feeder1.P`, group: 'default', unit: 'kW' },
        { name: 'f', nodeId: `ns=${sim.status.namespaceIndex};s=Substation.Frequency`, group: 'default', unit: 'Hz' },
      ],
      ...overrides,
    });

  async function start(...args: Parameters<typeof startOpcuaSource>): Promise<RunningSource> {
    const r = await startOpcuaSource(...args);
    running.push(r);
    return r;
  }

  before(async () => {
    dir = await tempDir('gridgate-opcua-source-');
    // An X.509 user: a self-signed certificate the simulator's user store trusts.
    userKey = join(dir, 'user.key');
    userCert = join(dir, 'user.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', userKey, '-out', userCert, '-days', '30', '-subj', '/CN=gridgate-operator'], { stdio: 'ignore' });
    const simPki = join(dir, 'simulator-pki');
    await mkdir(join(simPki, 'user', 'trusted', 'certs'), { recursive: true });
    execFileSync('openssl', ['x509', '-in', userCert, '-outform', 'DER', '-out', join(simPki, 'user', 'trusted', 'certs', 'operator.der')]);
    sim = await startOpcuaSimulator({ host: '127.0.0.1', port: 0, pkiDir: simPki, security: 'all', users: { operator: 'grid-secret-2' }, log: pino({ level: 'silent' }) });
    await trustServer(join(dir, 'client-pki'), sim.certificateFile);
  });

  after(async () => {
    for (const r of running.splice(0)) await r.stop();
    for (const c of children) c.kill('SIGKILL');
    await sim?.close();
  });

  for (const [mode, policy] of [
    ['Sign', 'Aes128_Sha256_RsaOaep'],
    ['None', undefined],
  ] as const) {
    it(`subscribes with securityMode ${mode}${policy ? ` and ${policy}` : ' (the policy follows)'}`, async () => {
      const r = await start(config({ securityMode: mode, ...(policy ? { securityPolicy: policy } : {}) }));
      await until(() => r.of('p').filter((x) => x.quality === 0).length >= 2 && r.of('f').some((x) => x.quality === 0), 'values', 20_000);
      assert.equal(r.logs.find((l) => l.msg === 'OPC UA session open')?.securityPolicy, policy ?? 'None');
    });
  }

  it('keeps retrying a server that is not there without piling listeners on its stop signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const r = await start(config({ endpoint: 'opc.tcp://127.0.0.1:1', reconnect: { initialMs: 10, maxMs: 20 } })); // refused at once
    try {
      await until(async () => (await metricValue(r.registry, 'gridgate_opcua_session_restarts_total', { source: 'scada', reason: 'connect-failed' })) >= 15, '15 failed connects', 20_000);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => w.name), []);
  });

  it('opens the session with a password from a file (a systemd credential), and is refused with a wrong one', async () => {
    const file = join(dir, 'password');
    await writeFile(file, 'grid-secret-2\n');
    const good = await start(config({ identity: { type: 'username', username: 'operator', passwordFile: file } }));
    await until(() => good.of('p').some((r) => r.quality === 0), 'values for the user', 20_000);

    const wrongFile = join(dir, 'wrong');
    await writeFile(wrongFile, 'nope\n');
    const bad = await start(config({ identity: { type: 'username', username: 'operator', passwordFile: wrongFile } }));
    await until(() => bad.logs.some((l) => String(l.err ?? l.msg).includes('BadUserAccessDenied') || String(l.err ?? '').includes('BadIdentityTokenRejected')), 'the refusal logged', 20_000);
    assert.equal(bad.source.readiness().ready, false);
    assert.ok(!JSON.stringify([...good.logs, ...bad.logs]).includes('grid-secret-2'), 'the password never reaches a log line');
  });

  it('opens the session with an X.509 user identity the server trusts', async () => {
    const r = await start(config({ identity: { type: 'certificate', certificateFile: userCert, privateKeyFile: userKey } }));
    await until(() => r.of('p').some((x) => x.quality === 0), 'values for the X.509 user', 20_000);
  });

  it('stops the server publishing while the pipeline is full and resumes when it has room', async () => {
    let full = false;
    let resume: (() => void) | undefined;
    const r = await start(config(), { emit: () => !full, onResume: (f) => (resume = f) });
    await until(() => r.of('p').length >= 3, 'values', 20_000);
    full = true;
    const before = r.records.length;
    await until(() => r.records.length > before, 'one more emit, answered "full"', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the SetPublishingMode round trip
    const paused = r.records.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(r.records.length - paused <= 2, `no records while paused (got ${r.records.length - paused})`);
    full = false;
    resume!();
    await until(() => r.records.length >= paused + 5, 'records again after resume', 5000);
  });

  it('finds a silent subscription with its watchdog (a server frozen with its socket open) and recovers', async () => {
    // A simulator in its own process, frozen with SIGSTOP: the TCP connection stays up, nothing arrives.
    const pki = join(dir, 'frozen-sim-pki');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'opcua', '--listen', '127.0.0.1:0', '--pki', pki, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child);
    const status = JSON.parse(await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString())))) as {
      endpoint: string;
      certificateFile: string;
      namespaceIndex: number;
    };
    const clientPki = join(dir, 'frozen-client-pki');
    await trustServer(clientPki, status.certificateFile);
    const r = await start(
      opcuaSourceConfig({
        endpoint: status.endpoint,
        pki: clientPki,
        watchdogMs: 2000,
        requestTimeoutMs: 1000,
        items: [{ name: 'p', nodeId: `ns=${status.namespaceIndex};s=Substation.Feeder1.P`, group: 'default', unit: 'kW' }],
      }),
    );
    await until(() => r.of('p').filter((x) => x.quality === 0).length >= 3, 'values', 30_000);
    child.kill('SIGSTOP');
    await until(() => r.of('p').some((x) => x.quality !== 0), 'the item marked when the server went silent', 15_000);
    const silentAt = r.records.length;
    child.kill('SIGCONT');
    await until(() => r.records.slice(silentAt).some((x) => x.stream === 'p' && x.quality === 0), 'values again after the server woke up', 30_000);
    // The session's own keep-alive would take requestTimeoutMs × retries to call the connection
    // dead; the watchdog sees the subscription silent after watchdogMs and marks its items stale.
    assert.ok((await metricValue(r.registry, 'gridgate_opcua_watchdog_trips_total', { source: 'scada' })) >= 1);
    assert.ok(r.of('p').some((x) => reasons(x).includes('stale')), 'the item marked stale by the watchdog');
    child.kill('SIGTERM');
  });
});
