import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  perUnitLineToNeutral,
  polarToRect,
  positiveSequencePower,
  symmetricalComponents,
  threePhasePower,
  wrapDeg,
  wrapRad,
} from '../../../../src/pipeline/features/phasor-math.js';
import { mulberry32 as seeded } from '../../../helpers/wait.js';

const DEG = Math.PI / 180;

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);
}

/** Three phasors given as [magnitude, angle in degrees] for A, B, C. */
function phases(...polar: [number, number][]): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(3);
  const im = new Float64Array(3);
  polar.forEach(([mag, deg], k) => polarToRect(mag, deg * DEG, re, im, k));
  return { re, im };
}

function seq(re: Float64Array, im: Float64Array): { v0: number; v1: number; v2: number; out: Float64Array } {
  const out = new Float64Array(6);
  symmetricalComponents(re, im, out);
  return {
    v0: Math.hypot(out[0] ?? NaN, out[1] ?? NaN),
    v1: Math.hypot(out[2] ?? NaN, out[3] ?? NaN),
    v2: Math.hypot(out[4] ?? NaN, out[5] ?? NaN),
    out,
  };
}

describe('wrapDeg and wrapRad', () => {
  it('wraps degrees into (−180, 180]: 180 stays 180 and −180 becomes 180', () => {
    const cases: [number, number][] = [
      [0, 0],
      [180, 180],
      [-180, 180],
      [540, 180],
      [-540, 180],
      [190, -170],
      [-190, 170],
      [360, 0],
      [-360, 0],
      [179.5, 179.5],
      [-179.5, -179.5],
      [720.25, 0.25],
      [-1e6, 80],
    ];
    for (const [x, want] of cases) assert.equal(wrapDeg(x), want, `wrapDeg(${x})`);
  });

  it('wraps radians into (−π, π]: π stays π and −π becomes π', () => {
    assert.equal(wrapRad(Math.PI), Math.PI);
    assert.equal(wrapRad(-Math.PI), Math.PI);
    assert.equal(wrapRad(0), 0);
    close(wrapRad(3 * Math.PI), Math.PI, 1e-15, '3π');
    close(wrapRad(-3 * Math.PI), Math.PI, 1e-15, '−3π');
    close(wrapRad(2 * Math.PI), 0, 1e-15, '2π');
    close(wrapRad(-Math.PI / 2 - 4 * Math.PI), -Math.PI / 2, 1e-14, '−π/2 − 4π');
  });

  it('always lands in the half-open interval and moves by whole turns only', () => {
    const r = seeded(5);
    for (let i = 0; i < 10_000; i++) {
      const x = (r() - 0.5) * 2000;
      const d = wrapDeg(x);
      assert.ok(d > -180 && d <= 180, `wrapDeg(${x}) = ${d}`);
      const turns = (x - d) / 360;
      close(turns, Math.round(turns), 1e-9, `turns for ${x}`);
      const rad = wrapRad(x);
      assert.ok(rad > -Math.PI && rad <= Math.PI, `wrapRad(${x}) = ${rad}`);
      const radTurns = (x - rad) / (2 * Math.PI);
      close(radTurns, Math.round(radTurns), 1e-9, `turns for ${x} rad`);
    }
  });

  it('gives NaN for non-finite angles', () => {
    for (const x of [NaN, Infinity, -Infinity]) {
      assert.ok(Number.isNaN(wrapDeg(x)));
      assert.ok(Number.isNaN(wrapRad(x)));
    }
  });
});

