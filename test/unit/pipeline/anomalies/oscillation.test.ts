import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  OscillationMonitor,
  type OscillationBandResult,
  type OscillationOptions,
} from '../../../../src/pipeline/anomalies/oscillation.js';
import { mulberry32 as rng } from '../../../helpers/wait.js';

const T0 = 1_700_000_000_000_000; // a whole second, µs since the epoch
const FS = 60;
const BANDS = [
  { name: 'governor', lowHz: 0.01, highHz: 0.15 },
  { name: 'interArea', lowHz: 0.15, highHz: 1 },
  { name: 'local', lowHz: 1, highHz: 5 },
  { name: 'high', lowHz: 5, highHz: 15 },
];
const OPTIONS: OscillationOptions = { sampleRateHz: FS, windowS: 10, hopS: 1, bands: BANDS };

const frameUs = (i: number): number => T0 + Math.round((i * 1e6) / FS);

interface Evaluation {
  atUs: number;
  bands: OscillationBandResult[];
}

/** Feed frames 0…frames−1 of signal(tSeconds); return copies of every evaluation. */
function run(signal: (t: number, i: number) => number, frames: number, options = OPTIONS): Evaluation[] {
  const monitor = new OscillationMonitor(options);
  const out: Evaluation[] = [];
  for (let i = 0; i < frames; i++) {
    const r = monitor.add(frameUs(i), signal(i / FS, i));
    if (r) out.push({ atUs: r.atUs, bands: r.bands.map((b) => ({ ...b })) });
  }
  return out;
}

function band(e: Evaluation | undefined, name: string): OscillationBandResult {
  const b = e?.bands.find((x) => x.name === name);
  assert.ok(b, `no result for band ${name}`);
  return b;
}

/** x(t) = A·e^(−σt)·cos(ω_d·t + φ) with damping ratio ζ at damped frequency f. */
function dampedSine(a: number, fHz: number, zeta: number, phase = 0.3): (t: number) => number {
  const wd = 2 * Math.PI * fHz;
  const sigma = (zeta * wd) / Math.sqrt(1 - zeta * zeta);
  return (t) => a * Math.exp(-sigma * t) * Math.cos(wd * t + phase);
}

