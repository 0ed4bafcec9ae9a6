import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePairs } from '../../../../src/pipeline/analytics/angle-pair.js';
import { Affinity } from '../../../../src/pipeline/analytics/affinity.js';
import { AnalyticsEngine } from '../../../../src/pipeline/analytics/engine.js';
import { analyticsConfig, bodies, feedRecords, sourceAnalytics } from '../../../helpers/analytics.js';
import { simulatedRecords, START_SOC } from '../../../helpers/pmu-records.js';

// Two PMUs of one simulated stream; the simulator puts PMU p at p × −2°, so θ(101) − θ(102) = +2°.

const T0 = START_SOC * 1e6;
const config = analyticsConfig({ anglePairs: [{ name: 'north-south', a: { source: 'pmu', pmu: 101 }, b: { source: 'pmu', pmu: 102 } }] });
const pairs = resolvePairs('site', config.anglePairs, () => 1);

function run(events: Record<string, unknown>[] = [], seconds = 40) {
  const records = simulatedRecords({ seconds, pmus: 2, scenario: { events } });
  return feedRecords(new AnalyticsEngine(config, pairs), records, sourceAnalytics(), 7);
}

describe('angle pairs', () => {
  it('names the buses by their stream keys, the source IDCODE standing in for a missing pmu', () => {
    const resolved = resolvePairs('north', [{ name: 'x', a: { source: 'pmu-a' }, b: { source: 'pmu-b', pmu: 7 } }], (s) => (s === 'pmu-a' ? 3 : 9));
    assert.deepEqual(resolved, [{ name: 'x', a: 'north/pmu-a/3', b: 'north/pmu-b/7', source: 'pmu-a' }]);
  });

  it('puts both buses of a pair, and chains of pairs, in the same worker', () => {
    const chain = [
      { name: 'p1', a: 'site/a/1', b: 'site/b/2', source: 'a' },
      { name: 'p2', a: 'site/b/2', b: 'site/c/3', source: 'b' },
    ];
    for (let shards = 2; shards <= 7; shards++) {
      const affinity = new Affinity(shards, chain);
      const owner = affinity.shardOf('site/a/1');
      assert.equal(affinity.shardOf('site/b/2'), owner);
      assert.equal(affinity.shardOf('site/c/3'), owner);
    }
  });

  it('reports the angle difference and slip of the positive-sequence voltages per window', () => {
    const windows = bodies(run(), 'feature-window').filter((b) => b.window.name === '1s');
    const pair = windows.filter((b) => b.channels['angle.difference']);
    assert.ok(pair.length >= 35, `${pair.length} pair windows`);
    for (const w of pair) {
      assert.equal(w.channels['angle.difference'].unit, 'deg');
      assert.ok(Math.abs(w.channels['angle.difference'].mean - 2) < 0.01, `Δθ ${w.channels['angle.difference'].mean}`);
      assert.ok(Math.abs(w.channels['angle.slip'].mean) < 0.001, `slip ${w.channels['angle.slip'].mean}`);
    }
  });

  it('flags an angle difference beyond 30° within one window plus the 500 ms pickup', () => {
    const out = run([{ type: 'phase-jump', at: 20, deg: -40, pmus: [1] }]);
    const flags = out.filter((o) => o.kind === 'anomaly' && o.stream === 'angle/north-south');
    const raised = flags.find((o) => (o.encodedBody as string).includes('"state":"raised"'));
    assert.ok(raised, 'raised');
    const body = JSON.parse(raised.encodedBody as string);
    assert.equal(body.kind, 'angle-difference');
    assert.ok(Math.abs(body.value - 42) < 0.1, `Δθ ${body.value}`);
    const delay = raised.eventTimeUs - (T0 + 20e6);
    assert.ok(delay > 0 && delay <= 100_000 + 500_000, `raised ${delay / 1000} ms after the jump`);
  });

  it('leaves the angle out while either PMU has lost its time sync', () => {
    const windows = bodies(run([{ type: 'gps-loss', at: 10, durationS: 5, pmus: [1] }], 20), 'feature-window').filter(
      (b) => b.window.name === '1s' && b.channels['angle.difference'],
    );
    const during = windows.find((b) => b.window.start === T0 + 12e6)!;
    assert.equal(during.channels['angle.difference'].count, 0);
    const after = windows.find((b) => b.window.start === T0 + 17e6)!;
    assert.equal(after.channels['angle.difference'].count, 60);
  });
});