describe('symmetricalComponents', () => {
  it('puts a balanced positive-sequence set in V1 alone, with |V1| = |Va| and the angle of Va', () => {
    const { re, im } = phases([132790.56, 10], [132790.56, -110], [132790.56, 130]);
    const { v0, v1, v2, out } = seq(re, im);
    close(v0, 0, 1e-9, 'V0');
    close(v2, 0, 1e-9, 'V2');
    close(v1, 132790.56, 1e-9, '|V1|');
    close(Math.atan2(out[3] ?? NaN, out[2] ?? NaN), 10 * DEG, 1e-15, '∠V1');
  });

  it('puts a negative-sequence set (B leads A by 120°) in V2 alone', () => {
    const { re, im } = phases([1, 0], [1, 120], [1, -120]);
    const { v0, v1, v2, out } = seq(re, im);
    close(v0, 0, 1e-15, 'V0');
    close(v1, 0, 1e-15, 'V1');
    close(v2, 1, 1e-15, '|V2|');
    close(out[4] ?? NaN, 1, 1e-15, 'V2re');
  });

  it('puts three equal phasors in V0 alone', () => {
    const { re, im } = phases([5, 30], [5, 30], [5, 30]);
    const { v0, v1, v2, out } = seq(re, im);
    close(v0, 5, 1e-14, '|V0|');
    close(v1, 0, 1e-14, 'V1');
    close(v2, 0, 1e-14, 'V2');
    close(Math.atan2(out[1] ?? NaN, out[0] ?? NaN), 30 * DEG, 1e-15, '∠V0');
  });

  it('splits a single energised phase into three equal thirds', () => {
    const { v0, v1, v2 } = seq(Float64Array.of(3, 0, 0), Float64Array.of(0, 0, 0));
    close(v0, 1, 1e-15);
    close(v1, 1, 1e-15);
    close(v2, 1, 1e-15);
  });

  it('accepts plain arrays and is inverted by Va = V0 + V1 + V2, Vb = V0 + a²V1 + aV2, Vc = V0 + aV1 + a²V2', () => {
    const r = seeded(9);
    const out = new Float64Array(6);
    const a: [number, number] = [Math.cos((2 * Math.PI) / 3), Math.sin((2 * Math.PI) / 3)];
    const a2: [number, number] = [a[0], -a[1]];
    const mul = (p: [number, number], x: number, y: number): [number, number] => [p[0] * x - p[1] * y, p[0] * y + p[1] * x];
    for (let n = 0; n < 100; n++) {
      const re = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
      const im = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
      symmetricalComponents(re, im, out);
      const [z0r, z0i, p1r, p1i, n2r, n2i] = out as unknown as [number, number, number, number, number, number];
      const b1 = mul(a2, p1r, p1i);
      const b2 = mul(a, n2r, n2i);
      const c1 = mul(a, p1r, p1i);
      const c2 = mul(a2, n2r, n2i);
      close(z0r + p1r + n2r, re[0] ?? NaN, 1e-15, 'Va re');
      close(z0i + p1i + n2i, im[0] ?? NaN, 1e-15, 'Va im');
      close(z0r + b1[0] + b2[0], re[1] ?? NaN, 1e-15, 'Vb re');
      close(z0i + b1[1] + b2[1], im[1] ?? NaN, 1e-15, 'Vb im');
      close(z0r + c1[0] + c2[0], re[2] ?? NaN, 1e-15, 'Vc re');
      close(z0i + c1[1] + c2[1], im[2] ?? NaN, 1e-15, 'Vc im');
    }
  });

  it('writes NaN everywhere when any input is not finite', () => {
    const out = new Float64Array(6);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let k = 0; k < 6; k++) {
        const re = Float64Array.of(1, -0.5, -0.5);
        const im = Float64Array.of(0, -0.866, 0.866);
        (k < 3 ? re : im)[k % 3] = bad;
        out.fill(0);
        symmetricalComponents(re, im, out);
        assert.ok(out.every(Number.isNaN), `input ${k} = ${bad}`);
      }
    }
    symmetricalComponents([1, 2], [0, 0, 0], out);
    assert.ok(out.every(Number.isNaN), 'a missing phase');
  });
});

