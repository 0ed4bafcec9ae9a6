import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnalyticsEngine } from '../../../../src/pipeline/analytics/engine.js';
import { BatchBuilder } from '../../../../src/pipeline/analytics/batch-builder.js';
import { analyticsConfig, bodies, feedFreq, freqDescriptor, type Sample } from '../../../helpers/analytics.js';

// Event-time window semantics (docs/windows.md), on a 50 frames/s stream (20 ms period, so the
// default out-of-orderness B is 60 ms) with 100 ms tumbling windows unless said otherwise.

const T0 = 1_700_000_000_000_000; // µs, a multiple of every window size
const ms = (m: number): number => T0 + m * 1000;
const grid = (fromMs: number, toMs: number, skip: number[] = []): Sample[] => {
  const out: Sample[] = [];
  for (let m = fromMs; m <= toMs; m += 20) if (!skip.includes(m)) out.push({ tUs: ms(m), freq: 50 + m / 1e6 });
  return out;
};
const engineWith = (overrides: Parameters<typeof analyticsConfig>[0] = {}) =>
  new AnalyticsEngine(analyticsConfig({ windows: [{ sizeMs: 100 }], allowedLatenessMs: 100, ...overrides }));
const windows = (outputs: ReturnType<typeof feedFreq>) =>
  bodies(outputs, 'feature-window').map((b) => ({
    start: (b.window.start - T0) / 1000,
    samples: b.samples,
    revision: b.revision,
    closedBy: b.closedBy,
    complete: b.complete,
  }));

