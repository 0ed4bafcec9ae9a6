import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollSchedule, type Tick } from '../../../../src/protocols/modbus/schedule.js';

// The drift-free poll schedule with real timers.

describe('PollSchedule', () => {
  it('ticks once per deadline, on multiples of the interval, never twice for the same one', async () => {
    const ticks: Tick[] = [];
    const schedule = new PollSchedule(20, (t) => ticks.push(t));
    schedule.start();
    await new Promise((r) => setTimeout(r, 700));
    schedule.stop();
    // On a loaded machine some deadlines are slept through (counted as missed, next test): what
    // must hold is that the deadlines ticked or missed cover the 700 ms, each once.
    const covered = (ticks.at(-1)!.deadlineMs - ticks[0]!.deadlineMs) / 20 + 1;
    assert.ok(covered >= 30 && ticks.length >= 5, `${ticks.length} ticks covering ${covered} deadlines in 700 ms`);
    for (const [i, t] of ticks.entries()) {
      assert.equal(t.deadlineMs % 20, 0, 'deadlines are multiples of the interval since the epoch');
      assert.ok(t.jitterMs >= 0, `tick ${i} fired ${t.jitterMs} ms before its deadline`);
      if (i > 0) assert.equal(t.deadlineMs - ticks[i - 1]!.deadlineMs, 20 * (1 + t.missed), 'each deadline once, missed ones counted');
    }
  });

  it('skips deadlines the event loop slept through and counts them, without a burst to catch up', async () => {
    const ticks: Tick[] = [];
    const schedule = new PollSchedule(10, (t) => ticks.push(t));
    schedule.start();
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 100;
    while (Date.now() < until); // a stalled event loop
    await new Promise((r) => setTimeout(r, 30));
    schedule.stop();
    const stalled = ticks.find((t) => t.missed > 0);
    assert.ok(stalled && stalled.missed >= 8, `missed deadlines counted: ${stalled?.missed}`);
    assert.ok(ticks.length < 15, `no burst: ${ticks.length} ticks`);
  });
});
