// The asyncua OPC UA peer (test/peers/reference/opcua_server.py through test/helpers/opcua-peer.ts)
// against node-opcua's own client: proves the harness before the gateway's OPC UA tests lean on it.
// Every connection trusts the peer's certificate explicitly (a PKI that accepts no unknown
// certificate, with the peer's DER put in trusted/), as the gateway must be configured.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  type ClientSession,
  DataType,
  type DataValue,
  makeBrowsePath,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua';
import { type AsyncuaPeer, type AsyncuaStats, type AsyncuaTag, startAsyncuaPeer } from '../helpers/opcua-peer.js';
import { until } from '../helpers/wait.js';

const UPDATE_MS = 100;
const TAGS: AsyncuaTag[] = [
  { name: 'Feeder1.P', type: 'Double' },
  { name: 'Feeder1.Q', type: 'Float', offset: 5, amplitude: 2 },
  { name: 'Counter', type: 'Int32' },
  { name: 'Wrap', type: 'UInt16', start: 65534 },
  { name: 'Breaker', type: 'Boolean' },
  { name: 'Mode', type: 'String' },
  { name: 'Energy', type: 'Int64', start: 1_000_000 },
  { name: 'Doomed', type: 'Double' },
];
const DATA_TYPES: Record<AsyncuaTag['type'], DataType> = {
  Double: DataType.Double,
  Float: DataType.Float,
  Int32: DataType.Int32,
  UInt16: DataType.UInt16,
  Boolean: DataType.Boolean,
  String: DataType.String,
  Int64: DataType.Int64,
};
const USERS = { operator: 'correct horse' };
const POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];

const sha1 = (der: Buffer): string => createHash('sha1').update(der).digest('hex');

