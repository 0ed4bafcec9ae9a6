import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  DataType,
  makeBrowsePath,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import pino from 'pino';
import { GatewayError } from '../../../../src/errors.js';
import { routeLibraryLogs } from '../../../../src/protocols/opcua/library-logs.js';
import { startOpcuaSimulator, type OpcuaSimulator } from '../../../../src/protocols/opcua/simulator/simulator.js';
import { substationTags, syntheticTags } from '../../../../src/protocols/opcua/simulator/tags.js';
import { tempDir } from '../../../helpers/spool.js';
import { until } from '../../../helpers/wait.js';

// The OPC UA simulator against node-opcua's client, as the gateway meets it: SignAndEncrypt with a
// client that trusts only the server certificate copied into its PKI (no auto-accept). One server
// PKI folder and one client PKI folder for the whole file: node-opcua creates each RSA key and
// certificate once (about a second each).

const silent = pino({ level: 'silent' });
// node-opcua's own messages (it prints them on stdout): its errors only, on stderr.
routeLibraryLogs(pino({ level: 'warn' }, pino.destination(2)));
const PASSWORD = 'correct horse battery';

interface Connected {
  client: OPCUAClient;
  session: ClientSession;
  close(): Promise<void>;
}

describe('OPC UA simulator', () => {
  let pkiDir: string;
  let clientPki: string;
  let clientCerts: OPCUACertificateManager;
  let sim: OpcuaSimulator;
  const opened: Connected[] = [];
  const sims: OpcuaSimulator[] = [];

  async function start(options: Partial<Parameters<typeof startOpcuaSimulator>[0]> = {}): Promise<OpcuaSimulator> {
    const s = await startOpcuaSimulator({ pkiDir, port: 0, log: silent, ...options });
    sims.push(s);
    return s;
  }

  async function connect(
    target: OpcuaSimulator,
    opts: { mode?: MessageSecurityMode; policy?: SecurityPolicy; user?: UserIdentityInfo } = {},
  ): Promise<Connected> {
    const client = OPCUAClient.create({
      applicationName: 'gridgate-simulator-test',
      securityMode: opts.mode ?? MessageSecurityMode.SignAndEncrypt,
      securityPolicy: opts.policy ?? SecurityPolicy.Basic256Sha256,
      clientCertificateManager: clientCerts,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
      requestedSessionTimeout: 10_000,
    });
    try {
      await client.connect(target.endpointUrl);
      const session = await client.createSession(opts.user);
      const c = { client, session, close: async () => void (await session.close().catch(() => undefined), await client.disconnect()) };
      opened.push(c);
      return c;
    } catch (err) {
      await client.disconnect();
      throw err;
    }
  }

  before(async () => {
    pkiDir = await tempDir('gridgate-opcua-sim-');
    clientPki = await tempDir('gridgate-opcua-sim-client-');
    sim = await start({ tags: 3, users: { operator: PASSWORD } });
    // What a gateway operator does (gridgate opcua trust): the server certificate in trusted/certs.
    await mkdir(join(clientPki, 'trusted', 'certs'), { recursive: true });
    await copyFile(sim.certificateFile, join(clientPki, 'trusted', 'certs', 'simulator.pem'));
    clientCerts = new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: false });
    await clientCerts.initialize();
  });

  after(async () => {
    for (const c of opened.splice(0)) await c.close();
    for (const s of sims.splice(0)) await s.close();
    await clientCerts?.dispose();
  });

  it('serves the substation and synthetic tags as ns=1;s=<name> in urn:gridgate:simulator, over SignAndEncrypt', async () => {
    const { session } = await connect(sim);
    const namespaces = await session.readNamespaceArray();
    assert.equal(namespaces.indexOf('urn:gridgate:simulator'), 1);
    assert.equal(sim.status.namespaceIndex, 1);
    assert.equal(sim.nodes.length, 14 + 3);
    assert.deepEqual(sim.nodes.find((n) => n.name === 'Substation.Feeder1.P'), {
      name: 'Substation.Feeder1.P',
      nodeId: 'ns=1;s=Substation.Feeder1.P',
      browsePath: '/1:Substation/1:Feeder1/1:P',
      dataType: 'Double',
    });
    assert.deepEqual(
      sim.nodes.slice(-3).map((n) => n.nodeId),
      ['ns=1;s=Sim.Tag00001', 'ns=1;s=Sim.Tag00002', 'ns=1;s=Sim.Tag00003'],
    );
    const values = await session.read(sim.nodes.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.Value })));
    values.forEach((dv, i) => {
      const node = sim.nodes[i]!;
      assert.equal(dv.statusCode.name, 'Good', node.name);
      assert.equal(DataType[dv.value.dataType], node.dataType, node.name);
      // every value is a pure function of its sourceTimestamp
      assert.ok(dv.sourceTimestamp, node.name);
      assert.equal(dv.value.value, sim.valueAt(node.name, dv.sourceTimestamp), node.name);
    });
  });

  it('resolves every browse path from the Objects folder to the NodeId it lists', async () => {
    const { session } = await connect(sim);
    const results = await session.translateBrowsePath(sim.nodes.map((n) => makeBrowsePath('ObjectsFolder', n.browsePath)));
    results.forEach((r, i) => {
      assert.equal(r.statusCode.name, 'Good', sim.nodes[i]!.browsePath);
      assert.equal(r.targets?.[0]?.targetId.toString(), sim.nodes[i]!.nodeId);
    });
  });

  it('gives each Double an EURange (percent deadbands need it) and engineering units, and serves nothing writable', async () => {
    const { session } = await connect(sim);
    const [range, units, simRange] = await session.translateBrowsePath([
      makeBrowsePath('ObjectsFolder', '/1:Substation/1:Feeder1/1:P/0:EURange'),
      makeBrowsePath('ObjectsFolder', '/1:Substation/1:Feeder1/1:P/0:EngineeringUnits'),
      makeBrowsePath('ObjectsFolder', '/1:Sim/1:Tag00001/0:EURange'),
    ]);
    const [r, u, s] = await session.read([range, units, simRange].map((t) => ({ nodeId: t!.targets![0]!.targetId, attributeId: AttributeIds.Value })));
    assert.deepEqual({ low: r!.value.value.low, high: r!.value.value.high }, { low: 0, high: 5000 });
    assert.equal(u!.value.value.displayName.text, 'kW');
    assert.deepEqual({ low: s!.value.value.low, high: s!.value.value.high }, { low: 0, high: 200 });

    const access = await session.read(sim.nodes.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.UserAccessLevel })));
    for (const a of access) assert.equal(a.value.value, 1, 'CurrentRead only');
    const write = await session.write({ nodeId: 'ns=1;s=Substation.Feeder1.P', attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Double, value: 1 } } });
    assert.ok(write.isNotGood(), `a write is refused (got ${write.name})`);
  });

  it('changes the values every update with advancing sourceTimestamps, for items sampled at 0 and at 100 ms', async () => {
    const { session } = await connect(sim);
    const sub = await ClientSubscription.create(session, {
      requestedPublishingInterval: 100,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 100,
      publishingEnabled: true,
    });
    const seen = new Map<string, DataValue[]>();
    for (const [name, samplingInterval] of [
      ['Substation.Feeder1.P', 0],
      ['Sim.Tag00001', 100],
    ] as const) {
      const item = ClientMonitoredItem.create(sub, { nodeId: `ns=1;s=${name}`, attributeId: AttributeIds.Value }, { samplingInterval, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
      seen.set(name, []);
      item.on('changed', (dv: DataValue) => seen.get(name)!.push(dv));
    }
    const before = sim.updates();
    await until(() => [...seen.values()].every((v) => v.length >= 6), 'six values of each item', 10_000);
    await sub.terminate();
    assert.ok(sim.updates() > before);
    for (const [name, dvs] of seen) {
      const times = dvs.map((dv) => dv.sourceTimestamp!.getTime());
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `${name}: sourceTimestamps advance (${times.join(', ')})`);
      assert.ok(new Set(dvs.map((dv) => dv.value.value as number)).size >= dvs.length - 1, `${name}: the value changes`);
      for (const dv of dvs) {
        assert.equal(dv.statusCode.name, 'Good');
        assert.equal(dv.value.value, sim.valueAt(name, dv.sourceTimestamp!));
        assert.ok(dv.serverTimestamp, 'the server stamps its time too');
      }
    }
  });

  it('offers Sign and SignAndEncrypt with Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss, and no endpoint without security', async () => {
    const { client } = await connect(sim, { mode: MessageSecurityMode.Sign, policy: SecurityPolicy.Aes128_Sha256_RsaOaep });
    const endpoints = await client.getEndpoints();
    const offered = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]} ${e.securityPolicyUri?.split('#')[1]}`).sort();
    assert.deepEqual(offered, [
      'Sign Aes128_Sha256_RsaOaep',
      'Sign Aes256_Sha256_RsaPss',
      'Sign Basic256Sha256',
      'SignAndEncrypt Aes128_Sha256_RsaOaep',
      'SignAndEncrypt Aes256_Sha256_RsaPss',
      'SignAndEncrypt Basic256Sha256',
    ]);
    const pss = await connect(sim, { mode: MessageSecurityMode.SignAndEncrypt, policy: SecurityPolicy.Aes256_Sha256_RsaPss });
    const [dv] = await pss.session.read([{ nodeId: 'ns=1;s=Substation.Frequency', attributeId: AttributeIds.Value }]);
    assert.equal(dv!.statusCode.name, 'Good');
    await assert.rejects(connect(sim, { mode: MessageSecurityMode.None, policy: SecurityPolicy.None }));
  });

  it('accepts the configured user with the right password and refuses a wrong one', async () => {
    const ok = await connect(sim, { user: { type: UserTokenType.UserName, userName: 'operator', password: PASSWORD } });
    const [dv] = await ok.session.read([{ nodeId: 'ns=1;s=Substation.Mode', attributeId: AttributeIds.Value }]);
    assert.match(String(dv!.value.value), /^(REMOTE|LOCAL)$/);
    await assert.rejects(connect(sim, { user: { type: UserTokenType.UserName, userName: 'operator', password: 'wrong' } }), /BadUserAccessDenied/);
    await assert.rejects(connect(sim, { user: { type: UserTokenType.UserName, userName: 'nobody', password: PASSWORD } }), /BadUserAccessDenied/);
  });

  it('deletes a removed tag: its monitored item goes bad, reads answer BadNodeIdUnknown, it is no longer listed', async () => {
    const { session } = await connect(sim);
    const sub = await ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100, publishingEnabled: true });
    const item = ClientMonitoredItem.create(sub, { nodeId: 'ns=1;s=Sim.Tag00003', attributeId: AttributeIds.Value }, { samplingInterval: 100, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    const statuses: string[] = [];
    item.on('changed', (dv: DataValue) => statuses.push(dv.statusCode.name));
    await until(() => statuses.includes('Good'), 'a first value', 5000);
    sim.removeNode('Sim.Tag00003');
    await until(() => statuses.some((s) => s !== 'Good'), 'a bad status on the monitored item', 5000);
    assert.match(statuses.at(-1)!, /^BadNodeId(Invalid|Unknown)$/);
    await sub.terminate();
    const [read, eu] = await session.read([
      { nodeId: 'ns=1;s=Sim.Tag00003', attributeId: AttributeIds.Value },
      { nodeId: 'ns=1;s=Sim.Tag00002', attributeId: AttributeIds.Value },
    ]);
    assert.equal(read!.statusCode.name, 'BadNodeIdUnknown');
    assert.equal(eu!.statusCode.name, 'Good', 'the other tags are served on');
    const [gone] = await session.translateBrowsePath([makeBrowsePath('ObjectsFolder', '/1:Sim/1:Tag00003/0:EURange')]);
    assert.ok(gone!.statusCode.isNotGood(), 'its EURange went with it');
    assert.ok(!sim.nodes.some((n) => n.name === 'Sim.Tag00003'));
    assert.throws(() => sim.removeNode('Sim.Tag00003'), (err: unknown) => err instanceof GatewayError && err.code === 'GW_ERR_USAGE');
  });

  it('keeps its certificate across a restart on the same PKI folder and port, so a client that trusts it reconnects', async () => {
    const first = await start();
    const { port, thumbprint } = first;
    const pem = await readFile(first.certificateFile, 'utf8');
    const a = await connect(first);
    await a.close();
    await first.close();
    const second = await start({ port });
    assert.equal(second.port, port);
    assert.equal(second.endpointUrl, `opc.tcp://127.0.0.1:${port}`);
    assert.equal(second.thumbprint, thumbprint);
    assert.equal(second.thumbprint, sim.thumbprint);
    assert.match(second.thumbprint, /^[0-9a-f]{40}$/);
    assert.equal(await readFile(second.certificateFile, 'utf8'), pem);
    const b = await connect(second);
    const [dv] = await b.session.read([{ nodeId: 'ns=1;s=Substation.Feeder2.V', attributeId: AttributeIds.Value }]);
    assert.equal(dv!.statusCode.name, 'Good');
  });

  it('with trustClients pki refuses an unknown client certificate, files it in rejected/, and accepts it from trusted/certs', async () => {
    const strict = await start({ trustClients: 'pki' });
    await assert.rejects(connect(strict), /BadSecurityChecksFailed|BadCertificate/);
    const rejected = await readdir(join(pkiDir, 'rejected'));
    assert.equal(rejected.length, 1, `one certificate in rejected/ (${rejected.join(', ')})`);
    await strict.close();
    await rename(join(pkiDir, 'rejected', rejected[0]!), join(pkiDir, 'trusted', 'certs', rejected[0]!));
    const again = await start({ trustClients: 'pki' });
    const { session } = await connect(again);
    const [dv] = await session.read([{ nodeId: 'ns=1;s=Substation.Transformer1.TapPosition', attributeId: AttributeIds.Value }]);
    assert.equal(dv!.value.dataType, DataType.Int32);
  });
});

