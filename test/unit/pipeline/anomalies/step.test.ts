import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StepChange } from '../../../../src/pipeline/anomalies/step.js';

const T0 = 1_700_000_000_000_000;
const PERIOD_US = 100_000;

/** The GSF frequency excursion settings, fed per 100 ms window. */
function gsf(): StepChange {
  return new StepChange({ lookbackUs: 4_000_000, threshold: 0.0256, consecutive: 2, periodUs: PERIOD_US });
}

describe('StepChange', () => {
  it('stays inactive until it has a value from lookback ago', () => {
    const step = gsf();
    for (let i = 0; i < 40; i++) {
      assert.equal(step.update(T0 + i * PERIOD_US, 60 + i), false);
      assert.ok(Number.isNaN(step.delta));
    }
    step.update(T0 + 40 * PERIOD_US, 100);
    assert.equal(step.referenceUs, T0);
    assert.equal(step.delta, 40);
  });

  it('becomes active on the second consecutive hit, reporting the signed delta', () => {
    const step = gsf();
    const states: boolean[] = [];
    for (let i = 0; i < 60; i++) states.push(step.update(T0 + i * PERIOD_US, i < 45 ? 60 : 59.97));
    assert.equal(states.indexOf(true), 46, 'hit at 45, active at 46');
    assert.ok(Math.abs(step.delta - -0.03) < 1e-9);
  });

  it('does not trigger on a single hit or a change below the threshold', () => {
    const step = gsf();
    const values = Array.from({ length: 100 }, (_, i) => (i === 50 ? 60.1 : i > 70 ? 60.025 : 60));
    assert.ok(values.every((v, i) => step.update(T0 + i * PERIOD_US, v) === false));
  });

  it('goes inactive once the step is older than the lookback', () => {
    const step = gsf();
    let last = false;
    const active: number[] = [];
    for (let i = 0; i < 120; i++) {
      last = step.update(T0 + i * PERIOD_US, i < 45 ? 60 : 59.9);
      if (last) active.push(i);
    }
    assert.equal(last, false);
    assert.deepEqual([active[0], active.at(-1)], [46, 84], 'the step is seen until the reference is past it');
  });

  it('compares against the newest sample at or before t − lookback when updates are irregular', () => {
    const step = new StepChange({ lookbackUs: 1_000_000, threshold: 1, consecutive: 1, periodUs: 300_000 });
    step.update(T0, 1);
    step.update(T0 + 300_000, 2);
    step.update(T0 + 700_000, 3);
    step.update(T0 + 1_200_000, 10); // target T0 + 200_000 → the sample at T0
    assert.equal(step.referenceUs, T0);
    assert.equal(step.delta, 9);
    step.update(T0 + 1_700_000, 10); // target T0 + 700_000 → exactly that sample
    assert.equal(step.referenceUs, T0 + 700_000);
    assert.equal(step.delta, 7);
  });

  it('keeps working after the ring buffer has wrapped around many times', () => {
    const step = gsf();
    for (let i = 0; i < 1000; i++) step.update(T0 + i * PERIOD_US, 60 + i * 0.001);
    assert.equal(step.referenceUs, T0 + 959 * PERIOD_US);
    assert.ok(Math.abs(step.delta - 0.04) < 1e-9);
    assert.equal(step.active, true, 'a 10 mHz/s ramp moves 40 mHz in 4 s');
  });

  it('skips NaN values without storing them or changing the state', () => {
    const step = new StepChange({ lookbackUs: 200_000, threshold: 1, consecutive: 2, periodUs: PERIOD_US });
    step.update(T0, 0);
    step.update(T0 + 100_000, 0);
    step.update(T0 + 200_000, 5);
    assert.equal(step.update(T0 + 300_000, 5), true);
    assert.equal(step.update(T0 + 400_000, Number.NaN), true, 'NaN does not clear');
    assert.equal(step.hits, 2);
    step.update(T0 + 500_000, 5); // reference: the newest stored sample at or before 300 ms
    assert.equal(step.referenceUs, T0 + 300_000);
  });

  it('tolerates one missing update at the reference but treats a reference from before a gap as none', () => {
    const step = new StepChange({ lookbackUs: 400_000, threshold: 1, consecutive: 1, periodUs: PERIOD_US });
    for (const ms of [0, 100, 400, 500]) step.update(T0 + ms * 1000, 0);
    // target 200 ms: the 200 ms update is missing, the 100 ms one is 1 period older: usable.
    assert.equal(step.update(T0 + 600_000, 5), true);
    assert.equal(step.referenceUs, T0 + 100_000);
    // target 300 ms: the reference (100 ms) is 2 periods older: still usable.
    assert.equal(step.update(T0 + 700_000, 5), true);
    assert.equal(step.referenceUs, T0 + 100_000);
    // After a 3 s gap the newest sample before the target is far too old.
    assert.equal(step.update(T0 + 3_700_000, 5), false);
    assert.ok(Number.isNaN(step.delta));
    assert.ok(Number.isNaN(step.referenceUs));
    assert.equal(step.hits, 0);
  });

  it('treats a reference more than two periods older than the target as none', () => {
    const step = new StepChange({ lookbackUs: 400_000, threshold: 1, consecutive: 1, periodUs: PERIOD_US });
    step.update(T0, 0);
    step.update(T0 + 400_000, 0);
    assert.equal(step.update(T0 + 700_000, 5), false, 'target 300 ms, newest before it at 0 ms');
    assert.ok(Number.isNaN(step.delta));
  });

  it('uses a reference as long as it has not been overwritten, even with updates twice as fast', () => {
    const step = new StepChange({ lookbackUs: 1_000_000, threshold: 1, consecutive: 1, periodUs: 100_000 });
    for (let i = 0; i <= 40; i++) step.update(T0 + i * 50_000, i);
    assert.equal(step.referenceUs, T0 + 1_000_000);
    assert.equal(step.delta, 20);
  });

  it('starts over on reset', () => {
    const step = gsf();
    for (let i = 0; i < 50; i++) step.update(T0 + i * PERIOD_US, i);
    step.reset();
    assert.equal(step.active, false);
    assert.equal(step.update(T0 + 50 * PERIOD_US, 0), false);
    assert.ok(Number.isNaN(step.delta));
  });

  it('rejects settings it cannot work with', () => {
    assert.throws(() => new StepChange({ lookbackUs: 0, threshold: 1, consecutive: 1, periodUs: 1 }), RangeError);
    assert.throws(() => new StepChange({ lookbackUs: 1, threshold: 1, consecutive: 0, periodUs: 1 }), RangeError);
    assert.throws(() => new StepChange({ lookbackUs: 1, threshold: 1, consecutive: 1.5, periodUs: 1 }), RangeError);
    assert.throws(() => new StepChange({ lookbackUs: 1, threshold: 1, consecutive: 1, periodUs: 0 }), RangeError);
  });
});
