import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../../../src/config/load.js';
import { ConfigError, formatProblem } from '../../../../src/config/problems.js';
import { Secret } from '../../../../src/config/secret.js';
import { securityPolicyOf, type OpcuaSourceConfig } from '../../../../src/protocols/opcua/config.js';
import { tempDir } from '../../../helpers/spool.js';

// An OPC UA source through the site loader, from a YAML file on disk: defaults, secrets, and
// problems reported at file:line:column with the key path.

let dir: string;
let file: string;
before(async () => {
  dir = await tempDir('gridgate-opcua-config-');
  file = join(dir, 'site.yaml');
});

/** A site with one OPC UA source; `source` is the rest of the source's keys, indented by 4. Line 9 is its first. */
const site = (source: string): string => `site: north
kafka: { brokers: ["127.0.0.1:9092"] }
spool: { dir: ${dir}/spool }
state: { dir: ${dir} }
sources:
  - name: scada
    type: opcua
    endpoint: opc.tcp://10.0.0.5:4840
${source}`;

async function load(source: string, env: NodeJS.ProcessEnv = {}): Promise<OpcuaSourceConfig> {
  await writeFile(file, site(source));
  const config = await loadConfig(file, env);
  const s = config.sources[0];
  assert.equal(s?.type, 'opcua');
  return s as OpcuaSourceConfig;
}

/** The problems of a site, as `site.yaml:line:col path: message`. */
async function problemsOf(source: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  await writeFile(file, site(source));
  try {
    await loadConfig(file, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => formatProblem({ ...p, file: 'site.yaml' }));
  }
  assert.fail('expected the config to be rejected');
}

const oneItem = '    items:\n      - { nodeId: "ns=2;s=Feeder1.P", unit: kW }\n';

