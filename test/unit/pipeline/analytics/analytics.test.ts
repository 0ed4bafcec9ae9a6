import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Analytics, MAX_BATCH_ROWS, type AnalyticsOptions } from '../../../../src/pipeline/analytics/analytics.js';
import type { AnalyticsConfig } from '../../../../src/pipeline/analytics/config.js';
import { nowUs, type SourceRecord } from '../../../../src/pipeline/record.js';
import { analyticsConfig, sourceAnalytics } from '../../../helpers/analytics.js';
import { simulatedRecords } from '../../../helpers/pmu-records.js';
import { until } from '../../../helpers/wait.js';

// The main thread's side with real worker threads (piscina): batches cross as transferred typed
// arrays, each stream stays in one worker, and the result is the same as the engine on the main
// thread, record for record.

const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });

/** Simulated frames moved to the present (idleness is judged on the wall clock, as live). */
function live(records: SourceRecord[]): SourceRecord[] {
  const shift = nowUs() - records[0]!.eventTimeUs;
  return records.map((r) => ({ ...r, eventTimeUs: r.eventTimeUs + shift, ingestTimeUs: r.ingestTimeUs + shift }));
}

/** An Analytics for one source `pmu`, keeping what it delivers and how often it had room again. */
function harness(config: AnalyticsConfig, extra: Partial<AnalyticsOptions> = {}) {
  const h = { delivered: [] as { source: string; record: SourceRecord }[], registry: new Registry(), rooms: 0 };
  const analytics = new Analytics({
    ...extra,
    config,
    site: 'site',
    sources: new Map([['pmu', { settings, idcode: 1 }]]),
    deliver: (source, rs) => h.delivered.push(...rs.map((record) => ({ source, record }))),
    onRoom: () => h.rooms++,
    log: extra.log ?? pino({ level: 'silent' }),
    registry: h.registry,
  });
  return { ...h, analytics, h };
}

