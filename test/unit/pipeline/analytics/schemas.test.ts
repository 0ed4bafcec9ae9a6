import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { SpoolEntry } from '../../../../src/buffer/entry-codec.js';
import { Deadline } from '../../../../src/daemon/component.js';
import { resolvePairs } from '../../../../src/pipeline/analytics/angle-pair.js';
import { AnalyticsEngine } from '../../../../src/pipeline/analytics/engine.js';
import type { AnalyticsOutput } from '../../../../src/pipeline/analytics/output.js';
import { Pipeline } from '../../../../src/pipeline/pipeline.js';
import type { SourceRecord } from '../../../../src/pipeline/record.js';
import { analyticsConfig, RecordFeeder, sourceAnalytics, type Body } from '../../../helpers/analytics.js';
import { simulatedRecords, type SimulatedRun } from '../../../helpers/pmu-records.js';
import { tempDir } from '../../../helpers/spool.js';

// The analytics records (feature-window, anomaly, late-sample) against their Avro schemas
// (schemas/*.avsc, the contract; docs/records.md): real engine output from simulated PMU events,
// through a real Pipeline (envelope, seq, topic, key, headers), checked with avsc, an independent
// Avro implementation. The scenarios together make every anomaly kind the detectors can raise.

const KINDS = ['feature-window', 'anomaly', 'late-sample'] as const;
type Kind = (typeof KINDS)[number];
const TOPICS = {
  pmuFrames: 'grid.pmu.frames',
  scadaValues: 'grid.scada.values',
  features: 'grid.features',
  anomalies: 'grid.anomalies',
  late: 'grid.late',
  deadLetter: 'grid.dlq',
};
const TOPIC_OF: Record<Kind, [keyof typeof TOPICS, string]> = {
  'feature-window': ['features', 'grid.features'],
  anomaly: ['anomalies', 'grid.anomalies'],
  'late-sample': ['late', 'grid.late'],
};

const read = async (path: string): Promise<string> => readFile(new URL(`../../../../${path}`, import.meta.url), 'utf8');
const schemaJson = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await read(`schemas/${name}.avsc`)) as Record<string, unknown>;

const settings = sourceAnalytics({ voltageBaseKv: 230, currentBaseA: 500 });
/** One engine for a scenario, fed 5 rows a batch, keys under the site `north`. */
const newFeeder = (overrides: Parameters<typeof analyticsConfig>[0] = {}): RecordFeeder => {
  const config = analyticsConfig(overrides);
  return new RecordFeeder(new AnalyticsEngine(config, resolvePairs('north', config.anglePairs, () => undefined)), settings, 5, 'north/pmu/');
};

const simulated = (seconds: number, events: Record<string, unknown>[], run: Partial<SimulatedRun> = {}): SourceRecord[] =>
  simulatedRecords({ seconds, ...run, scenario: { ...run.scenario, events } });
const run = (records: SourceRecord[]): AnalyticsOutput[] => newFeeder().feed(records).stop();
const at = (records: SourceRecord[], s: number): number => records.findIndex((r) => r.eventTimeUs >= records[0]!.eventTimeUs + s * 1e6);

