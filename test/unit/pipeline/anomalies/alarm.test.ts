import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Alarm, type AlarmTransition } from '../../../../src/pipeline/anomalies/alarm.js';
import { Band } from '../../../../src/pipeline/anomalies/band.js';

const T0 = 1_700_000_000_000_000; // µs since the epoch
const WINDOW_US = 100_000;

/** Feed (active, value) pairs at 100 ms spacing from T0; return the transitions with their index. */
function feed(alarm: Alarm, steps: readonly (readonly [boolean, number])[]): { i: number; tr: AlarmTransition }[] {
  const out: { i: number; tr: AlarmTransition }[] = [];
  steps.forEach(([active, value], i) => {
    const tr = alarm.update(T0 + i * WINDOW_US, active, value);
    if (tr) out.push({ i, tr });
  });
  return out;
}

describe('Alarm', () => {
  it('raises after the pickup time and not before', () => {
    const alarm = new Alarm({ pickupUs: 300_000, dropoutUs: 0 });
    assert.equal(alarm.update(T0, true, 1), null);
    assert.equal(alarm.update(T0 + 100_000, true, 1), null);
    assert.equal(alarm.update(T0 + 299_999, true, 1), null);
    assert.equal(alarm.raised, false);
    assert.deepEqual(alarm.update(T0 + 300_000, true, 1), { state: 'raised', onsetUs: T0, atUs: T0 + 300_000, peak: 1 });
    assert.equal(alarm.raised, true);
  });

  it('raises on the first active update when the pickup is zero', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0 });
    assert.deepEqual(alarm.update(T0, true, -2), { state: 'raised', onsetUs: T0, atUs: T0, peak: -2 });
  });

  it('raises on the second active window when the pickup is shorter than a window', () => {
    const alarm = new Alarm({ pickupUs: 20_000, dropoutUs: 0 });
    const got = feed(alarm, [[true, 1], [true, 1]]);
    assert.deepEqual(got.map((g) => [g.i, g.tr.state]), [[1, 'raised']]);
  });

  it('restarts the pickup timer after a dip shorter than the pickup time', () => {
    const alarm = new Alarm({ pickupUs: 300_000, dropoutUs: 0 });
    const got = feed(alarm, [[true, 1], [true, 1], [true, 1], [false, 0], [true, 1], [true, 1], [true, 1], [true, 1]]);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.i, 7);
    assert.equal(got[0]?.tr.onsetUs, T0 + 4 * WINDOW_US, 'the onset is the start of the unbroken run');
  });

  it('clears after the dropout time and not before', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 500_000 });
    alarm.update(T0, true, 1);
    assert.equal(alarm.update(T0 + 100_000, false, 0), null);
    assert.equal(alarm.update(T0 + 599_999, false, 0), null);
    assert.equal(alarm.raised, true);
    assert.deepEqual(alarm.update(T0 + 600_000, false, 0), { state: 'cleared', onsetUs: T0, atUs: T0 + 600_000, peak: 1 });
    assert.equal(alarm.raised, false);
  });

  it('clears on the first inactive update when the dropout is zero', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0 });
    alarm.update(T0, true, 1);
    assert.equal(alarm.update(T0 + 1, false, 0)?.state, 'cleared');
  });

  it('stays raised through an inactive dip shorter than the dropout time', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 300_000 });
    const got = feed(alarm, [[true, 1], [false, 0], [false, 0], [true, 1], [false, 0], [false, 0], [false, 0], [false, 0]]);
    assert.deepEqual(got.map((g) => [g.i, g.tr.state]), [[0, 'raised'], [7, 'cleared']], 'inactive from 4 (400 ms) to 7 (700 ms)');
  });

  it('does not chatter when the condition flickers every window', () => {
    const alarm = new Alarm({ pickupUs: 200_000, dropoutUs: 200_000 });
    const steps = Array.from({ length: 100 }, (_, i) => [i % 2 === 0, 1] as const);
    assert.deepEqual(feed(alarm, steps), []);
  });

  it('reports the peak with its sign, by largest magnitude over the whole episode', () => {
    const alarm = new Alarm({ pickupUs: 100_000, dropoutUs: 100_000 });
    const got = feed(alarm, [[true, 0.6], [true, -0.7], [true, 0.65], [true, -0.9], [false, 5], [true, 0.8], [false, 0], [false, 0]]);
    assert.deepEqual(got.map((g) => [g.tr.state, g.tr.peak]), [['raised', -0.7], ['cleared', -0.9]]);
  });

  it('ignores NaN values for the peak', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0 });
    assert.ok(Number.isNaN(alarm.update(T0, true, Number.NaN)?.peak));
    alarm.update(T0 + 1, true, 2);
    alarm.update(T0 + 2, true, Number.NaN);
    assert.equal(alarm.update(T0 + 3, false, 0)?.peak, 2);
  });

  it('starts a fresh episode with a fresh onset and peak after clearing', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0 });
    const got = feed(alarm, [[true, 9], [false, 0], [true, 1]]);
    assert.deepEqual(got[2]?.tr, { state: 'raised', onsetUs: T0 + 2 * WINDOW_US, atUs: T0 + 2 * WINDOW_US, peak: 1 });
  });

  it('forgets a raised alarm on reset without emitting a transition', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0 });
    alarm.update(T0, true, 1);
    alarm.reset();
    assert.equal(alarm.raised, false);
    assert.equal(alarm.update(T0 + 1, false, 0), null);
    assert.equal(alarm.update(T0 + 2, true, 3)?.onsetUs, T0 + 2);
  });

  it('keeps the lowest value as the peak of a sag, not the largest magnitude', () => {
    const alarm = new Alarm({ pickupUs: 0, dropoutUs: 0, peak: 'min' });
    alarm.update(T0, true, 0.85);
    alarm.update(T0 + 1, true, 0.5);
    alarm.update(T0 + 2, true, 0.85);
    assert.equal(alarm.update(T0 + 3, false, 1)?.peak, 0.5);
    const swell = new Alarm({ pickupUs: 0, dropoutUs: 0, peak: 'max' });
    for (const [i, v] of [1.12, 1.3, 1.11].entries()) swell.update(T0 + i, true, v);
    assert.equal(swell.update(T0 + 9, false, 1)?.peak, 1.3);
  });

  it('rejects negative timers', () => {
    assert.throws(() => new Alarm({ pickupUs: -1, dropoutUs: 0 }), RangeError);
    assert.throws(() => new Alarm({ pickupUs: 0, dropoutUs: Number.NaN }), RangeError);
  });

  it('with a band in front, a value hovering on the threshold gives one raise and one clear', () => {
    // A frequency hovering at 60.5 Hz ± 5 mHz, then settling back to 60.0 Hz.
    const band = new Band({ high: 0.5, low: -0.5, hysteresis: 0.02 });
    const alarm = new Alarm({ pickupUs: 100_000, dropoutUs: 500_000 });
    const deviations = [
      ...Array.from({ length: 40 }, (_, i) => 0.5 + (i % 2 === 0 ? 0.005 : -0.005)),
      ...Array.from({ length: 20 }, () => 0),
    ];
    const states: string[] = [];
    deviations.forEach((df, i) => {
      const tr = alarm.update(T0 + i * WINDOW_US, band.test(df), df);
      if (tr) states.push(`${tr.state}@${i}`);
    });
    assert.deepEqual(states, ['raised@1', 'cleared@45']);
  });
});