async function run(config: AnalyticsConfig, records: SourceRecord[], chunk = 40) {
  const { analytics, delivered, registry, h } = harness(config);
  analytics.start();
  for (let i = 0; i < records.length; i += chunk) {
    for (const r of records.slice(i, i + chunk)) analytics.observe('pmu', r);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await analytics.stop();
  return { delivered, registry, rooms: h.rooms, analytics };
}

const byStream = (delivered: { record: SourceRecord }[]) => {
  const m = new Map<string, string[]>();
  for (const { record } of delivered) {
    const list = m.get(record.stream) ?? [];
    list.push(`${record.kind} ${record.eventTimeUs} ${record.encodedBody as string}`);
    m.set(record.stream, list);
  }
  return m;
};

/** Nice value of each thread of this process (/proc/self/task/<tid>/stat, field 19). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nices;
}

describe('analytics in worker threads', () => {
  const records = live(simulatedRecords({ seconds: 20, pmus: 4, scenario: { events: [{ type: 'voltage', at: 10, pu: 0.85, durationS: 1, pmus: [2] }] } }));

  it('runs its worker threads workerNice below the main thread, which keeps its priority', async () => {
    const before = threadNices();
    const mine = before.get(process.pid)!;
    const { analytics, registry } = harness(analyticsConfig({ mode: 'workers', workers: 2, batchMs: 20, workerNice: 7 }));
    analytics.start();
    try {
      for (const r of records.slice(0, 400)) analytics.observe('pmu', r);
      // A worker's heap is reported with its first answer: both are loaded then.
      const answered = async () => (await registry.getSingleMetricAsString('gridgate_analytics_worker_heap_size_used_bytes')).match(/\} [1-9]/g)?.length === 2;
      await until(answered, 'both workers answered a batch');
      const after = threadNices();
      const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === Math.min(19, mine + 7));
      assert.equal(lowered.length, 2, JSON.stringify([...after]));
      assert.equal(after.get(process.pid), mine);
    } finally {
      await analytics.stop();
    }
  });

  it('gives per stream exactly what the same engine gives on the main thread', async () => {
    const workers = await run(analyticsConfig({ mode: 'workers', workers: 2, batchMs: 20 }), records);
    const local = await run(analyticsConfig({ mode: 'main-thread', batchMs: 20 }), records);
    assert.ok(workers.delivered.length > 4 * 190, `feature records: ${workers.delivered.length}`);
    assert.deepEqual(byStream(workers.delivered), byStream(local.delivered));
    assert.ok(workers.delivered.some(({ record }) => record.kind === 'anomaly' && (record.encodedBody as string | undefined)?.includes('voltage-sag')));
    const samples = await workers.registry.getSingleMetricAsString('gridgate_analytics_samples_total');
    assert.match(samples, new RegExp(`gridgate_analytics_samples_total ${records.length}\\b`));
    // Each worker thread reports its own heap.
    const heap = await workers.registry.getSingleMetricAsString('gridgate_analytics_worker_heap_size_used_bytes');
    for (const worker of ['0', '1']) assert.match(heap, new RegExp(`\\{worker="${worker}"\\} [1-9]\\d{6,}`), heap);
  });

  it('skips samples for the analytics, counted, when a worker is behind and whenFull is skip-analytics', async () => {
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 5, maxQueuedSamples: 100, whenFull: 'skip-analytics' });
    const { registry } = await run(config, live(simulatedRecords({ seconds: 120, pmus: 10 })), 6000);
    const skipped = await registry.getSingleMetricAsString('gridgate_analytics_skipped_samples_total');
    assert.match(skipped, /gridgate_analytics_skipped_samples_total [1-9]\d*/);
  });

  it('does not call streams idle for the time their sources were paused because the worker was behind', async () => {
    // Ten PMUs read live (ingest time = now). The first batch is big enough to keep the worker busy
    // past idleTimeoutMs; meanwhile the shard fills and the sources pause (no samples), as the
    // pipeline does with pause-sources. The silence is the gateway's own: no stream may go idle, so
    // no window may close early and no sample may come late.
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 5, maxQueuedSamples: 600, idleTimeoutMs: 250 });
    const frames = live(simulatedRecords({ seconds: 120, pmus: 10 }));
    const { analytics, h } = harness(config);
    analytics.start();
    const read = (from: number, to: number): number => {
      for (const r of frames.slice(from, to)) analytics.observe('pmu', { ...r, ingestTimeUs: nowUs() });
      return to;
    };
    let next = read(0, 40_000);
    let pauses = 0;
    const deadline = Date.now() + 20_000;
    while (next < 70_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (analytics.full) {
        // Resume as soon as onRoom says so, as the pipeline does (until() would poll every 100 ms).
        pauses++;
        const rooms = h.rooms;
        while (h.rooms === rooms && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      next = read(next, next + 300);
    }
    await analytics.stop();
    assert.ok(pauses > 0, 'the shard filled and the sources paused at least once');
    const late = await h.registry.getSingleMetricAsString('gridgate_analytics_late_samples_total');
    assert.match(late, /gridgate_analytics_late_samples_total 0\b/);
    const stale = h.delivered.filter(({ record }) => record.kind === 'anomaly' && String(record.encodedBody).includes('stale'));
    assert.deepEqual(stale.map(({ record }) => record.stream), [], 'no stale flag');
  });

  it('sends a backlog in batches of at most MAX_BATCH_ROWS, in order, with the same result as the main thread', async () => {
    // 36,000 frames at once, as after a long GC pause or a stalled worker: three batches of 10,000
    // and one of 6,000, back to back. The fixture fails any bigger batch.
    const burst = live(simulatedRecords({ seconds: 60, pmus: 10 }));
    process.env.GRIDGATE_TEST_WORKER = `max-rows:${MAX_BATCH_ROWS}`;
    const FAULTY = new URL('../../../fixtures/analytics-worker-faulty.ts', import.meta.url);
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 20, idleTimeoutMs: 60_000 });
    const { analytics, h, registry } = harness(config, { workerUrl: FAULTY });
    try {
      analytics.start();
      for (const r of burst) analytics.observe('pmu', r);
      await analytics.stop();
    } finally {
      delete process.env.GRIDGATE_TEST_WORKER;
    }
    assert.match(await registry.getSingleMetricAsString('gridgate_analytics_batch_failures_total'), /gridgate_analytics_batch_failures_total 0\b/);
    const local = await run(analyticsConfig({ mode: 'main-thread', batchMs: 20, idleTimeoutMs: 60_000 }), burst, burst.length);
    assert.ok(h.delivered.length > 10 * 500, `feature records: ${h.delivered.length}`);
    assert.deepEqual(byStream(h.delivered), byStream(local.delivered));
  });

  it('does not call streams idle for the time the pipeline held the sources back (its queue full)', async () => {
    // Ten PMUs read live for 1 s; then the pipeline pauses the sources for 1.5 s (Kafka or the spool
    // behind it), four times the idle timeout; then the frames that waited in the sockets are read,
    // late by the pause. The silence is the gateway's own: no stale flag, no late sample.
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 20, idleTimeoutMs: 250 });
    const frames = live(simulatedRecords({ seconds: 30, pmus: 10 }));
    const { analytics, h } = harness(config);
    analytics.start();
    const t0 = nowUs();
    // Frame i is read at t0 + its offset in the run, plus `lateUs` once the sources were held.
    const read = async (from: number, to: number, lateUs: number): Promise<void> => {
      for (let i = from; i < to; i += 10) {
        for (const r of frames.slice(i, i + 10)) analytics.observe('pmu', { ...r, ingestTimeUs: r.eventTimeUs - frames[0]!.eventTimeUs + t0 + lateUs });
        await new Promise((resolve) => setTimeout(resolve, (1000 * 10) / 600));
      }
    };
    await read(0, 600, 0);
    analytics.sourcesPaused(nowUs());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    analytics.sourcesPaused(undefined);
    await read(600, 1800, 1_500_000);
    await analytics.stop();
    const late = await h.registry.getSingleMetricAsString('gridgate_analytics_late_samples_total');
    assert.match(late, /gridgate_analytics_late_samples_total 0\b/);
    const stale = h.delivered.filter(({ record }) => record.kind === 'anomaly' && String(record.encodedBody).includes('stale'));
    assert.deepEqual(stale.map(({ record }) => record.stream), [], 'no stale flag');
  });

  it('reports full with whenFull pause-sources until the worker catches up, then calls onRoom', async () => {
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 5, maxQueuedSamples: 100 });
    const many = live(simulatedRecords({ seconds: 120, pmus: 10 }));
    let sawFull = false;
    const { analytics, h } = harness(config);
    analytics.start();
    for (let i = 0; i < many.length && !sawFull; i += 6000) {
      for (const r of many.slice(i, i + 6000)) analytics.observe('pmu', r);
      await new Promise((resolve) => setTimeout(resolve, 6));
      sawFull ||= analytics.full;
    }
    assert.ok(sawFull, 'the analytics reported full');
    await until(() => h.rooms > 0 && !analytics.full, 'room again', 10_000);
    await analytics.stop();
  });
});

