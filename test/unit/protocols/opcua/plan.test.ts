import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { resolveNodeId } from 'node-opcua';
import { formatPath } from '../../../../src/config/locate.js';
import { Secret } from '../../../../src/config/secret.js';
import { OpcuaSourceSchema, securityPolicyOf, type OpcuaItemConfig, type OpcuaSourceConfig } from '../../../../src/protocols/opcua/config.js';
import { opcuaProblems, parseBrowsePath, planItems, planSubscriptions } from '../../../../src/protocols/opcua/plan.js';

type SourceInput = Partial<Omit<OpcuaSourceConfig, 'items' | 'identity'>> & {
  items: Partial<OpcuaItemConfig>[];
  identity?: Partial<OpcuaSourceConfig['identity']>;
};

/** An OPC UA source config with the schema's defaults applied, as the config loader does. */
function source(input: SourceInput): OpcuaSourceConfig {
  const { identity, groups, ...rest } = input;
  const config = Value.Default(OpcuaSourceSchema, structuredClone({ name: 'scada', type: 'opcua', endpoint: 'opc.tcp://10.0.0.5:4840', ...rest })) as OpcuaSourceConfig;
  // Set afterwards: a Secret does not survive structuredClone, and TypeBox would merge the default
  // group into given groups, where the loader (ajv) applies a default only to a missing key.
  if (identity) config.identity = { ...config.identity, ...identity };
  if (groups) config.groups = groups;
  return config;
}

const itemProblems = (items: Partial<OpcuaItemConfig>[], rest: Partial<SourceInput> = {}): string[] =>
  planItems(source({ ...rest, items })).problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
const problemsOf = (input: SourceInput): string[] => opcuaProblems(source(input)).map((p) => `${formatPath(p.path)}: ${p.message}`);

const one = [{ nodeId: 'ns=2;s=Feeder1.P' }];

describe('parseBrowsePath', () => {
  it('splits a path into namespace-qualified steps from the Objects folder', () => {
    assert.deepEqual(parseBrowsePath('/2:Substation/2:Feeder1/2:P'), [
      { namespaceIndex: 2, name: 'Substation' },
      { namespaceIndex: 2, name: 'Feeder1' },
      { namespaceIndex: 2, name: 'P' },
    ]);
  });

  it('takes namespace 0 for a step without an index, and keeps colons after the index in the name', () => {
    assert.deepEqual(parseBrowsePath('/Server/ServerStatus'), [
      { namespaceIndex: 0, name: 'Server' },
      { namespaceIndex: 0, name: 'ServerStatus' },
    ]);
    assert.deepEqual(parseBrowsePath('/3:Bay:A/Q 1'), [
      { namespaceIndex: 3, name: 'Bay:A' },
      { namespaceIndex: 0, name: 'Q 1' },
    ]);
  });

  it('refuses a path that does not start at the Objects folder', () => {
    assert.equal(parseBrowsePath('2:Substation/2:P'), 'a browse path starts with / (the Objects folder)');
    assert.equal(parseBrowsePath(''), 'a browse path starts with / (the Objects folder)');
  });

  it('refuses an empty step', () => {
    assert.equal(parseBrowsePath('/'), 'empty step "" in browse path /');
    assert.equal(parseBrowsePath('/2:A//2:B'), 'empty step "" in browse path /2:A//2:B');
    assert.equal(parseBrowsePath('/2:A/'), 'empty step "" in browse path /2:A/');
  });

  it('refuses a step with a namespace index but no name, and an index past 65535', () => {
    // "2:" would otherwise become the browse name "2:" in namespace 0, which no server has; a
    // QualifiedName's namespace index is a UInt16 (Part 6 §5.2.2.13).
    assert.equal(typeof parseBrowsePath('/2:A/2:'), 'string', '/2:A/2:');
    assert.equal(typeof parseBrowsePath('/70000:A'), 'string', '/70000:A');
  });
});