/** Scenario name (the record's source) → the engine's output. */
const SCENARIOS: Record<string, () => AnalyticsOutput[]> = {
  sag: () => run(simulated(40, [{ type: 'voltage', at: 30.05, pu: 0.8, durationS: 0.5 }])),
  swell: () => run(simulated(25, [{ type: 'voltage', at: 20, pu: 1.15, phases: ['B'], durationS: 1 }])),
  // −0.2 Hz: frequency-step, and an outlier of freq against its 60 s baseline.
  step: () => run(simulated(40, [{ type: 'frequency-step', at: 30, deltaHz: -0.2 }])),
  'under-over': () => run(simulated(16, [{ type: 'frequency-step', at: 5, deltaHz: -0.6 }, { type: 'frequency-step', at: 10, deltaHz: 1.2 }])),
  rocof: () => run(simulated(10, [{ type: 'frequency-ramp', at: 5, rocofHzPerS: 1.5, durationS: 2 }])),
  oscillation: () => run(simulated(20, [{ type: 'oscillation', at: 0, modeHz: 0.8, angleDeg: 6, dampingRatio: 0.03 }])),
  'gps-loss': () => run(simulated(10, [{ type: 'gps-loss', at: 2, durationS: 4, unlockedForS: 20 }])),
  'data-invalid': () => run(simulated(6, [{ type: 'stat', at: 2, set: 0xc000, durationS: 2 }])),
  overcurrent: () => run(simulated(3, [], { scenario: { signal: { currentA: 800 } } })),
  // Arrival 1.5 s after the device time: clock-skew (1 s for 1 s).
  'clock-skew': () => run(simulated(4, [], { delayUs: 1_500_000 })),
  // A device repeating itself: no noise at all, so every raw channel is flat.
  'flat-line': () => run(simulated(4, [], { scenario: { noise: { magnitudePct: 0, angleDeg: 0, frequencyHz: 0, rocofHzPerS: 0 } } })),
  // Two PMUs of one PDC stream as an angle pair (stream angle/north-south); PMU 102's angles jump
  // by −40°: angle-difference.
  'angle-pair': () =>
    newFeeder({ anglePairs: [{ name: 'north-south', a: { source: 'pmu', pmu: 101 }, b: { source: 'pmu', pmu: 102 } }] })
      .feed(simulated(6, [{ type: 'phase-jump', at: 3, deg: -40, pmus: [1] }], { pmus: 2 }))
      .stop(),
  // Frames missing (frame-gap) and one time stamp twice (duplicate-frames).
  'gaps-duplicates': () => {
    const records = simulated(6, [{ type: 'drop', at: 2, durationS: 0.05 }]);
    const i = at(records, 4);
    records.splice(i + 1, 0, { ...records[i]!, ingestTimeUs: records[i]!.ingestTimeUs + 100 });
    return run(records);
  },
  // A sliding window too; the stream goes silent (idle windows, stale), comes back, one sample
  // late within the allowed lateness (revision 1), one beyond it (late-sample), then a stop.
  'idle-late': () => {
    const records = simulated(14, []);
    const feeder = newFeeder({ windows: [{ sizeMs: 100 }, { sizeMs: 200 }, { sizeMs: 1000, slideMs: 500 }] });
    feeder.feed(records.slice(0, at(records, 4)));
    feeder.tick(feeder.lastIngestUs + 3_000_000); // silent for 3 s, the device's clock running on
    const rest = records.slice(at(records, 7));
    const move = (fromS: number, toS: number): void => {
      const r = rest.splice(at(rest, fromS - 7), 1)[0]!;
      const j = at(rest, toS - 7);
      rest.splice(j, 0, { ...r, ingestTimeUs: rest[j - 1]!.ingestTimeUs + 100 });
    };
    move(9, 9.5); // late by about 0.45 s: re-fires its windows
    move(10, 11.5); // late by about 1.45 s: beyond the 1 s allowed lateness of the 100 and 200 ms windows
    return feeder.feed(rest).stop();
  },
};

/** Anomaly kinds in the detectors' source: `this.#flag('<kind>', …)` and `kind: '<kind>', channel:`. */
async function detectorKinds(): Promise<string[]> {
  const sources = await Promise.all(['stream-detectors.ts', 'angle-pair.ts'].map((f) => read(`src/pipeline/analytics/${f}`)));
  const kinds = sources.flatMap((s) => [...s.matchAll(/#flag\(\s*'([a-z-]+)'|kind: '([a-z-]+)', channel:/g)].map((m) => m[1] ?? m[2]!));
  return [...new Set(kinds)].sort();
}

interface Published {
  source: string;
  entry: SpoolEntry;
  kind: Kind;
  value: Body;
}

function invalid(type: avro.Type, value: unknown): string[] {
  const errors: string[] = [];
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path: string[], any: unknown) => errors.push(`${path.join('.') || '(record)'} = ${JSON.stringify(any)}`),
  });
  return errors;
}

