import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAD_TO_SIGMA, RobustZ } from '../../../../src/pipeline/anomalies/robust-z.js';
import { mulberry32 as rng } from '../../../helpers/wait.js';

/** Median and MAD the slow, obvious way. */
function reference(values: readonly number[]): { median: number; mad: number } {
  const med = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const median = med(values);
  return { median, mad: med(values.map((v) => Math.abs(v - median))) };
}

describe('RobustZ', () => {
  it('returns NaN until the baseline holds minBaseline values', () => {
    const rz = new RobustZ({ baselineCount: 10, minBaseline: 3, recomputeEvery: 1, madFloor: 1e-9 });
    assert.ok(Number.isNaN(rz.update(1)));
    assert.ok(Number.isNaN(rz.update(2)));
    assert.ok(Number.isNaN(rz.update(3)));
    assert.ok(Number.isFinite(rz.update(4)));
  });

  it('scores the new value against the baseline before it is added', () => {
    const rz = new RobustZ({ baselineCount: 5, minBaseline: 5, recomputeEvery: 1, madFloor: 1e-9 });
    for (const v of [1, 2, 3, 4, 5]) rz.update(v);
    // median 3, MAD median(|−2|,|−1|,0,1,2) = 1
    const z = rz.update(13);
    assert.equal(rz.median, 3);
    assert.equal(rz.mad, 1);
    assert.ok(Math.abs(z - 10 / MAD_TO_SIGMA) < 1e-12);
  });

  it('matches a sort-based median and MAD over a wrapped ring buffer', () => {
    const random = rng(7);
    const count = 37;
    const rz = new RobustZ({ baselineCount: count, minBaseline: 1, recomputeEvery: 1, madFloor: 1e-12 });
    const history: number[] = [];
    for (let i = 0; i < 500; i++) {
      const x = random() * 10 + (i % 50 === 0 ? 100 : 0);
      const z = rz.update(x);
      if (history.length >= 1) {
        const ref = reference(history.slice(-count));
        assert.equal(rz.median, ref.median);
        assert.equal(rz.mad, ref.mad);
        assert.ok(Math.abs(z - Math.abs(x - ref.median) / (MAD_TO_SIGMA * Math.max(ref.mad, 1e-12))) < 1e-9);
      }
      history.push(x);
    }
    assert.equal(rz.size, count);
  });

  it('finds the exact median and MAD of ascending, descending, constant and two-valued baselines', () => {
    const shapes: Record<string, (i: number) => number> = {
      ascending: (i) => i,
      descending: (i) => -i,
      constant: () => 7,
      twoValued: (i) => (i % 3 === 0 ? 1 : 2),
      sawtooth: (i) => i % 10,
    };
    for (const [name, shape] of Object.entries(shapes)) {
      for (const count of [1, 2, 3, 10, 11, 600]) {
        const rz = new RobustZ({ baselineCount: count, minBaseline: count, recomputeEvery: 1, madFloor: 1e-9 });
        const values = Array.from({ length: count }, (_, i) => shape(i));
        for (const v of values) rz.update(v);
        rz.update(0);
        const ref = reference(values);
        assert.equal(rz.median, ref.median, `${name} × ${count}: median`);
        assert.equal(rz.mad, ref.mad, `${name} × ${count}: MAD`);
      }
    }
  });

  it('computes an even-sized median as the mean of the two middle values while warming up', () => {
    const rz = new RobustZ({ baselineCount: 100, minBaseline: 4, recomputeEvery: 1, madFloor: 1e-9 });
    for (const v of [10, 1, 4, 7]) rz.update(v);
    rz.update(0);
    assert.equal(rz.median, 5.5);
    assert.equal(rz.mad, 3);
  });

  it('recomputes the baseline only every recomputeEvery updates', () => {
    const rz = new RobustZ({ baselineCount: 100, minBaseline: 3, recomputeEvery: 3, madFloor: 1e-9 });
    for (const v of [1, 1, 1]) rz.update(v);
    rz.update(50); // first recompute at this update: median 1
    assert.equal(rz.median, 1);
    rz.update(50);
    rz.update(50);
    assert.equal(rz.median, 1, 'still the old baseline');
    rz.update(50); // 3 updates since: recompute over [1, 1, 1, 50, 50, 50]
    assert.equal(rz.median, 25.5);
  });

  it('floors the MAD so a perfectly flat signal does not score Infinity', () => {
    const rz = new RobustZ({ baselineCount: 20, minBaseline: 10, recomputeEvery: 1, madFloor: 0.001 });
    for (let i = 0; i < 20; i++) rz.update(60);
    assert.equal(rz.update(60), 0);
    assert.equal(rz.mad, 0);
    const z = rz.update(60.001);
    assert.ok(Number.isFinite(z));
    assert.ok(Math.abs(z - 1 / MAD_TO_SIGMA) < 1e-9, `one floor step scores 1/1.4826, got ${z}`);
  });

  it('returns NaN for NaN input and leaves the baseline as it was', () => {
    const rz = new RobustZ({ baselineCount: 4, minBaseline: 4, recomputeEvery: 1, madFloor: 1e-9 });
    for (const v of [1, 2, 3, 4]) rz.update(v);
    assert.ok(Number.isNaN(rz.update(Number.NaN)));
    assert.equal(rz.size, 4);
    rz.update(100);
    assert.equal(rz.median, 2.5, 'the NaN did not displace a value');
  });

  it('flags a spike in noise and not the noise itself', () => {
    const random = rng(3);
    const rz = new RobustZ({ baselineCount: 600, minBaseline: 100, recomputeEvery: 2, madFloor: 1e-6 });
    let maxNoiseZ = 0;
    for (let i = 0; i < 2000; i++) {
      const z = rz.update(60 + (random() - 0.5) * 0.002);
      if (Number.isFinite(z)) maxNoiseZ = Math.max(maxNoiseZ, z);
    }
    assert.ok(maxNoiseZ < 6, `uniform noise stays under z = 6 (max ${maxNoiseZ})`);
    assert.ok(rz.update(60.01) > 6);
  });

  it('is deterministic: the same inputs give the same outputs', () => {
    const run = (): number[] => {
      const random = rng(11);
      const rz = new RobustZ({ baselineCount: 50, minBaseline: 10, recomputeEvery: 4, madFloor: 1e-6 });
      return Array.from({ length: 300 }, () => rz.update(random()));
    };
    assert.deepEqual(run(), run());
  });

  it('starts over on reset', () => {
    const rz = new RobustZ({ baselineCount: 5, minBaseline: 2, recomputeEvery: 1, madFloor: 1e-9 });
    for (const v of [1, 2, 3, 4, 5]) rz.update(v);
    rz.reset();
    assert.equal(rz.size, 0);
    assert.ok(Number.isNaN(rz.median));
    assert.ok(Number.isNaN(rz.update(100)));
    rz.update(200);
    assert.equal(rz.update(0), 150 / (MAD_TO_SIGMA * 50));
  });

  it('rejects settings it cannot work with', () => {
    assert.throws(() => new RobustZ({ baselineCount: 0, minBaseline: 1, recomputeEvery: 1, madFloor: 1 }), RangeError);
    assert.throws(() => new RobustZ({ baselineCount: 5, minBaseline: 6, recomputeEvery: 1, madFloor: 1 }), RangeError);
    assert.throws(() => new RobustZ({ baselineCount: 5, minBaseline: 5, recomputeEvery: 0, madFloor: 1 }), RangeError);
    assert.throws(() => new RobustZ({ baselineCount: 5, minBaseline: 5, recomputeEvery: 1, madFloor: 0 }), RangeError);
  });
});
