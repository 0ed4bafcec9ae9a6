import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { Secret } from '../../../src/config/secret.js';
import { analyticsEntry, planReload, same, type RunningState } from '../../../src/daemon/reload-plan.js';

// What a SIGHUP may apply in place, from two real (parsed and validated) configs.

const pmu = (name: string, idcode: number, extra = ''): string => `
  - name: ${name}
    type: c37118
    address: 127.0.0.1:${4700 + idcode}
    idcode: ${idcode}${extra}`;

const site = (sources: string, head = ''): string => `site: north
kafka: { brokers: ["127.0.0.1:9092"], security: { protocol: sasl_plaintext, sasl: { mechanism: PLAIN, username: u, password: "\${PW}" } } }
spool: { dir: /tmp/gg/spool }
state: { dir: /tmp/gg }
${head}sources:${sources}
`;

const load = (text: string, pw = 'one') => parseConfig(text, 'site.yaml', { PW: pw });

function running(text: string): RunningState {
  const config = load(text);
  return {
    config,
    analytics: new Map(config.sources.flatMap((s) => (analyticsEntry(s) ? [[s.name, analyticsEntry(s)!] as const] : []))),
    topics: new Set(['north.pmu', 'north.scada', 'north.dead-letter']),
    hasPipeline: config.sources.length > 0,
  };
}

describe('reload plan', () => {
  const base = site(pmu('pmu-a', 1) + pmu('pmu-b', 2));

  it('finds nothing to do in the same file', () => {
    const plan = planReload(running(base), load(base));
    assert.deepEqual([plan.changed, plan.needsRestart], [[], []]);
  });

  it('restarts only the sources that changed, starts added ones and stops removed ones', () => {
    const next = load(site(pmu('pmu-a', 1, '\n    staleAfterPeriods: 20') + pmu('pmu-c', 3)));
    const plan = planReload(running(base), next);
    assert.deepEqual(plan.needsRestart, []);
    assert.deepEqual(plan.changed, ['sources.pmu-a (changed)', 'sources.pmu-c (added)', 'sources.pmu-b (removed)']);
    assert.deepEqual([plan.restarted.map((s) => s.name), plan.added.map((s) => s.name), plan.removed], [['pmu-a'], ['pmu-c'], ['pmu-b']]);
  });

  it('applies log level, drain budget and http in place', () => {
    const plan = planReload(running(base), load(site(pmu('pmu-a', 1) + pmu('pmu-b', 2), 'log: { level: debug }\nhttp: { port: 9999 }\nshutdown: { drainTimeoutMs: 20000 }\n')));
    assert.deepEqual(plan.changed, ['log.level', 'shutdown.drainTimeoutMs', 'http']);
    assert.equal(plan.logLevel, 'debug');
    assert.equal(plan.drainTimeoutMs, 20000);
    assert.equal(plan.http, true);
  });

  it('says restart for what every record passes through: kafka (a new password too), spool, site, analytics, a source’s analytics settings or a topic the sink does not know', () => {
    const r = running(base);
    assert.deepEqual(planReload(r, load(base, 'two')).needsRestart, ['kafka']);
    assert.deepEqual(planReload(r, load(base.replace('site: north', 'site: south'))).needsRestart, ['site']);
    assert.deepEqual(planReload(r, load(base.replace('/tmp/gg/spool', '/tmp/gg/spool2'))).needsRestart, ['spool']);
    const retuned = load(site(pmu('pmu-a', 1, '\n    analytics: { voltageBaseKv: 110 }') + pmu('pmu-b', 2)));
    assert.deepEqual(planReload(r, retuned).needsRestart, ['sources.pmu-a.analytics']);
    const renumbered = load(site(pmu('pmu-a', 7) + pmu('pmu-b', 2)));
    assert.deepEqual(planReload(r, renumbered).needsRestart, ['sources.pmu-a.analytics']);
    const ownTopic = load(site(pmu('pmu-a', 1, '\n    topics: { records: north.pmu-a }') + pmu('pmu-b', 2)));
    assert.deepEqual(planReload(r, ownTopic).needsRestart, ['sources.pmu-a.topics (north.pmu-a)']);
  });

  it('says restart for the first sources of a gateway that started without any (nothing to attach them to)', () => {
    const empty = running(site(' []'));
    assert.deepEqual(planReload(empty, load(base)).needsRestart, ['sources (the gateway started without any)']);
  });

  it('compares secrets by value, which util.isDeepStrictEqual cannot see', () => {
    assert.equal(same({ p: new Secret('a') }, { p: new Secret('a') }), true);
    assert.equal(same({ p: new Secret('a') }, { p: new Secret('b') }), false);
    assert.equal(same([1, { x: NaN }], [1, { x: NaN }]), true);
    assert.equal(same([1], { 0: 1 }), false);
  });
});