describe('threePhasePower', () => {
  const out = new Float64Array(4);
  const v = phases([1000, 0], [1000, -120], [1000, 120]);

  it('keeps the sign of Q for a lagging current (inductive load: Q > 0)', () => {
    const i = phases([100, -30], [100, -150], [100, 90]);
    threePhasePower(v.re, v.im, i.re, i.im, out);
    close(out[0] ?? NaN, 300_000 * Math.cos(30 * DEG), 1e-9, 'P');
    close(out[1] ?? NaN, 150_000, 1e-9, 'Q');
    close(out[2] ?? NaN, 300_000, 1e-9, '|S|');
    close(out[3] ?? NaN, Math.cos(30 * DEG), 1e-15, 'PF');
  });

  it('gives Q < 0 for a leading current (capacitive load)', () => {
    const i = phases([100, 30], [100, -90], [100, 150]);
    threePhasePower(v.re, v.im, i.re, i.im, out);
    close(out[0] ?? NaN, 300_000 * Math.cos(30 * DEG), 1e-9, 'P');
    close(out[1] ?? NaN, -150_000, 1e-9, 'Q');
    close(out[3] ?? NaN, Math.cos(30 * DEG), 1e-15, 'PF');
  });

  it('gives P < 0 and a negative power factor for reverse flow, without folding the angle', () => {
    const i = phases([100, 180], [100, 60], [100, -60]);
    threePhasePower(v.re, v.im, i.re, i.im, out);
    close(out[0] ?? NaN, -300_000, 1e-9, 'P');
    close(out[1] ?? NaN, 0, 1e-9, 'Q');
    close(out[3] ?? NaN, -1, 1e-15, 'PF');
    const lagRev = phases([100, 150], [100, 30], [100, -90]); // S per phase = 1e5∠−150°
    threePhasePower(v.re, v.im, lagRev.re, lagRev.im, out);
    close(out[0] ?? NaN, -300_000 * Math.cos(30 * DEG), 1e-9, 'P');
    close(out[1] ?? NaN, -150_000, 1e-9, 'Q');
  });

  it('sums unbalanced phases: S = Σ V·conj(I) = 3(V0·conj(I0) + V1·conj(I1) + V2·conj(I2))', () => {
    const r = seeded(3);
    const seqV = new Float64Array(6);
    const seqI = new Float64Array(6);
    const part = new Float64Array(4);
    for (let n = 0; n < 50; n++) {
      const vRe = [r(), r(), r()].map((x) => 200 * x - 100);
      const vIm = [r(), r(), r()].map((x) => 200 * x - 100);
      const iRe = [r(), r(), r()].map((x) => 20 * x - 10);
      const iIm = [r(), r(), r()].map((x) => 20 * x - 10);
      threePhasePower(vRe, vIm, iRe, iIm, out);
      symmetricalComponents(vRe, vIm, seqV);
      symmetricalComponents(iRe, iIm, seqI);
      let p = 0;
      let q = 0;
      for (let k = 0; k < 6; k += 2) {
        positiveSequencePower(seqV[k] ?? NaN, seqV[k + 1] ?? NaN, seqI[k] ?? NaN, seqI[k + 1] ?? NaN, part);
        p += part[0] ?? NaN;
        q += part[1] ?? NaN;
      }
      close(out[0] ?? NaN, p, 1e-9, 'P');
      close(out[1] ?? NaN, q, 1e-9, 'Q');
    }
  });

  it('has P = Q = |S| = 0 and no power factor when no current flows', () => {
    const zero = new Float64Array(3);
    threePhasePower(v.re, v.im, zero, zero, out);
    assert.deepEqual([...out.subarray(0, 3)], [0, 0, 0]);
    assert.ok(Number.isNaN(out[3]));
  });

  it('writes NaN everywhere when any input is not finite', () => {
    const i = phases([100, -30], [100, -150], [100, 90]);
    for (const bad of [NaN, Infinity]) {
      i.im[2] = bad;
      threePhasePower(v.re, v.im, i.re, i.im, out);
      assert.ok(out.every(Number.isNaN), `${bad}`);
    }
  });
});

describe('positiveSequencePower', () => {
  it('equals the three-phase power of a balanced system', () => {
    const v = phases([132790.56, 5], [132790.56, -115], [132790.56, 125]);
    const i = phases([400, -20], [400, -140], [400, 100]);
    const three = new Float64Array(4);
    threePhasePower(v.re, v.im, i.re, i.im, three);
    const sv = new Float64Array(6);
    const si = new Float64Array(6);
    symmetricalComponents(v.re, v.im, sv);
    symmetricalComponents(i.re, i.im, si);
    const pos = new Float64Array(4);
    positiveSequencePower(sv[2] ?? NaN, sv[3] ?? NaN, si[2] ?? NaN, si[3] ?? NaN, pos);
    for (let k = 0; k < 3; k++) close(pos[k] ?? NaN, three[k] ?? NaN, 1e-6, `out[${k}]`);
    close(pos[3] ?? NaN, Math.cos(25 * DEG), 1e-12, 'PF');
    assert.ok((pos[1] ?? NaN) > 0, 'lagging: Q > 0');
  });

  it('writes NaN everywhere for a NaN input', () => {
    const out = new Float64Array(4);
    positiveSequencePower(1, 0, NaN, 0, out);
    assert.ok(out.every(Number.isNaN));
  });
});

describe('perUnitLineToNeutral', () => {
  it('gives 1 pu for 132 790.56 V line-to-neutral on a 230 kV line-to-line base', () => {
    close(perUnitLineToNeutral(132790.56, 230), 1, 1e-7);
    close(perUnitLineToNeutral(230_000 / Math.sqrt(3), 230), 1, 1e-15);
  });

  it('uses the magnitude and scales linearly', () => {
    close(perUnitLineToNeutral(-0.9 * 132790.56, 230), 0.9, 1e-7);
    close(perUnitLineToNeutral(63508.53, 110), 1, 1e-7);
  });

  it('gives NaN for a base that is zero, negative or not finite', () => {
    for (const base of [0, -230, NaN, Infinity]) assert.ok(Number.isNaN(perUnitLineToNeutral(132790.56, base)));
  });
});

describe('polarToRect', () => {
  it('writes magnitude·cos and magnitude·sin at the given index', () => {
    const re = new Float64Array(3);
    const im = new Float64Array(3);
    polarToRect(2, Math.PI / 2, re, im, 1);
    assert.equal(re[0], 0);
    close(re[1] ?? NaN, 0, 1e-15);
    assert.equal(im[1], 2);
  });
});
