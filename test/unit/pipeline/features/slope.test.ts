import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlopeSums } from '../../../../src/pipeline/features/slope.js';

const T0 = 1_700_000_000.123456; // absolute seconds, as callers pass them
const FPS = 60;

/**
 * A noiseless frequency ramp f = 60 + rate·(t − T0), sampled at 60 fps from frame `from`. y is
 * computed from the double t actually passed: a double near 1.7e9 s has a 2.4e-7 s step, so y taken
 * at the ideal times i/60 would carry that timestamp rounding (a 1e-6 relative slope error).
 */
function ramp(from: number, frames: number, rate: number): { t: number[]; y: number[] } {
  const t: number[] = [];
  const y: number[] = [];
  for (let i = from; i < from + frames; i++) {
    const ti = T0 + i / FPS;
    t.push(ti);
    y.push(60 + rate * (ti - T0));
  }
  return { t, y };
}

function sumsOf(t: readonly number[], y: readonly number[]): SlopeSums {
  const s = new SlopeSums();
  for (let i = 0; i < t.length; i++) s.add(t[i] ?? NaN, y[i] ?? NaN);
  return s;
}

/** Independent reference: centred two-pass regression on times taken relative to T0 by hand. */
function centredSlope(t: readonly number[], y: readonly number[]): number {
  const n = t.length;
  const tau = t.map((x) => x - T0);
  const mt = tau.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dt = (tau[i] ?? NaN) - mt;
    sxy += dt * ((y[i] ?? NaN) - my);
    sxx += dt * dt;
  }
  return sxy / sxx;
}