describe('an OPC UA source in the site config', () => {
  it('loads with the defaults filled in: SignAndEncrypt, the policy implied (Basic256Sha256), anonymous, the default group', async () => {
    const s = await load(oneItem);
    assert.equal(s.securityMode, 'SignAndEncrypt');
    assert.equal(s.securityPolicy, undefined);
    assert.equal(securityPolicyOf(s), 'Basic256Sha256');
    assert.deepEqual(s.identity, { type: 'anonymous' });
    assert.deepEqual(s.groups, { default: { publishingIntervalMs: 1000 } });
    assert.deepEqual(s.items, [{ nodeId: 'ns=2;s=Feeder1.P', unit: 'kW', group: 'default' }]);
    assert.equal(s.applicationName, 'gridgate');
    assert.equal(s.sessionTimeoutMs, 60_000);
    assert.equal(s.requestTimeoutMs, 10_000);
    assert.equal(s.watchdogMs, 10_000);
    assert.equal(s.retryFailedItemsMs, 30_000);
    assert.deepEqual(s.reconnect, { initialMs: 500, maxMs: 30_000 });
    assert.equal(s.analytics, 'off');
    assert.equal(s.pki, undefined, 'the PKI folder defaults at run time, under state.dir');
    assert.ok(Object.isFrozen(s.items[0]));
  });

  it('fills in defaults inside a group and an item the file gives', async () => {
    const s = await load(`    groups:
      default: {}
      fast: { publishingIntervalMs: 100, queueSize: 10 }
    items:
      - { name: p, nodeId: "ns=2;s=P", group: fast }
      - { name: q, browsePath: /2:Substation/2:Q }
`);
    assert.deepEqual(s.groups, { default: { publishingIntervalMs: 1000 }, fast: { publishingIntervalMs: 100, queueSize: 10 } });
    assert.deepEqual(s.items[1], { name: 'q', browsePath: '/2:Substation/2:Q', group: 'default', unit: '' });
  });

  it('refuses a literal password without echoing it', async () => {
    const problems = await problemsOf(`    identity:
      type: username
      username: operator
      password: hunter2-s3cret
${oneItem}`);
    assert.deepEqual(problems, ['site.yaml:12:17 sources[0].identity.password: must be a ${ENV_VAR} reference: secrets never stand in the config file']);
    assert.doesNotMatch(problems.join('\n'), /hunter2/);
  });

  it('resolves a ${ENV} password and prints it as [redacted] in every form', async () => {
    const s = await load(
      `    identity:
      type: username
      username: operator
      password: \${OPCUA_PW}
${oneItem}`,
      { OPCUA_PW: 'hunter2-s3cret' },
    );
    const password = s.identity.password;
    assert.ok(password instanceof Secret);
    assert.equal(password.reveal(), 'hunter2-s3cret');
    assert.equal(String(password), '[redacted]');
    assert.equal(JSON.stringify(password), '"[redacted]"');
    for (const printed of [String(password), `${password}`, JSON.stringify(s), inspect(s, { depth: 10 })]) assert.doesNotMatch(printed, /hunter2/);
  });

  it('names an unset password variable', async () => {
    assert.deepEqual(
      await problemsOf(`    identity:
      type: username
      username: operator
      password: \${OPCUA_PW}
${oneItem}`),
      ['site.yaml:12:17 sources[0].identity.password: environment variable OPCUA_PW is not set'],
    );
  });

  it('reports a bad NodeId and a duplicate item name at their line and key path', async () => {
    assert.deepEqual(
      await problemsOf(`    items:
      - { name: p, nodeId: "ns=2;s=P" }
      - name: q
        nodeId: "ns=2;q=Q"
      - name: p
        nodeId: "ns=2;i=7"
`),
      [
        'site.yaml:12:17 sources[0].items[1].nodeId: "ns=2;q=Q" is not a NodeId (ns=2;s=Name, ns=2;i=1001, i=2258, nsu=<uri>;s=Name …)',
        'site.yaml:13:15 sources[0].items[2].name: "p" names another item of this source already',
      ],
    );
  });

  it('reports a duplicate browse path without a name at its browsePath key', async () => {
    assert.deepEqual(
      await problemsOf(`    items:
      - browsePath: /2:Substation/2:P
      - browsePath: /2:Substation/2:P
`),
      ['site.yaml:11:21 sources[0].items[1].browsePath: "/2:Substation/2:P" names another item of this source already'],
    );
  });

  it("reports an item's unknown group where it is named", async () => {
    assert.deepEqual(
      await problemsOf(`    groups: { fast: { publishingIntervalMs: 100 } }
    items:
      - { nodeId: "ns=2;s=P", group: fats }
`),
      ['site.yaml:11:38 sources[0].items[0].group: no group "fats" in this source\'s groups (fast)'],
    );
  });

  it('reports a key of another protocol against the OPC UA keys', async () => {
    const problems = await problemsOf(`    devices: []\n${oneItem}`);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^site\.yaml:9:5 sources\[0\]\.devices: unknown key "devices"; allowed here: name, type, endpoint, securityMode, securityPolicy, identity, /);
    assert.match(problems[0]!, /, items, /);
    assert.doesNotMatch(problems[0]!, /unitId|address|timeoutMs,|must match/);
  });

  it('suggests the closest OPC UA key for a typo', async () => {
    assert.deepEqual(
      (await problemsOf(`    securitymode: None\n${oneItem}`)).map((p) => p.replace(/; allowed here: .*$/, '')),
      ['site.yaml:9:5 sources[0].securitymode: unknown key "securitymode" (did you mean "securityMode"?)'],
    );
  });

  it('takes securityMode None alone (the policy follows), refuses it with another policy, and refuses a credential sent over None', async () => {
    assert.deepEqual(await problemsOf(`    securityMode: None\n    securityPolicy: Basic256Sha256\n${oneItem}`), [
      'site.yaml:10:21 sources[0].securityPolicy: securityMode None with securityPolicy Basic256Sha256: None goes with None only',
    ]);
    assert.deepEqual(
      await problemsOf(`    securityMode: None
    securityPolicy: None
    identity:
      type: username
      username: operator
      passwordFile: /run/credentials/gridgate.service/opcua-password
${oneItem}`),
      ['site.yaml:12:13 sources[0].identity.type: a username identity over securityMode None would send the credential unprotected: use Sign or SignAndEncrypt'],
    );
  });

  it('reports a wrong enum value and an endpoint that is not opc.tcp', async () => {
    assert.deepEqual(await problemsOf(`    securityPolicy: Basic128Rsa15\n${oneItem}`), [
      'site.yaml:9:21 sources[0].securityPolicy: must be one of: None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss',
    ]);
    await writeFile(file, site(oneItem).replace('opc.tcp://10.0.0.5:4840', 'http://10.0.0.5:4840'));
    await assert.rejects(loadConfig(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => `${p.line}:${p.col} ${p.path}`),
        ['8:15 sources[0].endpoint'],
      );
      return true;
    });
  });

  it('requires at least one item', async () => {
    assert.deepEqual(await problemsOf('    items: []\n'), ['site.yaml:9:12 sources[0].items: must NOT have fewer than 1 items']);
  });
});
