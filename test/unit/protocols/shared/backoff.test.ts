import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../../src/protocols/shared/backoff.js';

describe('reconnect back-off', () => {
  it('doubles from initialMs up to maxMs, with delays between half and all of the cap', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0);
    const high = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    assert.deepEqual(Array.from({ length: 6 }, () => low.next()), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual(Array.from({ length: 6 }, () => high.next()), [100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads many clients apart with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => new Backoff({ initialMs: 1000, maxMs: 60_000 }).next()));
    assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  });

  it('counts attempts and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000 }, () => 1);
    b.next();
    b.next();
    assert.equal(b.attempts, 2);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 100);
  });

  it('never overflows after very many failures', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 1);
    for (let i = 0; i < 5000; i++) b.next();
    assert.equal(b.next(), 30_000);
  });
});