describe('the asyncua OPC UA peer, seen from node-opcua', () => {
  let dir: string;
  let peer: AsyncuaPeer;
  let pki: OPCUACertificateManager;
  let startMs: number;
  /** SHA-1 of the certificate our clients present (all share the one PKI). */
  let clientThumbprint: string;
  const clients: OPCUAClient[] = [];

  /** Connects and opens a session; the client is closed in after() whatever happens. */
  async function connect(
    policy: SecurityPolicy = SecurityPolicy.Basic256Sha256,
    options: { mode?: MessageSecurityMode; user?: UserIdentityInfo; certificates?: OPCUACertificateManager } = {},
  ): Promise<{ client: OPCUAClient; session: ClientSession }> {
    const client = OPCUAClient.create({
      applicationName: 'gridgate-asyncua-smoke',
      securityMode: options.mode ?? MessageSecurityMode.SignAndEncrypt,
      securityPolicy: policy,
      clientCertificateManager: options.certificates ?? pki,
      endpointMustExist: true,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      requestedSessionTimeout: 10_000,
    });
    clients.push(client);
    await client.connect(peer.endpoint);
    const session = await client.createSession(options.user);
    return { client, session };
  }

  async function close(client: OPCUAClient): Promise<void> {
    await client.disconnect();
    clients.splice(clients.indexOf(client), 1);
  }

  const nodeId = (name: string): string => peer.nodes.find((n) => n.name === name)!.nodeId;
  const read = (session: ClientSession, name: string): Promise<DataValue> => session.read({ nodeId: nodeId(name), attributeId: AttributeIds.Value });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridgate-asyncua-'));
    const started = Date.now();
    peer = await startAsyncuaPeer({
      port: 0,
      dir: join(dir, 'server'),
      policies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
      modes: ['Sign', 'SignAndEncrypt'],
      users: USERS,
      updateMs: UPDATE_MS,
      tags: TAGS,
    });
    startMs = Date.now() - started;
    pki = new OPCUACertificateManager({ rootFolder: join(dir, 'client-pki'), automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    await pki.initialize();
    await pki.trustCertificate(await readFile(peer.certificateFile));
  });

  after(async () => {
    for (const client of clients.splice(0)) await client.disconnect().catch(() => {});
    await pki?.dispose();
    await peer?.stop().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts in under 5 s and reports its endpoint, certificate and nodes', async () => {
    assert.ok(startMs < 5000, `took ${startMs} ms to get ready`);
    assert.match(peer.endpoint, /^opc\.tcp:\/\/127\.0\.0\.1:\d+\/gridgate\/asyncua-peer$/);
    assert.ok(peer.port > 0 && peer.endpoint.includes(`:${peer.port}/`));
    assert.equal(sha1(await readFile(peer.certificateFile)), peer.thumbprint);
    assert.deepEqual(
      peer.nodes.map((n) => n.nodeId),
      TAGS.map((t) => `ns=${peer.namespaceIndex};s=${t.name}`),
    );
    assert.equal(peer.nodes[0]!.browsePath, `/Objects/${peer.namespaceIndex}:Peer/${peer.namespaceIndex}:Feeder1&.P`);
  });

  it('serves every tag to a Basic256Sha256 SignAndEncrypt session that trusts its certificate, with values as documented', async () => {
    const { client, session } = await connect();
    assert.equal(sha1(client.serverCertificate as Buffer), peer.thumbprint);
    clientThumbprint = sha1(client.getCertificate());
    const namespaces = (await session.read({ nodeId: 'i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    assert.equal(namespaces[peer.namespaceIndex], 'urn:gridgate:asyncua-peer');
    const values = await session.read(TAGS.map((t) => ({ nodeId: nodeId(t.name), attributeId: AttributeIds.Value })));
    values.forEach((dv, i) => {
      assert.equal(dv.statusCode.value, StatusCodes.Good.value, `${TAGS[i]!.name}: ${dv.statusCode.toString()}`);
      assert.equal(dv.value.dataType, DATA_TYPES[TAGS[i]!.type], TAGS[i]!.name);
    });
    assert.ok(['RUN', 'IDLE', 'STOP'].includes(values[5]!.value.value as string));
    // The browse path reaches the same node (escaped '.' included).
    const [path] = await session.translateBrowsePath([makeBrowsePath('RootFolder', peer.nodes[0]!.browsePath)]);
    assert.equal(path!.targets?.[0]?.targetId.toString(), nodeId('Feeder1.P'));
    // Feeder1.P = 100·sin(2π·t·100/10000) where Counter = t; a read may straddle a tick.
    const counter = values[2]!.value.value as number;
    const p = values[0]!.value.value as number;
    const near = [counter - 1, counter, counter + 1].some((t) => Math.abs(p - 100 * Math.sin((2 * Math.PI * t * UPDATE_MS) / 10_000)) < 1e-9);
    assert.ok(near, `Feeder1.P ${p} is not 100·sin(2π·t/100) for t near Counter ${counter}`);
    await close(client);
  });

  it('delivers at least 3 changes to a subscription, with advancing source timestamps', async () => {
    const { client, session } = await connect();
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: UPDATE_MS,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 100,
      publishingEnabled: true,
    });
    const seen: DataValue[] = [];
    const item = ClientMonitoredItem.create(
      subscription,
      { nodeId: nodeId('Feeder1.P'), attributeId: AttributeIds.Value },
      { samplingInterval: UPDATE_MS, queueSize: 10, discardOldest: true },
      TimestampsToReturn.Both,
    );
    item.on('changed', (dv: DataValue) => seen.push(dv));
    await until(() => seen.length >= 4, 'four notifications arrived', 10_000);
    await subscription.terminate();
    const times = seen.map((dv) => dv.sourceTimestamp!.getTime());
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `source timestamps ${times.join(', ')}`);
    assert.ok(seen.every((dv) => dv.statusCode.value === StatusCodes.Good.value));
    assert.ok(new Set(seen.map((dv) => dv.value.value)).size >= 3, 'the values changed');
    await close(client);
  });

  for (const policy of POLICIES) {
    for (const mode of [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt]) {
      it(`interoperates with node-opcua on ${policy.split('#')[1]} ${MessageSecurityMode[mode]}`, async () => {
        const { client, session } = await connect(policy, { mode });
        assert.equal(session.endpoint.securityPolicyUri, policy);
        assert.equal(session.endpoint.securityMode, mode);
        const dv = await read(session, 'Counter');
        assert.equal(dv.statusCode.value, StatusCodes.Good.value);
        await close(client);
      });
    }
  }

  for (const policy of POLICIES) {
    // Over Sign the password is encrypted with the policy's own asymmetric algorithm (asyncua's
    // user token policy names the endpoint's policy), so each one is a different encryption.
    it(`logs a user in over ${policy.split('#')[1]} Sign, the password encrypted by that policy`, async () => {
      const user: UserIdentityInfo = { type: UserTokenType.UserName, userName: 'operator', password: USERS.operator };
      const { client, session } = await connect(policy, { mode: MessageSecurityMode.Sign, user });
      assert.equal((await read(session, 'Counter')).statusCode.value, StatusCodes.Good.value);
      await close(client);
    });
  }

  it('logs a user in with the right password and refuses a wrong one', async () => {
    const user: UserIdentityInfo = { type: UserTokenType.UserName, userName: 'operator', password: USERS.operator };
    const { client, session } = await connect(SecurityPolicy.Basic256Sha256, { user });
    assert.equal((await read(session, 'Counter')).statusCode.value, StatusCodes.Good.value);
    await close(client);
    await assert.rejects(
      connect(SecurityPolicy.Basic256Sha256, { user: { ...user, password: 'wrong' } }),
      /BadUserAccessDenied|BadIdentityTokenRejected/,
    );
  });

  it('is refused by a client whose PKI does not trust its certificate', async () => {
    const strict = new OPCUACertificateManager({ rootFolder: join(dir, 'strict-pki'), automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    await strict.initialize();
    try {
      await assert.rejects(connect(SecurityPolicy.Basic256Sha256, { certificates: strict }), /BadCertificateUntrusted/);
    } finally {
      await strict.dispose();
    }
  });

  it('stops changing values while frozen and resumes after', async () => {
    const { client, session } = await connect();
    await peer.freeze(true);
    const a = await read(session, 'Counter');
    await new Promise((r) => setTimeout(r, 3 * UPDATE_MS));
    const b = await read(session, 'Counter');
    assert.equal(b.value.value, a.value.value);
    assert.equal(b.sourceTimestamp!.getTime(), a.sourceTimestamp!.getTime());
    await peer.freeze(false);
    await until(async () => (await read(session, 'Counter')).value.value !== a.value.value, 'Counter moved again', 5000);
    await close(client);
  });

  it('comes back on the same port with the same certificate after restart()', async () => {
    const { client, session } = await connect();
    const before = (await read(session, 'Counter')).value.value as number;
    const port = peer.port;
    await peer.restart();
    assert.equal(peer.port, port);
    await close(client);
    const again = await connect();
    assert.equal(sha1(again.client.serverCertificate as Buffer), peer.thumbprint);
    const after = await read(again.session, 'Counter');
    assert.equal(after.statusCode.value, StatusCodes.Good.value);
    // The tick count started over: the counter is back near 0.
    assert.ok((after.value.value as number) <= before, `Counter ${after.value.value} after restart, ${before} before`);
    await close(again.client);
  });

  it('remove() makes a read answer BadNodeIdUnknown and a monitored item on it go bad', async () => {
    const { client, session } = await connect();
    const subscription = ClientSubscription.create(session, { requestedPublishingInterval: UPDATE_MS, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100, publishingEnabled: true });
    const seen: DataValue[] = [];
    const item = ClientMonitoredItem.create(subscription, { nodeId: nodeId('Doomed'), attributeId: AttributeIds.Value }, { samplingInterval: UPDATE_MS, queueSize: 10 }, TimestampsToReturn.Both);
    item.on('changed', (dv: DataValue) => seen.push(dv));
    await until(() => seen.length >= 1, 'the first notification arrived', 5000);
    await peer.remove('Doomed');
    await until(() => seen.some((dv) => dv.statusCode.value === StatusCodes.BadNodeIdUnknown.value), 'the item went BadNodeIdUnknown', 5000);
    assert.equal((await read(session, 'Doomed')).statusCode.value, StatusCodes.BadNodeIdUnknown.value);
    // The other tags are untouched.
    assert.equal((await read(session, 'Counter')).statusCode.value, StatusCodes.Good.value);
    await subscription.terminate();
    await close(client);
  });

  it('stops on stdin EOF with its counters', async () => {
    const stats: AsyncuaStats = await peer.stop();
    // The restarted process only: one session in the remove test, one in the restart test.
    assert.ok(stats.sessions >= 2, JSON.stringify(stats));
    assert.ok(stats.ticks > 0 && stats.values > 0);
    assert.deepEqual(stats.removed, ['Doomed']);
    assert.deepEqual(stats.thumbprints, [clientThumbprint]);
  });
});
