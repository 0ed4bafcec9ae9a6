import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlatLine } from '../../../../src/pipeline/anomalies/flat-line.js';

const T0 = 1_700_000_000_000_000;
const WINDOW_US = 100_000;

type Window = readonly [min: number, max: number, count: number];

/** Feed windows at 100 ms spacing from T0; return the active flag after each. */
function feed(flat: FlatLine, windows: readonly Window[], from = 0): boolean[] {
  return windows.map(([min, max, count], i) => flat.update(T0 + (from + i) * WINDOW_US, min, max, count));
}

const same = (n: number, v = 60): Window[] => Array.from({ length: n }, () => [v, v, 6] as const);

describe('FlatLine', () => {
  it('becomes active once the value has been exactly unchanged for minDuration', () => {
    const flat = new FlatLine({ minDurationUs: 2_000_000, resolution: 0 });
    const states = feed(flat, same(25));
    assert.equal(states.indexOf(true), 20, 'the first window sets the reference; 20 more make 2 s');
    assert.equal(flat.durationUs, 2_400_000);
  });

  it('restarts when a window moves inside itself', () => {
    const flat = new FlatLine({ minDurationUs: 1_000_000, resolution: 0 });
    feed(flat, same(15));
    assert.equal(flat.active, true);
    assert.equal(flat.update(T0 + 15 * WINDOW_US, 60, 60.001, 6), false);
    assert.equal(flat.durationUs, 0);
    const states = feed(flat, same(12), 16);
    assert.equal(states.indexOf(true), 10, 'the next flat window sets the reference; 10 more make 1 s');
  });

  it('restarts when the level steps between two flat windows', () => {
    const flat = new FlatLine({ minDurationUs: 500_000, resolution: 0 });
    feed(flat, same(10, 1));
    assert.equal(flat.active, true);
    assert.equal(flat.update(T0 + 10 * WINDOW_US, 2, 2, 6), false);
    assert.equal(flat.reference, 2);
    assert.equal(flat.durationUs, 0);
  });

  it('counts changes within the resolution as unchanged', () => {
    const flat = new FlatLine({ minDurationUs: 1_000_000, resolution: 0.01 });
    const windows = Array.from({ length: 20 }, (_, i) => [1 + (i % 3) * 0.003, 1 + (i % 3) * 0.003 + 0.002, 6] as const);
    assert.equal(feed(flat, windows).at(-1), true);
    assert.equal(flat.update(T0 + 20 * WINDOW_US, 1.02, 1.02, 6), false, '0.02 from the reference is movement');
  });

  it('does not drift: the reference stays where the run started', () => {
    const flat = new FlatLine({ minDurationUs: 10_000_000, resolution: 0.01 });
    // A slow ramp of 5 mU per window never exceeds the resolution step to step, but does in total.
    const windows = Array.from({ length: 10 }, (_, i) => [i * 0.005, i * 0.005, 6] as const);
    feed(flat, windows);
    assert.ok(flat.durationUs < 500_000, `the run restarted, duration ${flat.durationUs}`);
  });

  it('neither extends nor breaks the run over empty windows', () => {
    const flat = new FlatLine({ minDurationUs: 1_000_000, resolution: 0 });
    feed(flat, same(6)); // 0.5 s credited
    assert.equal(flat.durationUs, 500_000);
    const gap = feed(flat, Array.from({ length: 30 }, () => [Number.NaN, Number.NaN, 0] as const), 6);
    assert.ok(gap.every((s) => s === false));
    assert.equal(flat.durationUs, 500_000, 'a gap is not a flat line');
    const after = feed(flat, same(6), 36);
    assert.equal(after.indexOf(true), 4, '0.5 s more after the gap');
  });

  it('holds an active state over an empty window, so a gap does not clear it', () => {
    const flat = new FlatLine({ minDurationUs: 300_000, resolution: 0 });
    feed(flat, same(5));
    assert.equal(flat.active, true);
    assert.equal(flat.update(T0 + 5 * WINDOW_US, 0, 0, 0), true);
    assert.equal(flat.update(T0 + 6 * WINDOW_US, Number.NaN, Number.NaN, 3), true);
    assert.equal(flat.durationUs, 400_000);
  });

  it('starts over on reset', () => {
    const flat = new FlatLine({ minDurationUs: 100_000, resolution: 0 });
    feed(flat, same(5));
    flat.reset();
    assert.equal(flat.active, false);
    assert.equal(flat.durationUs, 0);
    assert.equal(flat.update(T0 + 10 * WINDOW_US, 60, 60, 6), false);
  });

  it('rejects negative settings', () => {
    assert.throws(() => new FlatLine({ minDurationUs: -1, resolution: 0 }), RangeError);
    assert.throws(() => new FlatLine({ minDurationUs: 1, resolution: -1 }), RangeError);
  });
});
