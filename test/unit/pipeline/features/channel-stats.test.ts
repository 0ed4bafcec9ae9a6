import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelStats } from '../../../../src/pipeline/features/channel-stats.js';
import { mulberry32 as seeded } from '../../../helpers/wait.js';

/** 230 kV / √3 line-to-neutral with ±amp/2 V of uniform noise and a slow swing. */
function voltages(n: number, amp: number, seed: number): number[] {
  const r = seeded(seed);
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(132790.56 + amp * (r() - 0.5) + 0.3 * amp * Math.sin(i / 10));
  return xs;
}

/** The textbook two-pass reference: mean first, then Σ(x − mean)² / n. */
function twoPass(xs: readonly number[]): { mean: number; std: number; rms: number } {
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / xs.length;
  let ss = 0;
  let sq = 0;
  for (const x of xs) {
    ss += (x - mean) ** 2;
    sq += x * x;
  }
  return { mean, std: Math.sqrt(ss / xs.length), rms: Math.sqrt(sq / xs.length) };
}

function statsOf(xs: readonly number[]): ChannelStats {
  const s = new ChannelStats();
  for (const x of xs) s.add(x);
  return s;
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe('ChannelStats', () => {
  it('matches a two-pass computation to 1e-12 on std for 10k values around 132 790 V with small noise', () => {
    for (const amp of [10, 1, 0.1]) {
      for (let seed = 1; seed <= 5; seed++) {
        const xs = voltages(10_000, amp, seed);
        const s = statsOf(xs);
        const ref = twoPass(xs);
        assert.equal(s.count, 10_000);
        assert.ok(relErr(s.std, ref.std) < 1e-12, `amp ${amp} seed ${seed}: std ${s.std} vs ${ref.std}`);
        assert.ok(relErr(s.mean, ref.mean) < 1e-14, `amp ${amp} seed ${seed}: mean ${s.mean} vs ${ref.mean}`);
        assert.ok(relErr(s.rms, ref.rms) < 1e-14, `amp ${amp} seed ${seed}: rms ${s.rms} vs ${ref.rms}`);
        assert.equal(s.min, Math.min(...xs));
        assert.equal(s.max, Math.max(...xs));
        assert.equal(s.first, xs[0]);
        assert.equal(s.last, xs[xs.length - 1]);
      }
    }
  });

  it('is precise where the one-pass Σx² − n·mean² formula is not (the test can tell them apart)', () => {
    const xs = voltages(10_000, 1, 7);
    const ref = twoPass(xs);
    let sum = 0;
    let sq = 0;
    for (const x of xs) {
      sum += x;
      sq += x * x;
    }
    const mean = sum / xs.length;
    const onePass = Math.sqrt(Math.max(0, sq / xs.length - mean * mean));
    assert.ok(relErr(onePass, ref.std) > 1e-6, `one-pass error ${relErr(onePass, ref.std)}`);
    assert.ok(relErr(statsOf(xs).std, ref.std) < 1e-12);
  });

  it('computes the population (ddof = 0) std, mean, rms, min, max, first and last of known values', () => {
    const s = statsOf([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(s.count, 8);
    assert.equal(s.mean, 5);
    assert.equal(s.std, 2);
    assert.equal(s.rms, Math.sqrt(29));
    assert.equal(s.min, 2);
    assert.equal(s.max, 9);
    assert.equal(s.first, 2);
    assert.equal(s.last, 9);
  });

  it('gives std 0 and rms |x| for a single value', () => {
    const s = statsOf([-3]);
    assert.equal(s.std, 0);
    assert.equal(s.rms, 3);
    assert.equal(s.first, -3);
    assert.equal(s.last, -3);
  });

  it('counts NaN and ±Infinity as missing and leaves them out of every statistic', () => {
    const s = statsOf([NaN, 1, Infinity, 3, -Infinity, NaN]);
    assert.equal(s.count, 2);
    assert.equal(s.missing, 4);
    assert.equal(s.mean, 2);
    assert.equal(s.std, 1);
    assert.equal(s.min, 1);
    assert.equal(s.max, 3);
    assert.equal(s.first, 1, 'a leading NaN is not the first value');
    assert.equal(s.last, 3, 'a trailing NaN is not the last value');
  });

  it('reports NaN for every statistic while no finite value has been added', () => {
    for (const s of [new ChannelStats(), statsOf([NaN, NaN])]) {
      assert.equal(s.count, 0);
      for (const v of [s.mean, s.min, s.max, s.std, s.rms, s.first, s.last]) assert.ok(Number.isNaN(v));
    }
  });

  it('is empty again after reset and then accumulates as new', () => {
    const s = statsOf([1, 2, NaN, 300]);
    s.reset();
    assert.equal(s.count, 0);
    assert.equal(s.missing, 0);
    assert.ok(Number.isNaN(s.mean));
    for (const x of [10, 20]) s.add(x);
    assert.deepEqual(s.summary('V'), statsOf([10, 20]).summary('V'));
  });

  it('gives the same result by merging consecutive chunks as by adding every value in order', () => {
    const xs = voltages(10_000, 1, 11);
    for (let i = 0; i < xs.length; i += 37) xs[i] = NaN;
    const sequential = statsOf(xs);
    for (const cuts of [[5000], [1, 2, 3, 9999], [0, 100, 100, 2500, 7000], [10_000]]) {
      const merged = new ChannelStats();
      const part = new ChannelStats();
      let from = 0;
      for (const to of [...cuts, xs.length]) {
        part.reset();
        for (let i = from; i < to; i++) part.add(xs[i] ?? NaN);
        merged.merge(part);
        from = to;
      }
      assert.equal(merged.count, sequential.count);
      assert.equal(merged.missing, sequential.missing);
      assert.equal(merged.min, sequential.min);
      assert.equal(merged.max, sequential.max);
      assert.equal(merged.first, sequential.first);
      assert.equal(merged.last, sequential.last);
      assert.ok(relErr(merged.mean, sequential.mean) < 1e-15, `cuts ${cuts}: mean`);
      assert.ok(relErr(merged.std, sequential.std) < 1e-12, `cuts ${cuts}: std ${merged.std} vs ${sequential.std}`);
      assert.ok(relErr(merged.rms, sequential.rms) < 1e-15, `cuts ${cuts}: rms`);
    }
  });

  it('keeps its first value and takes the later window last value on merge, unless that window is empty', () => {
    const a = statsOf([1, 2]);
    a.merge(statsOf([NaN]));
    assert.equal(a.first, 1);
    assert.equal(a.last, 2);
    assert.equal(a.missing, 1);
    a.merge(statsOf([8, 9]));
    assert.equal(a.first, 1);
    assert.equal(a.last, 9);
    const empty = new ChannelStats();
    empty.merge(statsOf([5, 6]));
    assert.equal(empty.first, 5);
    assert.equal(empty.last, 6);
  });

  it('does not change the window it merges from', () => {
    const b = statsOf([3, 4, NaN]);
    const before = b.summary('V');
    statsOf([1]).merge(b);
    assert.deepEqual(b.summary('V'), before);
    assert.equal(b.missing, 1);
  });

  it('summarises in the schema\'s field order, with the shortest round-trip numbers in JSON', () => {
    assert.equal(
      JSON.stringify(statsOf([0.1, 0.2, NaN]).summary('Hz')),
      '{"unit":"Hz","count":2,"mean":0.15000000000000002,"min":0.1,"max":0.2,"std":0.05,"rms":0.158113883008419,"first":0.1,"last":0.2}',
    );
    const json = JSON.stringify(statsOf([2, 4, 4, 4, 5, 5, 7, 9]).summary('V'));
    assert.equal(json, '{"unit":"V","count":8,"mean":5,"min":2,"max":9,"std":2,"rms":5.385164807134504,"first":2,"last":9}');
  });

  it('gives null for the statistics of an empty window: JSON has no NaN and the schema says null', () => {
    assert.deepEqual(statsOf([NaN]).summary('V'), { unit: 'V', count: 0, mean: null, min: null, max: null, std: null, rms: null, first: null, last: null });
  });

  it('summarises the numbers it computed, unrounded', () => {
    const s = statsOf(voltages(100, 1, 3));
    assert.deepEqual(s.summary('V'), { unit: 'V', count: s.count, mean: s.mean, min: s.min, max: s.max, std: s.std, rms: s.rms, first: s.first, last: s.last });
  });
});
