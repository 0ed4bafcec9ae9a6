// Our feature windows against an independent reference: test/peers/reference/features.py, numpy
// code written from the formulas in docs, not from the TypeScript, run by this test on the very
// samples the engine saw (every value taken from the pmu-frame records, t = eventTimeUs).
//
// 20 s of one simulated PMU at 60 frames/s through the real codec (8 phasors VA VB VC IA IB IC V1 I1,
// 2 analogs), with events that make every feature non-trivial: a sustained 1.3 Hz oscillation
// (angles, magnitudes, frequency), a −1.2 Hz/s frequency ramp (ROCOF), a sag of phase A only
// (negative and zero sequence), a frequency step inside a window and a phase jump. Windows:
// 100 ms tumbling, 200 ms sliding by 100 ms, 1 s tumbling. The input is in event-time order, so
// lateness plays no part: every window fires once (revision 0) holding exactly its samples.
//
// Compared per window (matched on size, slide, start), to 1e-9 relative (floor 1e-9 absolute for
// values below 1): count/mean/min/max/std/rms/first/last of every raw channel; the window means
// of seq.V1 V2 V0 VUF V0F and seq.I1 I2 I0 IUF against numpy's per-sample symmetrical components
// averaged; power.P Q S means and the power factor; rocofDerived against np.polyfit's slope, to
// 1e-9 Hz/s absolute. Our slope runs on t relative to the stream's first second, numpy's on t
// relative to the window start: a shift does not change a least-squares slope.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it, type TestContext } from 'node:test';
import { AnalyticsEngine } from '../../src/pipeline/analytics/engine.js';
import type { AnalyticsOutput } from '../../src/pipeline/analytics/output.js';
import type { SourceRecord } from '../../src/pipeline/record.js';
import { analyticsConfig, feedRecords, sourceAnalytics, type Body } from '../helpers/analytics.js';
import { simulatedRecords, START_SOC } from '../helpers/pmu-records.js';
import { runPythonJson } from '../helpers/python.js';

const REFERENCE = fileURLToPath(new URL('./reference/features.py', import.meta.url));
const SECONDS = 20;
const RATE = 60;
const T0 = START_SOC * 1e6;
const WINDOWS = [{ sizeMs: 100 }, { sizeMs: 200, slideMs: 100 }, { sizeMs: 1000 }];
const EVENTS = [
  { type: 'oscillation', at: 1, modeHz: 1.3, angleDeg: 4, magnitudePct: 2, dampingRatio: 0, durationS: 18 },
  { type: 'frequency-ramp', at: 5, rocofHzPerS: -1.2, durationS: 3 },
  { type: 'voltage', at: 10.03, pu: 0.75, phases: ['A'], durationS: 2.5 },
  { type: 'frequency-step', at: 14.05, deltaHz: 0.15 },
  { type: 'phase-jump', at: 16.5, deg: 30 },
];
const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });

const REL = 1e-9;
const SLOPE_ABS_HZ_PER_S = 1e-9;
const STATS = ['count', 'mean', 'min', 'max', 'std', 'rms', 'first', 'last'] as const;
/** Our derived channel → where numpy has it (sequence.<group>.<key> or power.<key>). */
const SEQUENCE: [string, 'voltage' | 'current', string][] = [
  ['seq.V1', 'voltage', 'v1'],
  ['seq.V2', 'voltage', 'v2'],
  ['seq.V0', 'voltage', 'v0'],
  ['seq.VUF', 'voltage', 'unbalancePct'],
  ['seq.V0F', 'voltage', 'zeroPct'],
  ['seq.I1', 'current', 'v1'],
  ['seq.I2', 'current', 'v2'],
  ['seq.I0', 'current', 'v0'],
  ['seq.IUF', 'current', 'unbalancePct'],
];
const POWER: [string, string][] = [
  ['power.P', 'p'],
  ['power.Q', 'q'],
  ['power.S', 's'],
];

type Stats = Record<(typeof STATS)[number], number | null>;
interface NumpyWindow {
  sizeUs: number;
  slideUs: number;
  start: number;
  end: number;
  channels: Record<string, Stats>;
  rocofDerived: number | null;
  sequence: Record<'voltage' | 'current', Record<string, number | null>>;
  power: { p: number | null; q: number | null; s: number | null; pf: number | null };
}
interface PmuFrameBody {
  freq: number | null;
  rocof: number | null;
  phasors: { name: string; magnitude: number | null; angle: number | null }[];
  analogs: { name: string; value: number | null }[];
}

const keyOf = (sizeUs: number, slideUs: number, start: number): string => `${sizeUs}/${slideUs}@${start}`;

