import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Band } from '../../../../src/pipeline/anomalies/band.js';

describe('Band', () => {
  it('is active strictly above high and strictly below low', () => {
    const band = new Band({ high: 1.1, low: 0.9, hysteresis: 0 });
    assert.equal(band.test(1.1), false);
    assert.equal(band.test(0.9), false);
    assert.equal(band.test(1.1000001), true);
    assert.equal(band.test(1.0), false);
    assert.equal(band.test(0.8999999), true);
  });

  it('stays active until the value is back inside by the hysteresis margin', () => {
    const band = new Band({ high: 1.1, low: 0.9, hysteresis: 0.02 });
    assert.equal(band.test(1.12), true);
    assert.equal(band.test(1.09), true, 'inside the band but not by the margin');
    assert.equal(band.test(1.0800001), true);
    assert.equal(band.test(1.08), false, 'at high − hysteresis it resets');
    assert.equal(band.test(0.85), true);
    assert.equal(band.test(0.91), true);
    assert.equal(band.test(0.92), false, 'at low + hysteresis it resets');
  });

  it('does not chatter while the value oscillates around a threshold by less than the hysteresis', () => {
    const band = new Band({ high: 0.5, low: -0.5, hysteresis: 0.02 });
    const states = Array.from({ length: 50 }, (_, i) => band.test(0.5 + 0.01 * Math.sin(i)));
    const first = states.indexOf(true);
    assert.ok(first >= 0);
    assert.ok(states.slice(first).every(Boolean), 'once tripped it stays tripped');
  });

  it('reports the side and the threshold that tripped, and keeps the threshold after the reset', () => {
    const band = new Band({ high: 60.5, low: 59.5, hysteresis: 0.02 });
    assert.equal(band.side, null);
    assert.ok(Number.isNaN(band.lastThreshold));
    band.test(59.4);
    assert.equal(band.side, 'low');
    assert.equal(band.lastThreshold, 59.5);
    band.test(60);
    assert.equal(band.side, null);
    assert.equal(band.active, false);
    assert.equal(band.lastThreshold, 59.5);
  });

  it('switches side without clearing when the value swings from above high to below low', () => {
    const band = new Band({ high: 1, low: -1, hysteresis: 0.1 });
    assert.equal(band.test(1.5), true);
    assert.equal(band.side, 'high');
    assert.equal(band.test(-1.5), true);
    assert.equal(band.side, 'low');
    assert.equal(band.lastThreshold, -1);
  });

  it('keeps the previous state on NaN, so missing data neither clears nor raises', () => {
    const band = new Band({ high: 1, hysteresis: 0.1 });
    assert.equal(band.test(Number.NaN), false);
    band.test(2);
    assert.equal(band.test(Number.NaN), true);
    assert.equal(band.side, 'high');
    band.test(0);
    assert.equal(band.test(Number.NaN), false);
  });

  it('supports one-sided bands', () => {
    const high = new Band({ high: 1.5, hysteresis: 0.03 });
    assert.equal(high.test(-1e9), false);
    assert.equal(high.test(1.6), true);
    const low = new Band({ low: 0.9, hysteresis: 0.02 });
    assert.equal(low.test(1e9), false);
    assert.equal(low.test(0.5), true);
    assert.equal(low.test(1e9), false);
  });

  it('forgets the trip on reset', () => {
    const band = new Band({ high: 1, hysteresis: 0.5 });
    band.test(2);
    band.reset();
    assert.equal(band.active, false);
    assert.equal(band.side, null);
    assert.ok(Number.isNaN(band.lastThreshold));
    assert.equal(band.test(0.9), false);
  });

  it('rejects a band without sides, a negative hysteresis, or one that could never reset', () => {
    assert.throws(() => new Band({ hysteresis: 0 }), RangeError);
    assert.throws(() => new Band({ high: 1, hysteresis: -0.1 }), RangeError);
    assert.throws(() => new Band({ high: 1, low: 0.9, hysteresis: 0.06 }), RangeError);
    assert.throws(() => new Band({ high: 1, low: 2, hysteresis: 0 }), RangeError);
  });
});