describe('SlopeSums', () => {
  it('recovers 1 mHz/s within 1e-9 from a noiseless 100 ms ramp at 60 fps around t = 1.7e9 s', () => {
    for (const rate of [0.001, -0.001, 1, 0]) {
      for (const frames of [6, 7]) {
        const { t, y } = ramp(0, frames, rate);
        const s = sumsOf(t, y);
        assert.equal(s.count, frames);
        assert.ok(Math.abs(s.slope() - rate) < 1e-9, `rate ${rate}, ${frames} frames: ${s.slope()}`);
      }
    }
  });

  it('recovers the slope of ideal µs timestamps to 1e-12 when given seconds since a recent base', () => {
    // Absolute seconds round µs to 2.4e-7 s (≈ 1e-9 Hz/s here); (tUs − baseUs)/1e6 does not.
    const baseUs = 1_700_000_000_000_000;
    const s = new SlopeSums();
    for (let i = 0; i < 6; i++) {
      const tUs = baseUs + 123_456 + Math.round((i * 1e6) / FPS);
      s.add((tUs - baseUs) / 1e6, 60 + 0.001 * ((tUs - baseUs - 123_456) / 1e6));
    }
    assert.ok(Math.abs(s.slope() - 0.001) < 1e-12, `${s.slope()}`);
  });

  it('would be wrong without the origin: naive absolute-time sums lose the 1 mHz/s slope', () => {
    const { t, y } = ramp(0, 6, 0.001);
    let st = 0;
    let sy = 0;
    let stt = 0;
    let sty = 0;
    for (let i = 0; i < t.length; i++) {
      const ti = t[i] ?? NaN;
      const yi = y[i] ?? NaN;
      st += ti;
      sy += yi;
      stt += ti * ti;
      sty += ti * yi;
    }
    const n = t.length;
    const naive = (n * sty - st * sy) / (n * stt - st * st);
    assert.ok(!(Math.abs(naive - 0.001) < 1e-6), `naive slope ${naive}`);
    assert.ok(Math.abs(sumsOf(t, y).slope() - 0.001) < 1e-9);
  });

  it('sets its origin at the first accepted sample', () => {
    const s = new SlopeSums();
    assert.ok(Number.isNaN(s.origin));
    s.add(T0 - 1, NaN);
    assert.ok(Number.isNaN(s.origin), 'an ignored sample sets no origin');
    s.add(T0, 60);
    assert.equal(s.origin, T0);
  });

  it('matches a centred two-pass regression on noisy frequencies', () => {
    const t: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 30; i++) {
      t.push(T0 + i / FPS);
      y.push(59.98 + 0.05 * (i / FPS) + 0.001 * Math.sin(i * 1.7));
    }
    const got = sumsOf(t, y).slope();
    const ref = centredSlope(t, y);
    assert.ok(Math.abs(got - ref) < 1e-11, `${got} vs ${ref}`);
  });

  it('ignores a non-finite y or t', () => {
    const { t, y } = ramp(0, 7, 0.5);
    const s = sumsOf(t, y);
    s.add(T0 + 1, NaN);
    s.add(NaN, 61);
    s.add(T0 + 2, Infinity);
    assert.equal(s.count, 7);
    assert.ok(Math.abs(s.slope() - 0.5) < 1e-9);
  });

  it('has no slope for fewer than two samples or when every sample has the same time', () => {
    assert.ok(Number.isNaN(new SlopeSums().slope()));
    assert.ok(Number.isNaN(sumsOf([T0], [60]).slope()));
    assert.ok(Number.isNaN(sumsOf([T0, T0, T0], [60, 61, 62]).slope()));
  });

  it('gives the same slope by merging consecutive windows as by adding every sample in order', () => {
    const t: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 30; i++) {
      t.push(T0 + i / FPS);
      y.push(60 + 0.02 * Math.sin(i / 5) + 0.001 * (i / FPS));
    }
    const sequential = sumsOf(t, y);
    const merged = new SlopeSums();
    for (let w = 0; w < 5; w++) merged.merge(sumsOf(t.slice(6 * w, 6 * w + 6), y.slice(6 * w, 6 * w + 6)));
    assert.equal(merged.count, 30);
    assert.equal(merged.origin, T0);
    assert.ok(Math.abs(merged.slope() - sequential.slope()) < 1e-12, `${merged.slope()} vs ${sequential.slope()}`);
  });

  it('shifts the sums the right way whichever side of this origin the other window lies', () => {
    const early = ramp(0, 6, 0.25);
    const late = ramp(30, 6, 0.25); // 0.5 s later; the slope across both is still 0.25
    const forward = sumsOf(early.t, early.y);
    forward.merge(sumsOf(late.t, late.y));
    const backward = sumsOf(late.t, late.y);
    backward.merge(sumsOf(early.t, early.y));
    const all = sumsOf([...early.t, ...late.t], [...early.y, ...late.y]);
    for (const s of [forward, backward]) {
      assert.equal(s.count, 12);
      assert.ok(Math.abs(s.slope() - 0.25) < 1e-9, `${s.slope()}`);
      assert.ok(Math.abs(s.slope() - all.slope()) < 1e-12);
    }
    // Two flat windows at different levels: only a correctly shifted Στ and Στ² give the step's slope.
    const a = sumsOf([T0, T0 + 0.1], [60, 60]);
    a.merge(sumsOf([T0 + 1, T0 + 1.1], [61, 61]));
    const ref = centredSlope([T0, T0 + 0.1, T0 + 1, T0 + 1.1], [60, 60, 61, 61]);
    assert.ok(Math.abs(a.slope() - ref) < 1e-9, `${a.slope()} vs ${ref}`);
  });

  it('takes the other origin when merged into while empty, and ignores an empty other', () => {
    const { t, y } = ramp(12, 6, 0.001);
    const s = new SlopeSums();
    s.merge(new SlopeSums());
    assert.equal(s.count, 0);
    s.merge(sumsOf(t, y));
    assert.equal(s.origin, t[0]);
    s.merge(new SlopeSums());
    assert.ok(Math.abs(s.slope() - 0.001) < 1e-9);
  });

  it('is empty again after reset', () => {
    const s = sumsOf([T0, T0 + 1], [1, 2]);
    s.reset();
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.origin));
    assert.ok(Number.isNaN(s.slope()));
    s.add(T0 + 5, 0);
    s.add(T0 + 6, -3);
    assert.equal(s.origin, T0 + 5);
    assert.equal(s.slope(), -3);
  });
});