/** The samples exactly as the engine got them (pmu-extract.ts reads the same body fields). */
function numpySamples(records: SourceRecord[]): { t: number; values: Record<string, number | null> }[] {
  return records.map((r) => {
    const b = r.body as unknown as PmuFrameBody;
    const values: Record<string, number | null> = { freq: b.freq, rocof: b.rocof };
    for (const p of b.phasors) {
      values[`${p.name}.magnitude`] = p.magnitude;
      values[`${p.name}.angle`] = p.angle;
    }
    for (const a of b.analogs) values[a.name] = a.value;
    return { t: r.eventTimeUs, values };
  });
}

/** Worst error seen by one group of checks, for the diagnostics. */
class Errors {
  values = 0;
  maxRel = 0;
  maxAbs = 0;
  where = '';

  /** actual ≈ expected within `tol` (default REL·max(1, |expected|)); null only matches null. */
  check(actual: number | null | undefined, expected: number | null | undefined, what: string, tol?: number): void {
    if (expected === null || expected === undefined || actual === null || actual === undefined) {
      assert.equal(actual ?? null, expected ?? null, `${what}: ours ${actual}, numpy ${expected}`);
      return;
    }
    const abs = Math.abs(actual - expected);
    const limit = tol ?? REL * Math.max(1, Math.abs(expected));
    assert.ok(abs <= limit, `${what}: ours ${actual}, numpy ${expected}, |Δ| ${abs} > ${limit}`);
    this.values++;
    const rel = expected === 0 ? (abs === 0 ? 0 : Infinity) : abs / Math.abs(expected);
    if (rel > this.maxRel) {
      this.maxRel = rel;
      this.where = what;
    }
    this.maxAbs = Math.max(this.maxAbs, abs);
  }

  report(t: TestContext, windows: number): void {
    t.diagnostic(`${this.values} values over ${windows} windows; max |Δ| ${this.maxAbs.toExponential(2)}, max relative ${this.maxRel.toExponential(2)} (${this.where})`);
  }
}

