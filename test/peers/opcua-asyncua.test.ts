import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import type { OpcuaSourceConfig } from '../../src/protocols/opcua/config.js';
import { listCertificates, trustRejected } from '../../src/protocols/opcua/pki.js';
import { metricValue } from '../helpers/spool.js';
import { startAsyncuaPeer, type AsyncuaPeer, type AsyncuaTag } from '../helpers/opcua-peer.js';
import { opcuaSourceConfig, reasons, startOpcuaSource, trustServer, type RunningSource } from '../helpers/opcua-source.js';
import { until } from '../helpers/wait.js';

// Our OPC UA source against a server nobody on this team wrote: Python asyncua
// (test/peers/reference/opcua_server.py), over real TCP with SignAndEncrypt. The source runs
// in-process so its records, logs and metrics are at hand; test/integration/opcua-to-kafka does the
// same against our simulator through the whole gateway.

const UPDATE_MS = 100;
const TAGS: AsyncuaTag[] = [
  { name: 'Feeder1.P', type: 'Double', offset: 500, amplitude: 50, periodMs: 5000 },
  { name: 'Feeder1.Q', type: 'Float', offset: 100, amplitude: 10 },
  { name: 'Tap', type: 'Int32', start: 5, step: 1 },
  { name: 'Count', type: 'UInt16', start: 0, step: 1 },
  { name: 'Energy', type: 'Int64', start: '9007199254740000', step: 1 },
  { name: 'Breaker', type: 'Boolean', start: true },
  { name: 'Mode', type: 'String', values: ['AUTO', 'MANUAL'] },
];