describe('event-time windows', () => {
  it('fires a window once the watermark (max time − 3 periods) passes its end, not before', () => {
    const engine = engineWith();
    assert.deepEqual(windows(feedFreq(engine, [freqDescriptor()], grid(0, 140))), []);
    assert.deepEqual(windows(feedFreq(engine, [], grid(160, 160))), [{ start: 0, samples: 5, revision: 0, closedBy: 'watermark', complete: true }]);
  });

  it('puts a sample that arrives out of order but within the out-of-orderness into its window', () => {
    const engine = engineWith();
    const order = [0, 20, 40, 60, 100, 80, 120, 140, 160].map((m) => ({ tUs: ms(m), freq: 50 }));
    assert.deepEqual(windows(feedFreq(engine, [freqDescriptor()], order)), [{ start: 0, samples: 5, revision: 0, closedBy: 'watermark', complete: true }]);
  });

  it('re-fires a window with revision 1 for a sample late by less than the allowed lateness', () => {
    const engine = engineWith();
    const first = windows(feedFreq(engine, [freqDescriptor()], grid(0, 160, [40])));
    assert.deepEqual(first, [{ start: 0, samples: 4, revision: 0, closedBy: 'watermark', complete: false }]);
    const late = feedFreq(engine, [], [{ tUs: ms(40), freq: 50 }]);
    assert.deepEqual(windows(late), [{ start: 0, samples: 5, revision: 1, closedBy: 'late-update', complete: true }]);
    assert.equal(bodies(late, 'late-sample').length, 0);
  });

  it('sends a sample later than the allowed lateness to the late output, with its values and how late it was', () => {
    const engine = engineWith();
    feedFreq(engine, [freqDescriptor()], grid(0, 300, [40]));
    const out = feedFreq(engine, [], [{ tUs: ms(40), freq: 49.9, quality: 0 }]);
    assert.deepEqual(windows(out), []);
    const [late] = out.filter((o) => o.kind === 'late-sample');
    assert.ok(late);
    assert.equal(late.eventTimeUs, ms(40));
    assert.deepEqual(JSON.parse(late.encodedBody as string), {
      windows: ['100ms'],
      watermark: ms(240),
      lateByUs: 200_000,
      allowedLatenessMs: 100,
      values: { freq: 49.9, rocof: 0 },
    });
  });

  it('assigns each sample to every sliding window that contains it, oldest first', () => {
    const engine = engineWith({ windows: [{ sizeMs: 100 }, { sizeMs: 200, slideMs: 100 }] });
    const got = windows(feedFreq(engine, [freqDescriptor()], grid(0, 400)).filter((o) => (o.encodedBody as string).includes('"200ms/100ms"')));
    assert.deepEqual(
      got.map((w) => [w.start, w.samples]),
      [
        [-100, 5],
        [0, 10],
        [100, 10],
      ],
    );
  });

  it('keeps several window sizes per stream, each with its own windows', () => {
    const engine = engineWith({ windows: [{ sizeMs: 100 }, { sizeMs: 200 }] });
    const out = bodies(feedFreq(engine, [freqDescriptor()], grid(0, 260)), 'feature-window');
    assert.deepEqual(
      out.map((b) => [b.window.name, (b.window.start - T0) / 1000, b.samples]),
      [
        ['100ms', 0, 5],
        ['100ms', 100, 5],
        ['200ms', 0, 10],
      ],
    );
  });

  it('closes the windows of an idle stream on the wall clock, flags it stale, and resumes cleanly', () => {
    const engine = engineWith();
    feedFreq(engine, [freqDescriptor()], grid(0, 200));
    const lastIngest = ms(200) + 1000;
    const quiet = engine.process({ nowUs: lastIngest + 999_000, describe: [], rows: new Float64Array(0), rowCount: 0 });
    assert.deepEqual(quiet.outputs, []);
    const idle = engine.process({ nowUs: lastIngest + 1_000_000, describe: [], rows: new Float64Array(0), rowCount: 0 }).outputs;
    assert.deepEqual(windows(idle), [
      { start: 100, samples: 5, revision: 0, closedBy: 'idle', complete: true },
      { start: 200, samples: 1, revision: 0, closedBy: 'idle', complete: false },
    ]);
    assert.deepEqual(
      bodies(idle, 'anomaly').map((b) => [b.kind, b.state]),
      [['stale', 'raised']],
    );
    // The device's clock kept running: its next frames are on time, not late.
    const back = feedFreq(engine, [], grid(1500, 1660));
    assert.deepEqual(bodies(back, 'late-sample'), []);
    assert.deepEqual(
      bodies(back, 'anomaly').map((b) => [b.kind, b.state]),
      [['stale', 'cleared']],
    );
    assert.deepEqual(windows(back), [{ start: 1500, samples: 5, revision: 0, closedBy: 'watermark', complete: true }]);
  });

  it('on a stop fires the open windows as incomplete; after a restart the window it cut comes again, incomplete too', () => {
    const before = engineWith();
    feedFreq(before, [freqDescriptor()], grid(0, 140));
    const b = new BatchBuilder();
    const stopped = before.process({ ...b.take(ms(141)), flush: true }).outputs;
    assert.deepEqual(windows(stopped), [
      { start: 0, samples: 5, revision: 0, closedBy: 'shutdown', complete: true },
      { start: 100, samples: 3, revision: 0, closedBy: 'shutdown', complete: false },
    ]);
    const after = engineWith();
    const restarted = windows(feedFreq(after, [freqDescriptor()], grid(160, 300)));
    assert.deepEqual(restarted[0], { start: 100, samples: 2, revision: 0, closedBy: 'watermark', complete: false });
  });

  it('counts a repeated time stamp as a duplicate and a missing one as missing', () => {
    const engine = engineWith();
    const samples = [...grid(0, 160, [60])];
    samples.splice(2, 0, { tUs: ms(20), freq: 50 });
    const [w] = bodies(feedFreq(engine, [freqDescriptor()], samples), 'feature-window');
    assert.deepEqual([w!.samples, w!.expected, w!.missing, w!.duplicates, w!.completeness], [5, 5, 1, 1, 0.8]);
  });

  it('gives byte-identical output for the same input whatever the batch boundaries', () => {
    // A seeded shuffle within ±100 ms plus a few very late samples: late updates and late output.
    let seed = 12345;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const samples = grid(0, 6000).map((s) => ({ ...s, key: s.tUs + random() * 100_000 }));
    samples.sort((a, b) => a.key - b.key);
    for (let i = 50; i < samples.length; i += 97) samples.splice(i, 0, { tUs: samples[i - 40]!.tUs, freq: 49, key: 0 });
    const run = (batch: number) => feedFreq(engineWith(), [freqDescriptor()], samples, batch, ms(0)).map((o) => `${o.kind} ${o.eventTimeUs} ${o.encodedBody as string}`);
    const one = run(1);
    assert.ok(one.some((o) => o.startsWith('late-sample')));
    assert.ok(one.some((o) => o.includes('"revision":1')));
    assert.deepEqual(run(7), one);
    assert.deepEqual(run(10_000), one);
  });

  it('skips rows of a stream it was never told about, and rows without a time, and counts them', () => {
    const engine = engineWith();
    const b = new BatchBuilder();
    b.describe(freqDescriptor());
    b.buffer[b.row(1, NaN, ms(1), 0, 2)] = 50;
    b.buffer[b.row(1, ms(0), ms(1), 0, 2)] = 50;
    b.buffer[b.row(99, ms(0), ms(1), 0, 2)] = 50;
    const result = engine.process(b.take(ms(1)));
    assert.equal(result.unusableRows, 2);
    assert.equal(result.channelSamples, 2);
    assert.deepEqual(result.outputs, []);
  });
});
