import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnalyticsEngine } from '../../../../src/pipeline/analytics/engine.js';
import { analyticsConfig, bodies, feedRecords, sourceAnalytics, type Body } from '../../../helpers/analytics.js';
import { simulatedRecords, START_SOC } from '../../../helpers/pmu-records.js';

// Detection against the PMU simulator's scripted events (60 frames/s, 230 kV, 500 A, realistic
// noise), through the real codec and the default detector settings. Each flag must be raised within
// one detection window (100 ms) plus its pickup time (counted in whole windows) plus the span the
// detector measures over (ROCOF 500 ms, oscillation 10 s), and never before the event.

const T0 = START_SOC * 1e6;
const WINDOW_US = 100_000;
const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });

function anomalies(events: Record<string, unknown>[], seconds = 60): (Body & { atUs: number })[] {
  const records = simulatedRecords({ seconds, scenario: { events } });
  const engine = new AnalyticsEngine(analyticsConfig());
  const out = feedRecords(engine, records, settings, 5);
  return out.filter((o) => o.kind === 'anomaly').map((o) => ({ ...(JSON.parse(o.encodedBody as string) as Body), atUs: o.eventTimeUs }));
}

const roundUp = (us: number): number => Math.ceil(us / WINDOW_US) * WINDOW_US;

function raised(flags: (Body & { atUs: number })[], kind: string, eventS: number, boundUs: number): Body & { atUs: number } {
  const eventUs = T0 + eventS * 1e6;
  const early = flags.filter((f) => f.atUs < eventUs);
  assert.deepEqual(early, [], `no flag before the event at ${eventS} s`);
  const flag = flags.find((f) => f.kind === kind && f.state === 'raised');
  assert.ok(flag, `a ${kind} flag is raised (got ${flags.map((f) => `${f.kind}/${f.state}`).join(', ') || 'none'})`);
  assert.ok(flag.atUs - eventUs <= boundUs, `${kind} raised ${(flag.atUs - eventUs) / 1000} ms after the event, bound ${boundUs / 1000} ms`);
  return flag;
}

describe('anomaly detection on simulated events', () => {
  it('flags a voltage sag to 0.8 pu within one window plus the 20 ms pickup, and clears it after', () => {
    const flags = anomalies([{ type: 'voltage', at: 30.05, pu: 0.8, durationS: 0.5 }]);
    const sag = raised(flags, 'voltage-sag', 30.05, WINDOW_US + roundUp(20_000));
    assert.ok(Math.abs(sag.peak - 0.8) < 0.01, `peak ${sag.peak}`);
    assert.equal(sag.severity, 'critical');
    assert.ok(flags.some((f) => f.kind === 'voltage-sag' && f.state === 'cleared'));
  });

  it('flags a voltage swell to 1.15 pu on one phase', () => {
    raised(anomalies([{ type: 'voltage', at: 30, pu: 1.15, phases: ['B'], durationS: 1 }]), 'voltage-swell', 30, WINDOW_US + roundUp(20_000));
  });

  it('flags a frequency step of −0.2 Hz within two windows (two consecutive hits)', () => {
    const step = raised(anomalies([{ type: 'frequency-step', at: 30, deltaHz: -0.2 }]), 'frequency-step', 30, 2 * WINDOW_US);
    assert.ok(Math.abs(step.value + 0.2) < 0.005, `delta ${step.value}`);
  });

  it('flags under-frequency of 0.6 Hz within one window plus the 100 ms pickup', () => {
    raised(anomalies([{ type: 'frequency-step', at: 30, deltaHz: -0.6, pmus: [0] }]), 'under-frequency', 30, WINDOW_US + roundUp(100_000));
  });

  it('flags a ROCOF event of 1.5 Hz/s within the 500 ms slope span plus one window', () => {
    const flags = anomalies([{ type: 'frequency-ramp', at: 30, rocofHzPerS: 1.5, durationS: 2 }]);
    raised(flags, 'rocof', 30, 500_000 + WINDOW_US);
    // The peak over the whole episode (in the cleared record) is the ramp's rate.
    const cleared = flags.find((f) => f.kind === 'rocof' && f.state === 'cleared');
    assert.ok(cleared && Math.abs(cleared.peak - 1.5) < 0.02, `peak ${cleared?.peak}`);
  });

  it('flags a 0.8 Hz inter-area oscillation within the 10 s analysis span plus the 2 s pickup, with its frequency', () => {
    const flags = anomalies([{ type: 'oscillation', at: 30, modeHz: 0.8, angleDeg: 2, dampingRatio: 0, durationS: 25 }]);
    const flag = raised(flags, 'oscillation', 30, 10_000_000 + 2_000_000);
    assert.equal(flag.channel, 'inter-area');
    assert.ok(Math.abs(flag.detail.dominantHz - 0.8) < 0.05, `dominant ${flag.detail.dominantHz} Hz`);
  });

  it('estimates the damping of a decaying oscillation once the analysed span lies within it', () => {
    // From the start of the run, so the first full 10 s span is all oscillation.
    const flags = anomalies([{ type: 'oscillation', at: 0, modeHz: 0.8, angleDeg: 6, dampingRatio: 0.03 }], 20);
    const flag = raised(flags, 'oscillation', 0, 12_000_000);
    assert.ok(Math.abs(flag.detail.dampingRatio - 0.03) < 0.02, `ζ ${flag.detail.dampingRatio}`);
  });

  it('flags loss of GPS sync from STAT', () => {
    raised(anomalies([{ type: 'gps-loss', at: 30, durationS: 5 }]), 'sync-lost', 30, WINDOW_US);
  });

  it('flags frames missing from the stream', () => {
    const gap = raised(anomalies([{ type: 'drop', at: 30, durationS: 0.05 }]), 'frame-gap', 30, WINDOW_US);
    assert.equal(gap.value, 3);
  });

  it('raises no flag at all on a clean 10-minute signal with realistic noise', () => {
    const flags = anomalies([], 600);
    assert.deepEqual(
      flags.map((f) => `${f.kind}/${f.channel} ${f.state} at ${(f.atUs - T0) / 1e6} s value ${f.value}`),
      [],
    );
  });
});