describe('feature windows against an independent numpy reference (test/peers/reference/features.py)', () => {
  let outputs: AnalyticsOutput[];
  let ours: Map<string, Body & { revision: number; closedBy: string }>;
  let numpy: Map<string, NumpyWindow>;
  let records: SourceRecord[];

  before(() => {
    records = simulatedRecords({ seconds: SECONDS, rate: RATE, pmus: 1, phasors: 8, analogs: 2, scenario: { events: EVENTS } });
    const engine = new AnalyticsEngine(analyticsConfig({ windows: WINDOWS }));
    outputs = feedRecords(engine, records, settings, 5);
    // A stop fires the windows the watermark has not reached yet (the last ones), with all their samples.
    outputs.push(...engine.process({ nowUs: records.at(-1)!.ingestTimeUs, describe: [], rows: new Float64Array(0), rowCount: 0, flush: true }).outputs);
    ours = new Map();
    for (const o of outputs) {
      if (o.kind !== 'feature-window') continue;
      const b = JSON.parse(o.encodedBody as string) as Body & { revision: number; closedBy: string };
      const k = keyOf(b.window.sizeMs * 1000, b.window.slideMs * 1000, b.window.start);
      assert.ok(!ours.has(k), `window ${k} fired once`);
      ours.set(k, b);
    }
    const result = runPythonJson<NumpyWindow[]>(REFERENCE, {
      windows: WINDOWS.map((w) => ({ sizeUs: w.sizeMs * 1000, slideUs: (w.slideMs ?? w.sizeMs) * 1000 })),
      samples: numpySamples(records),
      phases: { voltage: settings.voltagePhasors, current: settings.currentPhasors },
    });
    numpy = new Map(result.map((w) => [keyOf(w.sizeUs, w.slideUs, w.start), w]));
  });

  /** Every window both sides have, ours first. */
  const pairs = (): [string, Body, NumpyWindow][] => [...ours].map(([k, b]) => [k, b, numpy.get(k)!]);

  it('feeds the engine in order, so every window fires once, on time, with exactly the windows and samples numpy finds', () => {
    assert.equal(records.length, SECONDS * RATE);
    assert.deepEqual(
      outputs.filter((o) => o.kind === 'late-sample'),
      [],
      'no late samples',
    );
    assert.deepEqual([...ours.keys()].sort(), [...numpy.keys()].sort(), 'the same (size, slide, start) windows');
    // 20 s: 200 windows of 100 ms, 201 of 200 ms/100 ms (one starts 100 ms before the run), 20 of 1 s.
    assert.equal(ours.size, 200 + 201 + 20);
    const lastEnd = T0 + SECONDS * 1e6;
    // The final watermark: the last event time less the default out-of-orderness, 3 periods.
    const watermark = records.at(-1)!.eventTimeUs - 3 * (1e6 / RATE);
    for (const [k, b, n] of pairs()) {
      assert.equal(b.revision, 0, `${k}: first and only result`);
      assert.equal(b.duplicates, 0, k);
      assert.equal(b.samples, n.channels.freq!.count, `${k}: samples`);
      // Windows the watermark passed fired on it; the rest fired at the stop, with the same samples.
      assert.equal(b.closedBy, b.window.end <= watermark ? 'watermark' : 'shutdown', `${k}: closedBy`);
      const partial = b.window.start < T0 || b.window.end > lastEnd;
      assert.equal(b.complete, !partial, `${k}: complete`);
    }
  });

  it("matches numpy's count, mean, min, max, std, rms, first and last of every raw channel in every window", (t) => {
    const errors = new Errors();
    let channels = 0;
    for (const [k, b, n] of pairs()) {
      const raw = Object.keys(b.channels).filter((name) => name in n.channels);
      // Our raw channels: freq, rocof, the 8 magnitudes, the 2 analogs (angles feed derived ones only).
      assert.equal(raw.length, 2 + 8 + 2, `${k}: raw channels ${raw.join(', ')}`);
      channels = raw.length;
      for (const name of raw) {
        for (const s of STATS) errors.check(b.channels[name][s], n.channels[name]![s], `${k} ${name}.${s}`);
      }
    }
    assert.equal(errors.values, ours.size * channels * STATS.length);
    errors.report(t, ours.size);
  });

  it("matches numpy's per-sample symmetrical components (V1 V2 V0 VUF V0F, I1 I2 I0 IUF) averaged over each window", (t) => {
    const errors = new Errors();
    for (const [k, b, n] of pairs()) {
      for (const [name, group, key] of SEQUENCE) {
        errors.check(b.channels[name]?.mean, n.sequence[group][key], `${k} ${name} mean`);
      }
    }
    assert.equal(errors.values, ours.size * SEQUENCE.length);
    errors.report(t, ours.size);
  });

  it("matches numpy's three-phase power P, Q, S (window means) and the window's power factor", (t) => {
    const errors = new Errors();
    for (const [k, b, n] of pairs()) {
      for (const [name, key] of POWER) errors.check(b.channels[name]?.mean, n.power[key as 'p' | 'q' | 's'], `${k} ${name} mean`);
      errors.check(b.powerFactor, n.power.pf, `${k} powerFactor`);
    }
    assert.equal(errors.values, ours.size * (POWER.length + 1));
    errors.report(t, ours.size);
  });

  it("matches np.polyfit's least-squares slope of the frequency (rocofDerived) to 1e-9 Hz/s", (t) => {
    const errors = new Errors();
    for (const [k, b, n] of pairs()) errors.check(b.rocofDerived, n.rocofDerived, `${k} rocofDerived`, SLOPE_ABS_HZ_PER_S);
    assert.equal(errors.values, ours.size);
    errors.report(t, ours.size);
  });

  it('compares features the scenario made non-trivial: unbalance in the sag, the ramp in the slope, the oscillation in the spread', () => {
    const at = (sizeMs: number, startS: number): Body => {
      const start = T0 + startS * 1e6;
      const b = ours.get(keyOf(sizeMs * 1000, sizeMs * 1000, start));
      assert.ok(b, `a ${sizeMs} ms window at ${startS} s`);
      return b;
    };
    // Phase A at 0.75 pu: |V1| = (0.75 + 2)/3, |V2| = |V0| = 0.25/3 of nominal → VUF = V0F ≈ 9.1 %.
    const sag = at(100, 11);
    assert.ok(Math.abs(sag.channels['seq.VUF'].mean - 100 / 11) < 0.3, `VUF in the sag ${sag.channels['seq.VUF'].mean}`);
    assert.ok(Math.abs(sag.channels['seq.V0F'].mean - 100 / 11) < 0.3, `V0F in the sag ${sag.channels['seq.V0F'].mean}`);
    assert.ok(at(100, 9).channels['seq.VUF'].mean < 0.5, 'VUF before the sag: noise and oscillation only');
    // The ramp: −1.2 Hz/s in a 1 s window inside it.
    assert.ok(Math.abs(at(1000, 6).rocofDerived + 1.2) < 0.05, `slope in the ramp ${at(1000, 6).rocofDerived}`);
    // The oscillation: the frequency spreads well beyond its ±0.5 mHz noise.
    assert.ok(at(1000, 3).channels.freq.std > 0.005, `freq std ${at(1000, 3).channels.freq.std}`);
    // Lagging load, pf 0.95 by default, moved by the oscillation's angle swing.
    const pf = at(1000, 3).powerFactor;
    assert.ok(pf > 0.9 && pf < 0.99, `powerFactor ${pf}`);
  });
});