describe('analytics record schemas', () => {
  const published: Published[] = [];
  const types = new Map<Kind, avro.Type>();
  let pipeline: Pipeline;

  before(async () => {
    const taken: SpoolEntry[] = [];
    pipeline = new Pipeline({
      site: 'north',
      stateDir: await tempDir('gridgate-schemas-'),
      topics: TOPICS,
      offer: async (entries) => void taken.push(...entries),
      log: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    await pipeline.start();
    for (const [source, scenario] of Object.entries(SCENARIOS)) {
      // As the analytics hand their outputs to the pipeline (analytics.ts toRecord).
      const records = scenario().map((o): SourceRecord => ({ ...o, body: {} }));
      pipeline.emitter(source)(records);
      await pipeline.drained();
      for (const entry of taken.splice(0)) {
        const kind = KINDS.find((k) => entry.headers?.schema === `gridgate.${k}/1`);
        assert.ok(kind, `schema header ${entry.headers?.schema}`);
        published.push({ source, entry, kind, value: JSON.parse(Buffer.from(entry.value).toString()) as Body });
      }
    }
    for (const kind of KINDS) types.set(kind, avro.Type.forSchema((await schemaJson(kind)) as avro.Schema));
  });

  after(async () => {
    await pipeline.stop(new Deadline(1000));
  });

  it('gives records of every kind, each valid against its schema, on its topic, keyed by the stream', () => {
    for (const kind of KINDS) assert.ok(published.some((p) => p.kind === kind), `some ${kind} records`);
    const errors: string[] = [];
    for (const p of published) {
      const [, topic] = TOPIC_OF[p.kind];
      assert.equal(p.entry.topic, topic);
      assert.equal(p.entry.key, `north/${p.source}/${p.value.stream}`);
      assert.deepEqual(p.entry.headers, { site: 'north', schema: `gridgate.${p.kind}/1`, 'content-type': 'application/json' });
      assert.equal(p.entry.timestampMs, Math.floor(p.value.ingestTime / 1000));
      for (const e of invalid(types.get(p.kind)!, p.value)) errors.push(`${p.source} ${p.kind} #${p.value.seq}: ${e}`);
    }
    assert.deepEqual(errors.slice(0, 20), [], `${errors.length} invalid`);
  });

  it('raises every anomaly kind the detectors know, across the scenarios', async () => {
    const kinds = await detectorKinds();
    assert.ok(kinds.length >= 18, `found ${kinds.join(', ')}`);
    const anomalies = published.filter((p) => p.kind === 'anomaly').map((p) => p.value);
    const raised = new Set(anomalies.filter((a) => a.state === 'raised').map((a) => a.kind as string));
    assert.deepEqual(kinds.filter((k) => !raised.has(k)), [], 'kinds never raised');
    assert.ok(anomalies.some((a) => a.state === 'cleared'));
    assert.ok(anomalies.some((a) => a.value === null) && anomalies.some((a) => a.threshold === null), 'null values and thresholds occur');
    for (const key of ['deltaHz', 'spanMs', 'median', 'durationMs', 'dominantHz', 'slipHz']) {
      assert.ok(anomalies.some((a) => key in a.detail), `a detail with ${key}`);
    }
  });

  it('covers every way a window closes, late updates, sliding windows and late samples', () => {
    const features = published.filter((p) => p.kind === 'feature-window').map((p) => p.value);
    assert.deepEqual([...new Set(features.map((f) => f.closedBy as string))].sort(), ['idle', 'late-update', 'shutdown', 'watermark']);
    assert.ok(features.some((f) => f.revision > 0));
    assert.ok(features.some((f) => f.window.name === '1s/500ms'));
    assert.ok(features.some((f) => f.stream === 'angle/north-south' && f.channels['angle.difference'].unit === 'deg'));
    assert.ok(features.every((f) => f.eventTime === f.window.end - 1), 'eventTime = window end − 1 µs');
    const late = published.filter((p) => p.kind === 'late-sample').map((p) => p.value);
    assert.deepEqual(
      late.map((l) => [l.source, l.windows]),
      [['idle-late', ['100ms', '200ms']]],
    );
    assert.equal(late[0]!.lateByUs, late[0]!.watermark - late[0]!.eventTime);
  });

  it('numbers each kind of each stream on its own, gap-free', () => {
    const seqs = new Map<string, number[]>();
    for (const p of published) {
      const key = `${p.entry.key} ${p.kind}`;
      if (!seqs.has(key)) seqs.set(key, []);
      seqs.get(key)!.push(p.value.seq);
    }
    for (const [key, list] of seqs) assert.deepEqual(list, Array.from({ length: list.length }, (_, i) => i + 1), key);
  });

  it("starts each schema with pmu-frame's envelope, names its header and topic, and documents every field", async () => {
    const envelope = ((await schemaJson('pmu-frame')).fields as unknown[]).slice(0, 8);
    for (const kind of KINDS) {
      const schema = await schemaJson(kind);
      assert.equal(schema.namespace, 'gridgate');
      assert.deepEqual((schema.fields as unknown[]).slice(0, 8), envelope, `${kind}: the envelope`);
      const [topicKey, topic] = TOPIC_OF[kind];
      assert.match(schema.doc as string, new RegExp(`Schema header: gridgate\\.${kind}/1\\. Topic: kafka\\.topics\\.${topicKey} \\(${topic}\\)\\. Key: site/source/<stream>`));
      const undocumented: string[] = [];
      const walk = (type: unknown, path: string): void => {
        if (Array.isArray(type)) return type.forEach((t) => walk(t, path));
        if (typeof type !== 'object' || type === null) return;
        const t = type as { type: string; fields?: { name: string; type: unknown; doc?: string }[]; items?: unknown; values?: unknown };
        for (const f of t.fields ?? []) {
          if (!(typeof f.doc === 'string' && f.doc.length > 0)) undocumented.push(`${path}${f.name}`);
          walk(f.type, `${path}${f.name}.`);
        }
        walk(t.items, path);
        walk(t.values, path);
      };
      walk(schema, '');
      assert.deepEqual(undocumented, [], `${kind}: fields without doc`);
    }
  });
});
