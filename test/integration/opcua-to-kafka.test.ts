import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startOpcuaSimulator, type OpcuaSimulator } from '../../src/protocols/opcua/simulator/simulator.js';
import { BIN, httpGet, startGateway, writeConfig } from '../helpers/gridgate.js';
import { BOOTSTRAP, consume, createTopic, ensureKafkaWithTopics, messageHeaders, messageJson } from '../helpers/kafka.js';
import { tempDir } from '../helpers/spool.js';
import { until } from '../helpers/wait.js';

// OPC UA with real parts: our simulator (node-opcua's server, SignAndEncrypt) in this process →
// `gridgate run` (its OPC UA source, pipeline, spool, sink) → the real broker, read back. The
// operator's path is followed: the server certificate is refused at first, `gridgate opcua trust`
// (the command the log line gives) trusts it, the gateway connects without a restart; then a node
// is removed and the server restarts mid-stream.

const ITEMS = ['p', 'v-by-path', 'f', 'tap', 'mode', 'breaker', 'q2'];

describe('OPC UA to Kafka, end to end', () => {
  let sim: OpcuaSimulator | undefined;
  const quiet = pino({ level: 'silent' });
  before(() => ensureKafkaWithTopics());
  after(async () => {
    await sim?.close();
  });

  it('publishes every item once trusted, marks a removed node bad, and resumes after a server restart', async () => {
    const dir = await tempDir('gridgate-opcua-');
    const topics = { scadaValues: await createTopic('opcua') };
    const simPki = join(dir, 'simulator-pki');
    sim = await startOpcuaSimulator({ host: '127.0.0.1', port: 0, pkiDir: simPki, updateMs: 100, log: quiet });
    const port = sim.port;
    const ns = sim.status.namespaceIndex;
    const config = await writeConfig(`site: north
log: { level: info }
http: { port: 0 }
kafka:
  brokers: ["${BOOTSTRAP}"]
  lingerMs: 1
  topics: { scadaValues: ${topics.scadaValues} }
spool: { dir: ${join(dir, 'spool')} }
state: { dir: ${dir} }
analytics: { mode: off }
sources:
  - name: scada
    type: opcua
    endpoint: opc.tcp://127.0.0.1:${port}
    securityMode: SignAndEncrypt
    securityPolicy: Aes256_Sha256_RsaPss
    watchdogMs: 5000
    reconnect: { initialMs: 200, maxMs: 1000 }
    groups:
      fast: { publishingIntervalMs: 100 }
      slow: { publishingIntervalMs: 500 }
    items:
      - { name: p, nodeId: "ns=${ns};s=Substation.Feeder1.P", group: fast, unit: kW }
      - { name: v-by-path, browsePath: "/${ns}:Substation/${ns}:Feeder1/${ns}:V", group: fast, unit: kV }
      - { name: f, nodeId: "nsu=urn:gridgate:simulator;s=Substation.Frequency", group: fast, unit: Hz, deadband: { type: percent, value: 0.01 } }
      - { name: tap, nodeId: "ns=${ns};s=Substation.Transformer1.TapPosition", group: slow }
      - { name: mode, nodeId: "ns=${ns};s=Substation.Mode", group: slow }
      - { name: breaker, nodeId: "ns=${ns};s=Substation.Feeder1.BreakerClosed", group: slow }
      - { name: q2, nodeId: "ns=${ns};s=Substation.Feeder2.Q", group: fast, unit: kvar }
shutdown: { drainTimeoutMs: 5000 }
`);
    const gw = startGateway(['run', '--config', config]);
    const http = (await gw.waitForLog((l) => l.msg === 'metrics and health endpoints listening')).port as number;

    // Refused first: the log line names the certificate and the command.
    const refused = await gw.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('gridgate opcua trust'), 30_000);
    assert.equal(refused.thumbprint, sim.thumbprint);
    const command = /gridgate (opcua trust .*)$/.exec(refused.msg as string)![1]!.split(' ');
    assert.deepEqual(command.slice(0, 3), ['opcua', 'trust', '--config']);
    assert.equal((await httpGet(http, '/readyz')).status, 503, 'not ready while the server is untrusted');
    const trust = spawnSync(process.execPath, [BIN, ...command], { encoding: 'utf8' });
    assert.equal(trust.status, 0, trust.stderr);
    assert.match(trust.stdout, new RegExp(`^trusted .*thumbprint ${sim.thumbprint}`));
    await gw.waitForLog((l) => l.msg === 'OPC UA session open', 30_000);

    // Values flow; then Feeder2.Q disappears from the server.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    sim.removeNode('Substation.Feeder2.Q');
    await new Promise((resolve) => setTimeout(resolve, 2000));

    // The server restarts on the same port with the same certificate (the node is back).
    await sim.close();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    sim = await startOpcuaSimulator({ host: '127.0.0.1', port, pkiDir: simPki, updateMs: 100, log: quiet });
    await until(() => gw.logs.some((l) => l.msg === 'OPC UA connection repaired; subscriptions resumed' || gw.logs.filter((x) => x.msg === 'OPC UA session open').length >= 2), 'the session back', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const metrics = (await httpGet(http, '/metrics')).body;
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr());
    assert.equal(gw.stderr(), '', 'nothing but JSON log lines (node-opcua prints with console.log)');

    assert.match(metrics, /^gridgate_opcua_connected\{source="scada"\} 1$/m);
    assert.match(metrics, /^gridgate_opcua_certificate_expiry_timestamp_seconds\{source="scada",certificate="client"\} \d+/m);
    assert.match(metrics, /^gridgate_opcua_certificate_expiry_timestamp_seconds\{source="scada",certificate="server"\} \d+/m);
    const published = Number(/^gridgate_pipeline_records_total\{kind="scada-value"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    const messages = await consume(topics.scadaValues, published, 30_000);
    const byKey = new Map<string, Record<string, any>[]>(); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const m of messages) {
      assert.deepEqual(messageHeaders(m), { site: 'north', schema: 'gridgate.scada-value/1', 'content-type': 'application/json' });
      byKey.set(m.key!.toString(), [...(byKey.get(m.key!.toString()) ?? []), messageJson(m)]);
    }
    assert.deepEqual([...byKey.keys()].sort(), ITEMS.map((i) => `north/scada/${i}`).sort());
    const restartAt = gw.logs.find((l) => l.msg === 'OPC UA connection lost; node-opcua is repairing it')?.time as number;
    assert.ok(restartAt, 'the connection loss was noticed');
    for (const [key, records] of byKey) {
      assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), `${key}: gap-free seq`);
      assert.ok(records.every((r) => r.protocol === 'opcua'));
      // Before the first session (untrusted server) an item's node is as configured; after, resolved.
      assert.ok(records.filter((r) => r.quality.level === 'good').every((r) => r.opcua.nodeId.startsWith(`ns=${ns};s=Substation.`)), `${key}: resolved NodeIds`);
      const lost = records.findIndex((r) => r.quality.reasons.includes('comms_failure'));
      assert.ok(lost >= 0, `${key}: a comms_failure record when the server went away`);
      assert.equal(records[lost]!.value, null);
      assert.ok(records.slice(lost).some((r) => r.quality.level === 'good'), `${key}: good values after the restart`);
      for (const r of records.filter((x) => x.quality.level === 'good')) {
        assert.equal(r.opcua.timeSource, 'source');
        // Values that change every 100 ms arrive within a publishing interval or so; a slow tag's
        // first value in a subscription carries the time it last changed, which may be long ago.
        if (['p', 'v-by-path', 'f'].includes(key.split('/')[2]!)) assert.ok(r.latencyUs >= 0 && r.latencyUs < 1_000_000, `${key}: sourceTimestamp → arrival ${r.latencyUs} µs`);
      }
    }
    // The removed node: bad (rejected) while the others flowed on. node-opcua's server notifies
    // BadNodeIdInvalid when a monitored node is deleted (asyncua, in the peer test: BadNodeIdUnknown).
    const q2 = byKey.get('north/scada/q2')!;
    const gone = q2.findIndex((r) => r.opcua.status === 'BadNodeIdInvalid' || r.opcua.status === 'BadNodeIdUnknown');
    assert.ok(gone >= 0, `q2 went bad when its node was removed: ${q2.map((r) => r.opcua.status).join(' ')}`);
    assert.deepEqual(q2[gone]!.quality, { level: 'bad', reasons: ['rejected'] });
    const p = byKey.get('north/scada/p')!;
    assert.ok(p.some((r) => r.quality.level === 'good' && r.ingestTime > q2[gone]!.ingestTime), 'p kept flowing after q2 went bad');
    assert.ok(byKey.get('north/scada/v-by-path')!.every((r) => r.unit === 'kV' && (r.value === null || (r.value > 5 && r.value < 15))));
  });
});