describe('OPC UA simulator values', () => {
  it('gives each feeder I = S / (√3 V), and P, Q and I of 0 while its breaker is open', () => {
    const tags = new Map(substationTags().map((t) => [t.name, t]));
    const at = (name: string, ms: number) => tags.get(name)!.at(ms);
    // Feeder1 opens for the last 5 s of every 120 s, Feeder2 for the last 10 s of every 180 s.
    const closed = 1_800_000_000_000 - (1_800_000_000_000 % 120_000) + 10_000;
    const open = closed - 10_000 + 117_000;
    const p = at('Substation.Feeder1.P', closed) as number;
    const q = at('Substation.Feeder1.Q', closed) as number;
    const v = at('Substation.Feeder1.V', closed) as number;
    assert.equal(at('Substation.Feeder1.BreakerClosed', closed), true);
    assert.ok(p > 900 && p < 1500 && v > 10.8 && v < 11.2, `P ${p} kW, V ${v} kV`);
    assert.ok(Math.abs((at('Substation.Feeder1.I', closed) as number) - Math.hypot(p, q) / (Math.sqrt(3) * v)) < 1e-9);
    assert.equal(at('Substation.Feeder1.BreakerClosed', open), false);
    for (const x of ['P', 'Q', 'I']) assert.equal(at(`Substation.Feeder1.${x}`, open), 0);
    assert.ok((at('Substation.Feeder1.V', open) as number) > 10, 'the bus voltage stays');
  });

  it('keeps every value inside its EURange and repeats it for the same time', () => {
    const tags = [...substationTags(), ...syntheticTags(200)];
    for (let ms = 1_800_000_000_000; ms < 1_800_000_000_000 + 3_600_000; ms += 7_919) {
      for (const t of tags) {
        const v = t.at(ms);
        assert.equal(t.at(ms), v);
        if (t.range) assert.ok(typeof v === 'number' && v >= t.range.low && v <= t.range.high, `${t.name} ${v} at ${ms}`);
      }
    }
    const tap = new Set(Array.from({ length: 600 }, (_, i) => tags.find((t) => t.name.endsWith('TapPosition'))!.at(1_800_000_000_000 + i * 1000)));
    assert.ok([...tap].every((x) => Number.isInteger(x) && (x as number) >= -8 && (x as number) <= 8) && tap.size > 10);
  });
});