describe('OscillationMonitor', () => {
  it('reports a 0.8 Hz, 28 mHz oscillation in noise in the inter-area band at A/√2', () => {
    const a = 0.028;
    const noise = rng(1);
    const evals = run((t) => 60 + a * Math.sin(2 * Math.PI * 0.8 * t) + (noise() - 0.5) * 0.001, 60 * 15);
    assert.ok(evals.length >= 5);
    for (const e of evals) {
      const ia = band(e, 'interArea');
      assert.ok(Math.abs(ia.dominantHz - 0.8) < 0.05, `dominant ${ia.dominantHz} Hz`);
      const expected = a / Math.SQRT2;
      assert.ok(Math.abs(ia.rmsAmplitude - expected) / expected < 0.05, `rms ${ia.rmsAmplitude}, expected ${expected}`);
      assert.ok(Math.abs(ia.dampingRatio) < 0.02, `sustained: ζ ${ia.dampingRatio}`);
      for (const other of ['governor', 'local', 'high']) {
        assert.ok(band(e, other).rmsAmplitude < 0.001, `${other} reads ${band(e, other).rmsAmplitude}`);
      }
    }
  });

  it('reads an oscillation between two bins at its frequency and amplitude', () => {
    const a = 0.02;
    const evals = run((t) => a * Math.cos(2 * Math.PI * 0.83 * t + 1), 60 * 12);
    const ia = band(evals.at(-1), 'interArea');
    assert.ok(Math.abs(ia.dominantHz - 0.83) < 0.01, `dominant ${ia.dominantHz} Hz`);
    assert.ok(Math.abs(ia.rmsAmplitude - a / Math.SQRT2) / (a / Math.SQRT2) < 0.05, `rms ${ia.rmsAmplitude}`);
  });

  it('estimates the damping ratio of a decaying oscillation within ±0.02', () => {
    for (const [fHz, bandName] of [[0.8, 'interArea'], [0.4, 'interArea'], [2.2, 'local']] as const) {
      for (const phase of [0, 1, 2]) {
        const noise = rng(5);
        const decaying = dampedSine(0.05, fHz, 0.05, phase);
        const evals = run((t) => 60 + decaying(t) + (noise() - 0.5) * 0.0002, 60 * 10 + 1);
        const b = band(evals[0], bandName);
        assert.ok(Math.abs(b.dampingRatio - 0.05) <= 0.02, `${fHz} Hz, phase ${phase}: ζ ${b.dampingRatio}`);
        assert.ok(Math.abs(b.dominantHz - fHz) < 0.05, `${fHz} Hz: dominant ${b.dominantHz}`);
      }
    }
  });

  it('reports a growing oscillation with a negative damping ratio', () => {
    const evals = run(dampedSine(0.005, 0.6, -0.03), 60 * 10 + 1);
    const ia = band(evals[0], 'interArea');
    assert.ok(Math.abs(ia.dampingRatio - -0.03) <= 0.01, `ζ ${ia.dampingRatio}`);
  });

  it('leaves the damping ratio NaN when a segment holds too few cycles of the dominant frequency', () => {
    const evals = run((t) => 0.01 * Math.sin(2 * Math.PI * 0.1 * t), 60 * 10 + 1);
    const gov = band(evals[0], 'governor');
    assert.ok(gov.rmsAmplitude > 0.005);
    assert.ok(Number.isNaN(gov.dampingRatio));
  });

  it('reads uniform ±0.5 mHz noise far below 5 mHz in every band', () => {
    const noise = rng(9);
    const evals = run(() => 60 + (noise() - 0.5) * 0.001, 60 * 20);
    assert.ok(evals.length >= 10);
    for (const e of evals) {
      for (const b of e.bands) assert.ok(b.rmsAmplitude < 0.0005, `${b.name}: ${b.rmsAmplitude}`);
    }
  });

  it('reads a constant signal as zero with no dominant frequency', () => {
    const evals = run(() => 50, 60 * 11);
    assert.equal(evals[0]?.bands.length, 4);
    for (const b of evals[0]?.bands ?? []) {
      assert.ok(b.rmsAmplitude < 1e-12, `${b.name}: ${b.rmsAmplitude}`);
      assert.ok(Number.isNaN(b.dominantHz));
      assert.ok(Number.isNaN(b.dampingRatio));
    }
  });

  it('evaluates once the window is full, then on each whole second of event time', () => {
    const evals = run(() => 0, 60 * 13 + 30);
    assert.deepEqual(
      evals.map((e) => e.atUs - T0),
      [10_000_000, 11_000_000, 12_000_000, 13_000_000],
    );
  });

  it('aligns evaluations to multiples of the hop since the epoch, not to the first sample', () => {
    const monitor = new OscillationMonitor({ ...OPTIONS, windowS: 1, hopS: 0.5, bands: [{ name: 'local', lowHz: 1, highHz: 5 }] });
    const start = T0 + 123_457; // not on a boundary
    const at: number[] = [];
    for (let i = 0; i < 60 * 3; i++) {
      const tUs = start + Math.round((i * 1e6) / FS);
      const r = monitor.add(tUs, Math.sin(i));
      if (r) at.push(r.atUs);
    }
    assert.ok(at.length >= 3);
    for (const t of at) {
      const sinceBoundary = t % 500_000;
      assert.ok(sinceBoundary < 1e6 / FS, `evaluated ${sinceBoundary} µs after a boundary`);
    }
  });

  it('returns the same result object on every evaluation', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    const results = new Set<unknown>();
    for (let i = 0; i < 60 * 14; i++) {
      const r = monitor.add(frameUs(i), Math.sin(i / 10));
      if (r) results.add(r);
    }
    assert.equal(results.size, 1);
  });

  it('gives the same result for the same window however long it ran before (ring wrap-around)', () => {
    const signal = (t: number): number => 0.02 * Math.sin(2 * Math.PI * 0.7 * t) + 0.01 * Math.sin(2 * Math.PI * 3.1 * t + 0.5);
    const long = run(signal, 60 * 100 + 1);
    // A monitor that starts 10 s before the last evaluation sees the same 600 samples.
    const monitor = new OscillationMonitor(OPTIONS);
    let last: Evaluation | undefined;
    for (let i = 60 * 90; i <= 60 * 100; i++) {
      const r = monitor.add(frameUs(i), signal(i / FS));
      if (r) last = { atUs: r.atUs, bands: r.bands.map((b) => ({ ...b })) };
    }
    const tail = long.at(-1);
    assert.equal(last?.atUs, tail?.atUs);
    for (const name of ['interArea', 'local']) {
      const x = band(last, name);
      const y = band(tail, name);
      assert.ok(Math.abs(x.rmsAmplitude - y.rmsAmplitude) < 1e-12);
      assert.ok(Math.abs(x.dominantHz - y.dominantHz) < 1e-9);
    }
  });

  it('is deterministic: the same frames give the same results', () => {
    const make = (): Evaluation[] => {
      const noise = rng(4);
      return run((t) => Math.sin(2 * Math.PI * 0.5 * t) + noise(), 60 * 15);
    };
    assert.deepEqual(make(), make());
  });

  it('replaces a NaN sample by the previous value and counts it', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    const clean = new OscillationMonitor(OPTIONS);
    let got: number[] = [];
    let want: number[] = [];
    let previous = 0;
    for (let i = 0; i < 60 * 11; i++) {
      const x = 0.02 * Math.sin(2 * Math.PI * 0.8 * (i / FS));
      const isGap = i % 50 === 7;
      const r = monitor.add(frameUs(i), isGap ? Number.NaN : x);
      const c = clean.add(frameUs(i), isGap ? previous : x);
      if (!isGap) previous = x;
      if (r) got = r.bands.map((b) => b.rmsAmplitude);
      if (c) want = c.bands.map((b) => b.rmsAmplitude);
    }
    assert.equal(monitor.substitutedCount, 14);
    assert.deepEqual(got, want);
  });

  it('drops NaN samples while there is nothing to repeat', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    monitor.add(frameUs(0), Number.NaN);
    monitor.add(frameUs(1), Number.NaN);
    assert.equal(monitor.droppedCount, 2);
    assert.equal(monitor.substitutedCount, 0);
  });

  it('fills one missing frame with the previous value', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    const evals: number[] = [];
    for (let i = 0; i < 60 * 11; i++) {
      if (i === 100) continue;
      if (monitor.add(frameUs(i), Math.sin(i))) evals.push(i);
    }
    assert.equal(monitor.substitutedCount, 1);
    assert.equal(monitor.resetCount, 0);
    assert.equal(evals[0], 600, 'the filled frame keeps the window on time');
  });

  it('empties the window after a time jump of more than two periods and waits for a full window again', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    const evals: number[] = [];
    for (let i = 0; i < 60 * 25; i++) {
      if (i >= 700 && i < 703) continue; // three frames lost
      if (monitor.add(frameUs(i), Math.sin(i))) evals.push(i);
    }
    assert.equal(monitor.resetCount, 1);
    assert.deepEqual(evals.slice(0, 2), [600, 660]);
    assert.equal(evals[2], 1320, 'the next full window ends at 703 + 600 frames; the next whole second after it');
  });

  it('drops duplicate and out-of-order frames', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    monitor.add(frameUs(0), 1);
    monitor.add(frameUs(1), 2);
    monitor.add(frameUs(1), 3);
    monitor.add(frameUs(0), 4);
    assert.equal(monitor.droppedCount, 2);
    assert.equal(monitor.resetCount, 0);
  });

  it('starts over on reset', () => {
    const monitor = new OscillationMonitor(OPTIONS);
    for (let i = 0; i < 60 * 11; i++) monitor.add(frameUs(i), Math.sin(i));
    monitor.reset();
    let evaluated = false;
    for (let i = 60 * 11; i < 60 * 20; i++) evaluated ||= monitor.add(frameUs(i), Math.sin(i)) !== null;
    assert.equal(evaluated, false, 'less than a full window since the reset');
  });

  it('clamps a band above Nyquist and rejects a band with no DFT bin', () => {
    const evals = run((t) => 0.01 * Math.sin(2 * Math.PI * 20 * t), 60 * 11, {
      ...OPTIONS,
      bands: [{ name: 'toNyquist', lowHz: 5, highHz: 1000 }],
    });
    const b = band(evals[0], 'toNyquist');
    assert.ok(Math.abs(b.dominantHz - 20) < 0.05);
    assert.ok(Math.abs(b.rmsAmplitude - 0.01 / Math.SQRT2) < 0.0005);
    assert.throws(() => new OscillationMonitor({ ...OPTIONS, bands: [{ name: 'narrow', lowHz: 0.01, highHz: 0.05 }] }), RangeError);
    assert.throws(() => new OscillationMonitor({ ...OPTIONS, bands: [{ name: 'inverted', lowHz: 1, highHz: 0.5 }] }), RangeError);
    assert.throws(() => new OscillationMonitor({ ...OPTIONS, bands: [] }), RangeError);
    assert.throws(() => new OscillationMonitor({ ...OPTIONS, windowS: 0.1 }), RangeError);
  });
});