describe('OPC UA source against asyncua (an independent server)', () => {
  let dir: string;
  let peer: AsyncuaPeer;
  const running: RunningSource[] = [];

  /** A source on the peer with every tag monitored by NodeId, plus one by browse path. */
  function config(overrides: Partial<OpcuaSourceConfig> = {}): OpcuaSourceConfig {
    const ns = peer.namespaceIndex;
    return opcuaSourceConfig({
      endpoint: peer.endpoint,
      pki: join(dir, 'client-pki'),
      items: [
        ...peer.nodes.map((n) => ({ name: n.name, nodeId: n.nodeId, group: 'default', unit: n.name.startsWith('Feeder1') ? 'kW' : '' })),
        { name: 'P-by-path', browsePath: `/${ns}:Peer/${ns}:Feeder1.P`, group: 'default', unit: 'kW' },
      ],
      ...overrides,
    });
  }

  async function start(c: OpcuaSourceConfig): Promise<RunningSource> {
    const r = await startOpcuaSource(c);
    running.push(r);
    return r;
  }

  const goodCount = (r: RunningSource, item: string): number => r.of(item).filter((x) => x.quality === 0).length;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridgate-opcua-peer-'));
    peer = await startAsyncuaPeer({
      port: 0,
      dir: join(dir, 'server'),
      policies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
      modes: ['SignAndEncrypt'],
      users: { operator: 'grid-secret-1' },
      updateMs: UPDATE_MS,
      tags: TAGS,
    });
    await trustServer(join(dir, 'client-pki'), peer.certificateFile);
  });

  after(async () => {
    for (const r of running.splice(0)) await r.stop();
    await peer?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const policy of ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const) {
    it(`subscribes over ${policy} SignAndEncrypt: every item's values, typed, with the server's time stamps`, async () => {
      const r = await start(config({ securityPolicy: policy }));
      const names = [...peer.nodes.map((n) => n.name), 'P-by-path'];
      await until(() => names.every((n) => goodCount(r, n) >= 3), 'three good values of every item', 20_000);
      await r.stop();
      running.splice(running.indexOf(r), 1);

      const body = (item: string): Record<string, any>[] => r.of(item).filter((x) => x.quality === 0).map((x) => x.body); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const name of names) {
        const recs = r.of(name).filter((x) => x.quality === 0);
        for (let i = 1; i < recs.length; i++) assert.ok(recs[i]!.eventTimeUs > recs[i - 1]!.eventTimeUs, `${name}: source times advance`);
        for (const x of recs) {
          assert.equal(x.body.protocol, 'opcua');
          assert.equal((x.body.opcua as { timeSource: string }).timeSource, 'source');
          assert.ok(x.ingestTimeUs >= x.eventTimeUs - 50_000, `${name}: arrival after the source time (clock of one host)`);
        }
      }
      assert.ok(body('Feeder1.P').every((b) => b.opcua.dataType === 'Double' && b.value >= 450 && b.value <= 550 && b.unit === 'kW'));
      assert.ok(body('Feeder1.Q').every((b) => b.opcua.dataType === 'Float' && b.value >= 90 && b.value <= 110));
      const taps = body('Tap').map((b) => b.value as number);
      assert.ok(taps.every((v, i) => i === 0 || v > taps[i - 1]!), `Int32 counts up: ${taps.join(' ')}`);
      assert.ok(body('Energy').every((b) => b.opcua.dataType === 'Int64' && b.value >= 9007199254740000), 'Int64 from [high, low]');
      assert.ok(body('Breaker').every((b) => typeof b.value === 'boolean'));
      assert.ok(body('Mode').every((b) => b.value === 'AUTO' || b.value === 'MANUAL'));
      assert.equal(body('P-by-path')[0]!.opcua.nodeId, peer.nodes.find((n) => n.name === 'Feeder1.P')!.nodeId, 'the browse path resolved to the NodeId');
    });
  }

  it('logs in as a user with a password from a secret', async () => {
    const r = await start(config({ identity: { type: 'username', username: 'operator', password: new Secret('grid-secret-1') } }));
    await until(() => goodCount(r, 'Tap') >= 2, 'values for the user session', 20_000);
    assert.ok(!JSON.stringify(r.logs).includes('grid-secret-1'), 'the password never reaches a log line');
  });

  it('refuses an untrusted server certificate, logs the trust command, and connects once it is trusted', async () => {
    const pki = join(dir, 'fresh-pki');
    const r = await start(config({ pki }));
    await until(() => r.logs.some((l) => String(l.msg).includes('gridgate opcua trust')), 'the trust advice', 20_000);
    const advice = r.logs.find((l) => String(l.msg).includes('gridgate opcua trust'))!;
    assert.equal(advice.thumbprint, peer.thumbprint);
    assert.match(String(advice.msg), new RegExp(`--source scada ${peer.thumbprint}$`));
    assert.equal(r.source.readiness().ready, false);
    assert.equal(r.records.filter((x) => x.quality === 0).length, 0, 'no value from an untrusted server');
    assert.deepEqual((await listCertificates(pki, 'rejected')).map((c) => c.thumbprint), [peer.thumbprint]);

    await trustRejected(pki, peer.thumbprint.slice(0, 12));
    await until(() => goodCount(r, 'Tap') >= 2, 'values once trusted, without a restart', 20_000);
  });

  it('resumes every item after the server crashes and restarts, and marks them comms_failure in between', async () => {
    const r = await start(config());
    const names = [...peer.nodes.map((n) => n.name), 'P-by-path'];
    await until(() => names.every((n) => goodCount(r, n) >= 2), 'values before the crash', 20_000);
    const before = r.records.length;
    await peer.restart();
    await until(() => names.every((n) => r.of(n).slice(-1)[0]!.quality === 0 && r.records.indexOf(r.of(n).slice(-1)[0]!) > before), 'every item good again', 30_000);

    const during = r.records.slice(before);
    for (const n of names) {
      const recs = during.filter((x) => x.stream === n);
      const firstBad = recs.findIndex((x) => reasons(x).includes('comms_failure'));
      assert.ok(firstBad >= 0, `${n}: a comms_failure record while the server was down`);
      assert.ok(recs.slice(firstBad).some((x) => x.quality === 0), `${n}: good values after it`);
      assert.equal(recs[firstBad]!.body.value, null);
    }
    // node-opcua re-opens the channel and re-creates the subscription on a new session, then loops
    // on Republish (asyncua answers Good for a message it does not have): our repair guard abandons
    // that session and opens a new one. Either way, one recovery, counted.
    const repaired = await metricValue(r.registry, 'gridgate_opcua_reconnects_total', { source: 'scada' });
    const reopened = await metricValue(r.registry, 'gridgate_opcua_session_restarts_total', { source: 'scada', reason: 'repair-stuck' });
    assert.ok(repaired + reopened >= 1, `repaired ${repaired}, reopened ${reopened}`);
    assert.equal(r.source.readiness().ready, true);
  });

  it('turns a removed node bad while the other items keep flowing', async () => {
    const r = await start(config());
    await until(() => goodCount(r, 'Mode') >= 2 && goodCount(r, 'Tap') >= 2, 'values', 20_000);
    await peer.remove('Mode');
    await until(() => r.of('Mode').some((x) => x.quality !== 0), 'a bad record for the removed node', 10_000);
    const bad = r.of('Mode').find((x) => x.quality !== 0)!;
    assert.deepEqual(reasons(bad), ['rejected']);
    assert.equal((bad.body.opcua as { status: string }).status, 'BadNodeIdUnknown');
    const tapsAfter = goodCount(r, 'Tap');
    await until(() => goodCount(r, 'Tap') >= tapsAfter + 5, 'the other items keep flowing', 10_000);
    assert.ok(r.of('Mode').slice(r.of('Mode').indexOf(bad)).every((x) => x.quality !== 0), 'no good value of a removed node');
  });
});