describe('an analytics worker that fails', () => {
  const FAULTY = new URL('../../../fixtures/analytics-worker-faulty.ts', import.meta.url);
  const metric = async (registry: Registry, name: string): Promise<number> => {
    const line = (await registry.getSingleMetricAsString(name)).split('\n').find((l) => l.startsWith(name));
    return Number(line?.split(' ').pop());
  };

  /** Observe live frames of 10 PMUs for `ms`, in 50 ms steps, as the pipeline would; true if ever full. */
  async function feed(analytics: Analytics, frames: SourceRecord[], from: number, ms: number): Promise<{ next: number; sawFull: boolean }> {
    let next = from;
    let sawFull = false;
    for (const end = Date.now() + ms; Date.now() < end; ) {
      for (const r of frames.slice(next, next + 30)) analytics.observe('pmu', { ...r, ingestTimeUs: nowUs() });
      next += 30;
      sawFull ||= analytics.full;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { next, sawFull };
  }

  it('that cannot load never holds the sources: its samples are dropped, counted, and it is replaced until one loads', async () => {
    const lines: { msg: string; restartInMs?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const frames = live(simulatedRecords({ seconds: 60, pmus: 10 }));
    process.env.GRIDGATE_TEST_WORKER = 'load-error';
    const { analytics, h, registry } = harness(analyticsConfig({ mode: 'workers', workers: 1, batchMs: 20, maxQueuedSamples: 100 }), { workerUrl: FAULTY, log });
    try {
      analytics.start();
      // Until the thread has failed to load, its samples queue and fill the shard, as for a slow
      // worker. Then the first thread fails, piscina's replacement fails in bootstrap, the pool is
      // replaced 1 s later and fails again (2 s backoff): whatever piscina does, nothing may throw.
      let next = 0;
      await until(async () => {
        ({ next } = await feed(analytics, frames, next, 50));
        return analytics.downWorkers === 1;
      }, 'the worker down', 10_000);
      let sawFull: boolean;
      ({ next, sawFull } = await feed(analytics, frames, next, 2_500));
      assert.equal(sawFull, false, 'a shard whose worker is down is never full (pause-sources would hold every source)');
      assert.ok((await metric(registry, 'gridgate_analytics_dropped_samples_total')) > 100, 'dropped samples are counted');
      assert.ok((await metric(registry, 'gridgate_analytics_worker_restarts_total')) >= 1);
      const down = lines.filter((l) => l.msg.startsWith('an analytics worker is down'));
      assert.ok(down.length >= 2, `one error line per failure: ${down.length}`);
      const [first, second] = down.map((l) => l.restartInMs!);
      assert.ok(first! >= 500 && first! <= 1_000 && second! >= 1_000 && second! <= 2_000, `the restart backs off (with jitter): ${first}, ${second} ms`);

      delete process.env.GRIDGATE_TEST_WORKER;
      await until(async () => {
        ({ next } = await feed(analytics, frames, next, 200));
        return h.delivered.some(({ record }) => record.kind === 'feature-window');
      }, 'features from the replacement worker', 15_000);
      assert.equal(analytics.downWorkers, 0);
      assert.ok(lines.some((l) => l.msg === 'an analytics worker is back'));
    } finally {
      delete process.env.GRIDGATE_TEST_WORKER;
      await analytics.stop();
    }
  });

  it('that stops answering is replaced after the batch deadline, and its successor takes the streams over', async () => {
    const frames = live(simulatedRecords({ seconds: 60, pmus: 10 }));
    process.env.GRIDGATE_TEST_WORKER = 'hang';
    const config = analyticsConfig({ mode: 'workers', workers: 1, batchMs: 20, maxQueuedSamples: 100 });
    const { analytics, h, registry } = harness(config, { workerUrl: FAULTY, batchDeadlineMs: 500 });
    try {
      analytics.start();
      let { next, sawFull } = await feed(analytics, frames, 0, 300);
      assert.ok(sawFull, 'the hung worker filled its shard (pause-sources)');
      delete process.env.GRIDGATE_TEST_WORKER;
      await until(() => analytics.downWorkers === 1 && !analytics.full && h.rooms > 0, 'the hung worker taken down, the sources told to resume', 5_000);
      await until(async () => {
        ({ next } = await feed(analytics, frames, next, 200));
        return h.delivered.some(({ record }) => record.kind === 'feature-window');
      }, 'features from the replacement worker', 15_000);
      assert.equal(await metric(registry, 'gridgate_analytics_batch_failures_total'), 1, 'the batch in the hung worker failed');
    } finally {
      delete process.env.GRIDGATE_TEST_WORKER;
      await analytics.stop();
    }
  });
});