describe('gridgate simulate opcua', () => {
  let pkiDir: string;
  before(async () => {
    pkiDir = await tempDir('gridgate-opcua-sim-cli-');
  });

  it('prints one JSON status line, serves, never shows the password, and stops cleanly on SIGTERM', async () => {
    const password = 'never-in-a-log-7';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'simulate', 'opcua', '--listen', '127.0.0.1:0', '--pki', pkiDir, '--tags', '2', '--update-ms', '50', '--user', 'operator', '--log-level', 'debug'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRIDGATE_SIM_OPCUA_PASSWORD: password } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await until(() => stdout.includes('\n') || child.exitCode !== null, 'the status line', 30_000);
    const status = JSON.parse(stdout.split('\n')[0]!) as Record<string, unknown>;
    assert.equal(status.status, 'serving');
    assert.equal(status.simulator, 'opcua');
    assert.match(String(status.endpoint), /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(status.endpoint, `opc.tcp://127.0.0.1:${status.port}`);
    assert.equal(status.namespaceUri, 'urn:gridgate:simulator');
    assert.equal(status.namespaceIndex, 1);
    assert.equal(status.certificateFile, join(pkiDir, 'own', 'certs', 'certificate.pem'));
    assert.match(String(status.thumbprint), /^[0-9a-f]{40}$/);
    assert.deepEqual(status.securityPolicies, ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']);
    assert.deepEqual(status.securityModes, ['Sign', 'SignAndEncrypt']);
    assert.deepEqual(status.users, ['operator']);
    assert.equal(status.tags, 16);
    assert.equal(status.updateMs, 50);

    const clientPki = await tempDir('gridgate-opcua-sim-cli-client-');
    await mkdir(join(clientPki, 'trusted', 'certs'), { recursive: true });
    await copyFile(String(status.certificateFile), join(clientPki, 'trusted', 'certs', 'simulator.pem'));
    const certs = new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: false });
    const client = OPCUAClient.create({
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      clientCertificateManager: certs,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
    });
    try {
      await client.connect(String(status.endpoint));
      const session = await client.createSession({ type: UserTokenType.UserName, userName: 'operator', password });
      const [dv] = await session.read([{ nodeId: 'ns=1;s=Sim.Tag00002', attributeId: AttributeIds.Value }]);
      assert.equal(dv!.statusCode, StatusCodes.Good);
      await session.close();
    } finally {
      await client.disconnect();
      await certs.dispose();
    }

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim().split('\n').length, 1, 'nothing but the status line on stdout');
    assert.ok(!stderr.includes(password), 'the password is not logged');
    assert.match(stderr, /client certificate accepted/);
  });

  it('exits 64 for --user without its password variable and for --no-anonymous without --user', () => {
    const env = { ...process.env };
    delete env.GRIDGATE_SIM_OPCUA_PASSWORD;
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'opcua', '--pki', pkiDir, ...args], { encoding: 'utf8', timeout: 30_000, env });
    const noPassword = run('--user', 'operator');
    assert.equal(noPassword.status, 64, noPassword.stderr);
    assert.match(noPassword.stderr, /GRIDGATE_SIM_OPCUA_PASSWORD/);
    const nobody = run('--no-anonymous');
    assert.equal(nobody.status, 64, nobody.stderr);
    assert.match(nobody.stderr, /--no-anonymous needs --user/);
    const badSecurity = run('--security', 'none');
    assert.equal(badSecurity.status, 64, badSecurity.stderr);
  });
});
