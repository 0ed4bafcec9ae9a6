import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startOpcuaSimulator, type OpcuaSimulator } from '../../../src/protocols/opcua/simulator/simulator.js';
import { trustServer } from '../../helpers/opcua-source.js';
import { runCli } from '../../helpers/gridgate.js';
import { tempDir } from '../../helpers/spool.js';

// `gridgate probe opcua` and `gridgate opcua certs|trust` as a commissioning engineer runs them,
// against the product simulator (SignAndEncrypt), with the site's default PKI (<state.dir>/opcua/pki).

const run = (args: string[]): ReturnType<typeof runCli> => runCli(args, 60_000); // the first connect makes our certificate

describe('gridgate probe opcua, opcua certs and trust', () => {
  let sim: OpcuaSimulator;
  let dir: string;
  let site: string;

  /** A site file with one OPC UA source on the simulator and these item lines. */
  async function siteWith(name: string, items: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(
      file,
      `site: north
kafka: { brokers: ["127.0.0.1:9092"] }
spool: { dir: ${dir}/spool }
state: { dir: ${dir} }
sources:
  - name: scada
    type: opcua
    endpoint: opc.tcp://127.0.0.1:${sim.port}
    items:
${items}`,
    );
    return file;
  }

  before(async () => {
    dir = await tempDir('gridgate-opcua-tools-');
    sim = await startOpcuaSimulator({ host: '127.0.0.1', port: 0, pkiDir: join(dir, 'simulator-pki'), log: pino({ level: 'silent' }) });
    const ns = sim.status.namespaceIndex;
    site = await siteWith(
      'site.yaml',
      `      - { name: p, nodeId: "ns=${ns};s=Substation.Feeder1.P", unit: kW }
      - { name: v, browsePath: "/${ns}:Substation/${ns}:Feeder1/${ns}:V", unit: kV }
      - { name: mode, nodeId: "ns=${ns};s=Substation.Mode" }
`,
    );
  });
  after(async () => {
    await sim?.close();
  });

  it('refuses an untrusted server, lists its certificate as rejected, and trusts it by thumbprint prefix', async () => {
    const probe = await run(['probe', 'opcua', '--config', site, '--json']);
    assert.equal(probe.status, 1);
    const [report] = JSON.parse(probe.stdout) as { error: string; items: unknown[] }[];
    assert.match(report!.error, /Certificate verification failed.*BadCertificateUntrusted/);

    const certs = await run(['opcua', 'certs', '--config', site, '--json']);
    assert.equal(certs.status, 0, certs.stderr);
    const [pki] = JSON.parse(certs.stdout) as { pki: string; own: { thumbprint: string } | null; trusted: unknown[]; rejected: { thumbprint: string }[] }[];
    assert.equal(pki!.pki, join(dir, 'opcua', 'pki'));
    assert.match(pki!.own!.thumbprint, /^[0-9a-f]{40}$/, 'our certificate was made at the first connect');
    assert.deepEqual(pki!.rejected.map((c) => c.thumbprint), [sim.thumbprint]);

    const trust = await run(['opcua', 'trust', '--config', site, sim.thumbprint.slice(0, 10)]);
    assert.equal(trust.status, 0, trust.stderr);
    assert.match(trust.stdout, new RegExp(`thumbprint ${sim.thumbprint}`));
    const again = await run(['opcua', 'trust', '--config', site, 'deadbeefdeadbeef']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /no rejected certificate with thumbprint deadbeefdeadbeef/);
  });

  it('reads every item once over SignAndEncrypt: value, type, status, time stamps, the resolved browse path', async () => {
    await trustServer(join(dir, 'opcua', 'pki'), sim.certificateFile);
    const probe = await run(['probe', 'opcua', '--config', site, '--json']);
    assert.equal(probe.status, 0, probe.stdout + probe.stderr);
    const [report] = JSON.parse(probe.stdout) as { error: string | null; securityMode: string; securityPolicy: string; server: { thumbprint: string }; items: Record<string, any>[] }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(report!.error, null);
    assert.equal(report!.securityMode, 'SignAndEncrypt');
    assert.equal(report!.securityPolicy, 'Basic256Sha256');
    assert.equal(report!.server.thumbprint, sim.thumbprint);
    assert.deepEqual(report!.items.map((i) => i.name), ['p', 'v', 'mode']);
    const [p, v, mode] = report!.items;
    assert.equal(p!.dataType, 'Double');
    assert.equal(typeof p!.value, 'number');
    assert.deepEqual(p!.quality, { level: 'good', reasons: [] });
    assert.ok(p!.sourceTime && p!.serverTime);
    assert.equal(v!.nodeId, `ns=${sim.status.namespaceIndex};s=Substation.Feeder1.V`);
    assert.equal(mode!.dataType, 'String');

    const text = await run(['probe', 'opcua', '--config', site]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /^OPC UA source scada at opc\.tcp:\/\/127\.0\.0\.1:\d+ \(SignAndEncrypt, Basic256Sha256\)$/m);
    assert.match(text.stdout, /^ {2}p +[\d.]+ kW +Double +Good → good$/m);
  });

  it('reports an unknown node and exits 1', async () => {
    const ns = sim.status.namespaceIndex;
    const bad = await siteWith(
      'bad.yaml',
      `      - { name: p, nodeId: "ns=${ns};s=Substation.Feeder1.P" }
      - { name: ghost, nodeId: "ns=${ns};s=Substation.Nowhere" }
      - { name: lost, browsePath: "/${ns}:Substation/${ns}:Nowhere" }
`,
    );
    const probe = await run(['probe', 'opcua', '--config', bad, '--json']);
    assert.equal(probe.status, 1);
    const items = (JSON.parse(probe.stdout) as { items: Record<string, any>[] }[])[0]!.items; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(
      items.map((i) => [i.name, i.status, i.quality.level]),
      [
        ['p', 'Good', 'good'],
        ['ghost', 'BadNodeIdUnknown', 'bad'],
        ['lost', 'BadNoMatch', 'bad'],
      ],
    );
  });
});