describe('planItems', () => {
  it('names an item after its nodeId or browse path unless it has a name, and parses the path', () => {
    const { items, problems } = planItems(
      source({
        items: [
          { nodeId: 'ns=2;s=Feeder1.P', unit: 'kW' },
          { browsePath: '/2:Substation/2:Q' },
          { name: 'breaker', nodeId: 'ns=2;i=1001' },
        ],
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      items.map((i) => [i.index, i.name, i.target, i.nodeId, i.unit, i.group]),
      [
        [0, 'ns=2;s=Feeder1.P', 'ns=2;s=Feeder1.P', 'ns=2;s=Feeder1.P', 'kW', 'default'],
        [1, '/2:Substation/2:Q', '/2:Substation/2:Q', undefined, '', 'default'],
        [2, 'breaker', 'ns=2;i=1001', 'ns=2;i=1001', '', 'default'],
      ],
    );
    assert.equal(items[0]!.browsePath, undefined);
    assert.deepEqual(items[1]!.browsePath, [
      { namespaceIndex: 2, name: 'Substation' },
      { namespaceIndex: 2, name: 'Q' },
    ]);
  });

  it('monitors with the defaults when neither item nor group says otherwise: sample at the publishing interval, queue 1, discard oldest', () => {
    const { items } = planItems(source({ items: one }));
    assert.equal(items[0]!.publishingIntervalMs, 1000);
    assert.deepEqual(items[0]!.monitoring, { samplingIntervalMs: -1, queueSize: 1, discardOldest: true, deadband: undefined });
  });

  it("takes each setting from the item, else its group, else the defaults", () => {
    const { items, problems } = planItems(
      source({
        groups: {
          default: { publishingIntervalMs: 1000 },
          fast: { publishingIntervalMs: 100, samplingIntervalMs: 50, queueSize: 10, deadband: { type: 'absolute', value: 0.5 } },
        },
        items: [
          { name: 'a', nodeId: 'i=1', group: 'fast' },
          { name: 'b', nodeId: 'i=2', group: 'fast', queueSize: 2, discardOldest: false, deadband: { type: 'percent', value: 1 } },
          { name: 'c', nodeId: 'i=3', samplingIntervalMs: 0 },
        ],
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      items.map((i) => [i.name, i.publishingIntervalMs, i.monitoring]),
      [
        ['a', 100, { samplingIntervalMs: 50, queueSize: 10, discardOldest: true, deadband: { type: 'absolute', value: 0.5 } }],
        ['b', 100, { samplingIntervalMs: 50, queueSize: 2, discardOldest: false, deadband: { type: 'percent', value: 1 } }],
        ['c', 1000, { samplingIntervalMs: 0, queueSize: 1, discardOldest: true, deadband: undefined }],
      ],
    );
  });

  it('reports a second item with the same name at its name, or at the key the name came from', () => {
    assert.deepEqual(itemProblems([{ name: 'p', nodeId: 'i=1' }, { name: 'p', nodeId: 'i=2' }]), ['items[1].name: "p" names another item of this source already']);
    assert.deepEqual(itemProblems([{ nodeId: 'i=1' }, { nodeId: 'i=1' }]), ['items[1].nodeId: "i=1" names another item of this source already']);
  });

  it('reports a duplicate browse path without a name at its browsePath key', () => {
    assert.deepEqual(itemProblems([{ browsePath: '/2:A' }, { browsePath: '/2:A' }]), ['items[1].browsePath: "/2:A" names another item of this source already']);
  });

  it('allows the same node twice under different names', () => {
    assert.deepEqual(itemProblems([{ name: 'p', nodeId: 'i=1' }, { name: 'p-fast', nodeId: 'i=1' }]), []);
  });

  it('reports an unknown group, listing the known ones', () => {
    assert.deepEqual(itemProblems([{ nodeId: 'i=1', group: 'fats' }], { groups: { default: { publishingIntervalMs: 1000 }, fast: { publishingIntervalMs: 100 } } }), [
      'items[0].group: no group "fats" in this source\'s groups (default, fast)',
    ]);
    assert.deepEqual(itemProblems([{ nodeId: 'i=1' }], { groups: { fast: { publishingIntervalMs: 100 } } }), [
      'items[0].group: no group "default" in this source\'s groups (fast)',
    ]);
    assert.deepEqual(itemProblems([{ nodeId: 'i=1' }], { groups: {} }), ['items[0].group: no group "default" in this source\'s groups (none)']);
  });

  it('requires exactly one of nodeId and browsePath', () => {
    const message = 'items[0]: an item names its node with exactly one of nodeId and browsePath';
    assert.deepEqual(itemProblems([{ name: 'x', nodeId: 'i=1', browsePath: '/2:A' }]), [message]);
    assert.deepEqual(itemProblems([{ name: 'x' }]), [message]);
    assert.deepEqual(planItems(source({ items: [{ name: 'x' }] })).items, [], 'an item without a node is not planned');
  });

  it('accepts the NodeId forms of Part 6 §5.3.1.10: i=, s=, g=, b=, with ns= or nsu= in front', () => {
    const valid = [
      'i=2258',
      'ns=0;i=2258',
      'ns=2;i=4294967295',
      'ns=65535;i=1',
      'ns=2;s=Feeder1.P',
      'ns=2;s=a;b=c',
      'nsu=urn:gridgate:test;s=Feeder1.P',
      'nsu=http://opcfoundation.org/UA/;i=2258',
      'g=72962B91-FA75-4AE6-8D28-B404DC7DAF63',
      'ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63',
      'b=AQID',
      'ns=3;b=M/rl+Q==',
    ];
    for (const nodeId of valid) assert.deepEqual(itemProblems([{ name: 'x', nodeId }]), [], nodeId);
  });

  it('refuses text that is not a NodeId, at the nodeId key', () => {
    const invalid = ['2258', 'i=', 'i=abc', 'i=-1', 's=', 'ns=2', 'ns=;i=1', 'ns=x;i=1', 'ns=2;x=1', 'nsu=;s=a', 'g=72962B91', 'b=!!', 'ns=2;i=1;s=x', ' i=1'];
    for (const nodeId of invalid) {
      assert.deepEqual(
        itemProblems([{ name: 'x', nodeId }]),
        [`items[0].nodeId: "${nodeId}" is not a NodeId (ns=2;s=Name, ns=2;i=1001, i=2258, nsu=<uri>;s=Name …)`],
        nodeId,
      );
    }
  });

  it('refuses a namespace index above 65535 and a numeric id above 2^32−1, which node-opcua cannot resolve', () => {
    // Part 6 §5.2.2.9: the namespace index is a UInt16 and a numeric identifier a UInt32.
    for (const nodeId of ['ns=70000;i=1', 'i=4294967296', 'ns=2;i=9999999999']) {
      assert.throws(() => resolveNodeId(nodeId), Error, `node-opcua refuses ${nodeId}`);
      assert.equal(itemProblems([{ name: 'x', nodeId }]).length, 1, nodeId);
    }
  });

  it('accepts only NodeIds node-opcua can resolve (nsu= aside, which the session maps to ns=)', () => {
    for (const nodeId of ['i=2258', 'ns=2;i=4294967295', 'ns=65535;s=x', 'ns=2;s=a;b=c', 'g=72962B91-FA75-4AE6-8D28-B404DC7DAF63', 'b=AQID']) {
      assert.deepEqual(itemProblems([{ name: 'x', nodeId }]), [], nodeId);
      assert.doesNotThrow(() => resolveNodeId(nodeId), nodeId);
    }
  });

  it('asks for a name when the node is not usable as one', () => {
    assert.deepEqual(itemProblems([{ nodeId: 'ns=2;s=Feeder 1.P' }]), ['items[0]: give this item a name: its node is not usable as one']);
    assert.deepEqual(itemProblems([{ nodeId: `ns=2;s=${'x'.repeat(300)}` }]), ['items[0]: give this item a name: its node is not usable as one']);
    assert.deepEqual(itemProblems([{ name: 'feeder-1-p', nodeId: 'ns=2;s=Feeder 1.P' }]), []);
  });

  it('reports every problem of every item, with paths relative to the source', () => {
    assert.deepEqual(itemProblems([{ nodeId: 'bad' }, { browsePath: 'rel' }, { nodeId: 'i=1', group: 'nope' }]), [
      'items[0].nodeId: "bad" is not a NodeId (ns=2;s=Name, ns=2;i=1001, i=2258, nsu=<uri>;s=Name …)',
      'items[1].browsePath: a browse path starts with / (the Objects folder)',
      'items[2].group: no group "nope" in this source\'s groups (default)',
    ]);
  });
});

describe('planSubscriptions', () => {
  const groups = {
    default: { publishingIntervalMs: 1000 },
    slow: { publishingIntervalMs: 5000 },
    fast: { publishingIntervalMs: 100 },
    alsoFast: { publishingIntervalMs: 100, queueSize: 5 },
  };

  it('makes one subscription per distinct publishing interval, fastest first, items in config order', () => {
    const { items } = planItems(
      source({
        groups,
        items: [
          { name: 'a', nodeId: 'i=1', group: 'slow' },
          { name: 'b', nodeId: 'i=2' },
          { name: 'c', nodeId: 'i=3', group: 'fast' },
          { name: 'd', nodeId: 'i=4', group: 'alsoFast' },
          { name: 'e', nodeId: 'i=5', group: 'fast' },
        ],
      }),
    );
    const plan = planSubscriptions(items);
    assert.deepEqual(
      plan.map((s) => [s.publishingIntervalMs, s.items.map((i) => i.name)]),
      [
        [100, ['c', 'd', 'e']],
        [1000, ['b']],
        [5000, ['a']],
      ],
    );
    assert.equal(plan[0]!.items[1]!.monitoring.queueSize, 5, 'groups sharing a subscription keep their own monitoring settings');
  });

  it('makes no subscription without items', () => {
    assert.deepEqual(planSubscriptions([]), []);
  });
});

describe('opcuaProblems', () => {
  it('accepts the defaults: SignAndEncrypt, Basic256Sha256 implied, anonymous', () => {
    const s = source({ items: one });
    assert.equal(s.securityMode, 'SignAndEncrypt');
    assert.equal(securityPolicyOf(s), 'Basic256Sha256');
    assert.equal(s.identity.type, 'anonymous');
    assert.deepEqual(opcuaProblems(s), []);
  });

  it('pairs securityMode None with securityPolicy None and nothing else', () => {
    assert.deepEqual(problemsOf({ securityMode: 'None', securityPolicy: 'None', items: one }), []);
    assert.deepEqual(problemsOf({ securityMode: 'Sign', securityPolicy: 'Aes256_Sha256_RsaPss', items: one }), []);
    assert.deepEqual(problemsOf({ securityMode: 'None', items: one }), [], 'None implies policy None');
    assert.equal(securityPolicyOf({ securityMode: 'None' }), 'None');
    assert.deepEqual(problemsOf({ securityMode: 'None', securityPolicy: 'Basic256Sha256', items: one }), [
      'securityPolicy: securityMode None with securityPolicy Basic256Sha256: None goes with None only',
    ]);
    assert.deepEqual(problemsOf({ securityMode: 'Sign', securityPolicy: 'None', items: one }), [
      'securityPolicy: securityMode Sign with securityPolicy None: None goes with None only',
    ]);
  });

  it('refuses identity keys that the identity type does not take', () => {
    assert.deepEqual(problemsOf({ identity: { type: 'anonymous', username: 'op', passwordFile: '/run/pw' }, items: one }), [
      'identity.username: identity type anonymous takes no username',
      'identity.passwordFile: identity type anonymous takes no passwordFile',
    ]);
    assert.deepEqual(problemsOf({ identity: { type: 'username', username: 'op', passwordFile: '/run/pw', privateKeyFile: '/k' }, items: one }), [
      'identity.privateKeyFile: identity type username takes no privateKeyFile',
    ]);
    assert.deepEqual(
      problemsOf({ identity: { type: 'certificate', certificateFile: '/c', privateKeyFile: '/k', username: 'op', password: new Secret('x') }, items: one }),
      ['identity.username: identity type certificate takes no username', 'identity.password: identity type certificate takes no password'],
    );
  });

  it('requires a user name and exactly one of password and passwordFile for a username identity', () => {
    assert.deepEqual(problemsOf({ identity: { type: 'username', username: 'op', password: new Secret('x') }, items: one }), []);
    assert.deepEqual(problemsOf({ identity: { type: 'username', username: 'op', passwordFile: '/run/pw' }, items: one }), []);
    assert.deepEqual(problemsOf({ identity: { type: 'username', password: new Secret('x') }, items: one }), ['identity: identity type username needs username']);
    const exactlyOne = 'identity: identity type username needs exactly one of password (${ENV}) and passwordFile';
    assert.deepEqual(problemsOf({ identity: { type: 'username', username: 'op' }, items: one }), [exactlyOne]);
    assert.deepEqual(problemsOf({ identity: { type: 'username', username: 'op', password: new Secret('x'), passwordFile: '/run/pw' }, items: one }), [exactlyOne]);
  });

  it('requires both files for a certificate identity', () => {
    assert.deepEqual(problemsOf({ identity: { type: 'certificate', certificateFile: '/c', privateKeyFile: '/k' }, items: one }), []);
    assert.deepEqual(problemsOf({ identity: { type: 'certificate', certificateFile: '/c' }, items: one }), [
      'identity: identity type certificate needs certificateFile and privateKeyFile',
    ]);
  });

  it('refuses a credential over securityMode None, where it would travel unprotected', () => {
    const none = { securityMode: 'None', securityPolicy: 'None' } as const;
    assert.deepEqual(problemsOf({ ...none, identity: { type: 'anonymous' }, items: one }), []);
    assert.deepEqual(problemsOf({ ...none, identity: { type: 'username', username: 'op', passwordFile: '/run/pw' }, items: one }), [
      'identity.type: a username identity over securityMode None would send the credential unprotected: use Sign or SignAndEncrypt',
    ]);
    assert.deepEqual(problemsOf({ ...none, identity: { type: 'certificate', certificateFile: '/c', privateKeyFile: '/k' }, items: one }), [
      'identity.type: a certificate identity over securityMode None would send the credential unprotected: use Sign or SignAndEncrypt',
    ]);
    assert.deepEqual(problemsOf({ securityMode: 'Sign', securityPolicy: 'Basic256Sha256', identity: { type: 'username', username: 'op', passwordFile: '/p' }, items: one }), []);
  });

  it("includes the items' problems", () => {
    assert.deepEqual(problemsOf({ items: [{ name: 'x', nodeId: 'nope' }] }), [
      'items[0].nodeId: "nope" is not a NodeId (ns=2;s=Name, ns=2;i=1001, i=2258, nsu=<uri>;s=Name …)',
    ]);
  });
});
