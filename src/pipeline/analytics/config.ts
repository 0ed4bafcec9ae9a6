import { Type, type Static } from '@sinclair/typebox';
import { Section, StringEnum } from '../../config/schema-helpers.js';

// The `analytics` section of the site config (windows, event time, workers, detectors) and the
// `analytics` key of each source (what its channels mean: bases and phase names). Defaults and the
// standard each threshold comes from are in docs/analytics.md; every one is a starting point that
// an operator replaces with the site's own protection and grid-code settings.

const ms = (description: string, dflt?: number, minimum = 0) =>
  Type.Number({ minimum, ...(dflt === undefined ? {} : { default: dflt }), description });

const WindowSchema = Type.Object(
  {
    sizeMs: Type.Number({ exclusiveMinimum: 0, maximum: 60_000, description: 'Window length, ms (epoch-aligned: windows start at multiples of slideMs).' }),
    slideMs: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 60_000, description: 'A new window every slideMs (sliding window); equal to sizeMs (tumbling) when absent. At most sizeMs.' }),
    ),
  },
  { additionalProperties: false, description: 'One window definition, applied to every stream.' },
);

const alarm = (pickupMs: number, dropoutMs: number) => ({
  pickupMs: ms('The condition must hold this long (event time) before the flag is raised, ms.', pickupMs),
  dropoutMs: ms('The condition must be gone this long before the flag is cleared, ms.', dropoutMs),
});

const DetectorsSchema = Section(
  {
    frequency: Section(
      {
        maxDeviationHz: Type.Number({ exclusiveMinimum: 0, default: 0.5, description: 'Over/under frequency: |f − fnom| of the window mean beyond this, Hz.' }),
        hysteresisHz: Type.Number({ minimum: 0, default: 0.02, description: 'Clears only once back inside by this margin, Hz.' }),
        ...alarm(100, 500),
      },
      { description: 'Over- and under-frequency (a symmetric band; replace with the IEEE 1547-2018 / NERC PRC-024 band of the site).' },
    ),
    rocof: Section(
      {
        thresholdHzPerS: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'ROCOF flag: |df/dt| (least-squares slope of the frequency) above this, Hz/s.' }),
        spanMs: Type.Number({ exclusiveMinimum: 0, default: 500, description: 'Span of the least-squares slope, ms (GB loss-of-mains practice: 1 Hz/s over 500 ms).' }),
        hysteresisHzPerS: Type.Number({ minimum: 0, default: 0.1, description: 'Clears only once below the threshold by this margin, Hz/s.' }),
        ...alarm(0, 500),
      },
      { description: 'Rate of change of frequency, derived from the frequency (not the reported DFREQ).' },
    ),
    voltage: Section(
      {
        sagPu: Type.Number({ exclusiveMinimum: 0, default: 0.9, description: 'Sag: the lowest phase voltage below this, per unit (IEEE 1159).' }),
        swellPu: Type.Number({ exclusiveMinimum: 0, default: 1.1, description: 'Swell: the highest phase voltage above this, per unit (IEEE 1159).' }),
        hysteresisPu: Type.Number({ minimum: 0, default: 0.02, description: 'Clears only once back inside by this margin, per unit (IEC 61000-4-30: 2 % of the declared voltage).' }),
        ...alarm(20, 0),
      },
      { description: 'Voltage sag and swell; needs the source analytics.voltageBaseKv.' },
    ),
    overcurrent: Section(
      {
        thresholdPu: Type.Number({ exclusiveMinimum: 0, default: 1.5, description: 'The highest phase current above this, per unit of analytics.currentBaseA.' }),
        hysteresisPu: Type.Number({ minimum: 0, default: 0.03, description: 'Clears only once below by this margin, per unit (a 98 % dropout ratio).' }),
        ...alarm(100, 500),
      },
      { description: 'Overcurrent; needs the source analytics.currentBaseA.' },
    ),
    angle: Section(
      {
        maxDifferenceDeg: Type.Number({ exclusiveMinimum: 0, maximum: 180, default: 30, description: 'Angle pair flag: |Δθ| of the window mean above this, degrees.' }),
        hysteresisDeg: Type.Number({ minimum: 0, default: 2, description: 'Clears only once below by this margin, degrees.' }),
        ...alarm(500, 1000),
      },
      { description: 'Bus angle difference across each configured angle pair (stress across a corridor).' },
    ),
    step: Section(
      {
        thresholdHz: Type.Number({ exclusiveMinimum: 0, default: 0.0256, description: 'Frequency step: |f(t) − f(t − lookback)| of window means at least this, Hz (GSF frequency excursion).' }),
        lookbackMs: Type.Number({ exclusiveMinimum: 0, default: 4000, description: 'Compared against the window mean this long before, ms.' }),
        consecutive: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive windows over the threshold before the flag is raised.' }),
        dropoutMs: ms('Cleared after this long below the threshold, ms.', 1000),
      },
      { description: 'Step change of the frequency.' },
    ),
    outlier: Section(
      {
        channels: Type.Array(Type.String({ description: 'A channel name (docs/analytics.md).' }), {
          default: ['freq', 'seq.V1', 'power.P'],
          description: 'Channels checked against their robust baseline; unknown names are ignored for a stream that lacks them.',
        }),
        thresholdZ: Type.Number({ exclusiveMinimum: 0, default: 6, description: 'Robust z-score |x − median| / (1.4826·MAD) of the window mean above this.' }),
        baselineMs: Type.Number({ exclusiveMinimum: 0, default: 60_000, description: 'Length of the rolling baseline of window means, ms.' }),
        recomputeMs: Type.Number({ exclusiveMinimum: 0, default: 200, description: 'Median and MAD are recomputed this often, ms (100–200 ms in the notes).' }),
        ...alarm(0, 1000),
      },
      { description: 'Robust z-score against a rolling median/MAD baseline.' },
    ),
    flatLine: Section(
      {
        minDurationMs: Type.Number({ exclusiveMinimum: 0, default: 2000, description: 'A raw channel unchanged (within resolution) this long is flagged, ms.' }),
        resolution: Type.Number({ minimum: 0, default: 0, description: 'Changes up to this size count as unchanged (0: exactly equal).' }),
      },
      { description: 'Flat-lined (frozen) values: a device repeating its last value.' },
    ),
    gaps: Section(
      { ...alarm(0, 1000) },
      { description: 'Frame gaps (fewer frames in a window than the reporting rate promises) and duplicate time stamps.' },
    ),
    clock: Section(
      {
        maxSkewMs: Type.Number({ exclusiveMinimum: 0, default: 1000, description: 'Time stamp far from the wall clock: |ingest − event time| of the window mean above this, ms.' }),
        ...alarm(1000, 1000),
      },
      { description: 'Device time against the gateway clock (a PMU with a bad GPS, a gateway with a bad NTP).' },
    ),
    quality: Section(
      { ...alarm(0, 1000) },
      { description: 'STAT quality: PMU sync lost, data invalid, time unlocked (one flag each).' },
    ),
    oscillation: Section(
      {
        channel: Type.String({ default: 'freq', description: 'The channel watched for oscillations (frequency by default).' }),
        windowS: Type.Number({ minimum: 2, maximum: 60, default: 10, description: 'Length of the analysed span, s (10–20 s in the notes).' }),
        hopS: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 1, description: 'Evaluated every hopS of event time, s.' }),
        bands: Type.Array(
          Type.Object(
            {
              name: Type.String({ pattern: '^[a-z0-9-]{1,32}$', description: 'Band name, in the flag.' }),
              lowHz: Type.Number({ exclusiveMinimum: 0, description: 'Lower edge, Hz.' }),
              highHz: Type.Number({ exclusiveMinimum: 0, description: 'Upper edge, Hz.' }),
              thresholdRms: Type.Number({ exclusiveMinimum: 0, description: 'Flag when the RMS amplitude in the band exceeds this (channel units: Hz for freq).' }),
            },
            { additionalProperties: false, description: 'One frequency band.' },
          ),
          {
            default: [
              { name: 'inter-area', lowHz: 0.1, highHz: 1, thresholdRms: 0.005 },
              { name: 'forced', lowHz: 1, highHz: 15, thresholdRms: 0.005 },
            ],
            description: 'Bands and thresholds (0.1–1 Hz inter-area modes, 1–15 Hz forced and local plant oscillations; the upper edge is capped at half the reporting rate).',
          },
        ),
        ...alarm(2000, 5000),
      },
      { description: 'Oscillation: RMS energy in frequency bands over a sliding span (DFT), dominant frequency and damping.' },
    ),
  },
  { description: 'Anomaly detectors, evaluated on each closed detection window (and per frame for oscillations).' },
);

const AnglePairSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Pair name: the stream of its records (angle/<name>).' }),
    a: Type.Object(
      {
        source: Type.String({ description: 'Source name.' }),
        pmu: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'PMU IDCODE inside the source; the source idcode when absent.' })),
      },
      { additionalProperties: false, description: 'The first bus of the pair.' },
    ),
    b: Type.Object(
      {
        source: Type.String({ description: 'Source name.' }),
        pmu: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'PMU IDCODE inside the source; the source idcode when absent.' })),
      },
      { additionalProperties: false, description: 'The second bus of the pair.' },
    ),
  },
  { additionalProperties: false, description: 'Δθ = wrap(θa − θb) of the positive-sequence voltage angles, and the slip fa − fb.' },
);

export const AnalyticsSchema = Section(
  {
    mode: StringEnum(['workers', 'main-thread', 'off'] as const, {
      default: 'workers',
      description: 'workers: features in worker threads (piscina); main-thread: the same code on the main thread (small sites, debugging); off: raw records only.',
    }),
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'Worker threads; default: CPU cores − 1, at least 1, at most 4.' })),
    batchMs: Type.Number({ minimum: 5, maximum: 1000, default: 50, description: 'Samples cross to the workers in one batch per worker this often, ms.' }),
    workerNice: Type.Integer({
      minimum: 0,
      maximum: 19,
      default: 10,
      description:
        "Nice increment of the worker threads over the gateway's own: on a busy box the thread that reads the devices and publishes runs first, and features wait a little instead (at 100 PMUs: 2 ms off the p99 from frame to Kafka ack). 0: same priority.",
    }),
    maxQueuedSamples: Type.Integer({
      minimum: 100,
      maximum: 10_000_000,
      default: 100_000,
      description: 'Samples (frames) waiting for a busy worker before whenFull applies; 100,000 is about 16 s of 100 PMUs at 60 frames/s.',
    }),
    whenFull: StringEnum(['pause-sources', 'skip-analytics'] as const, {
      default: 'pause-sources',
      description: 'When a worker falls behind by maxQueuedSamples: pause-sources (back-pressure, like a full pipeline) or skip-analytics (drop the batch for features, counted; raw records still flow).',
    }),
    windows: Type.Array(WindowSchema, {
      minItems: 1,
      maxItems: 8,
      default: [{ sizeMs: 100 }, { sizeMs: 200 }, { sizeMs: 1000 }],
      description: 'Window definitions. At least one must be tumbling (no slideMs): the first of those is the detection window of the anomaly flags.',
    }),
    outOfOrdernessMs: Type.Optional(
      Type.Number({ minimum: 0, maximum: 60_000, description: 'Allowed out-of-orderness B (watermark = max event time − B), ms; default 3 reporting periods.' }),
    ),
    allowedLatenessMs: ms('Windows are kept this long after they fire; a later sample re-fires them (revision + 1). Beyond it, samples go to the late topic, ms.', 1000),
    idleTimeoutMs: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 600_000, description: 'A stream silent this long (wall clock) is idle: its windows close on the wall clock and it is flagged stale, ms; default max(1 s, 5 reporting periods + B).' }),
    ),
    anglePairs: Type.Array(AnglePairSchema, { default: [], description: 'Bus pairs whose angle difference is computed and watched.' }),
    detectors: DetectorsSchema,
  },
  { description: 'Windowed features and anomaly flags (docs/analytics.md, docs/windows.md).' },
);

export type AnalyticsConfig = Static<typeof AnalyticsSchema>;

/** What the schema cannot say about the analytics section: each problem with the key at fault. */
export function analyticsProblems(config: AnalyticsConfig, sources: ReadonlySet<string>): { path: (string | number)[]; message: string }[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  const at = (...path: (string | number)[]) => ['analytics', ...path];
  config.windows.forEach((w, i) => {
    if (w.slideMs !== undefined && w.slideMs > w.sizeMs) found.push({ path: at('windows', i, 'slideMs'), message: `slideMs ${w.slideMs} is longer than sizeMs ${w.sizeMs}; a window slides by at most its size` });
  });
  if (config.mode !== 'off' && !config.windows.some((w) => w.slideMs === undefined)) {
    found.push({ path: at('windows'), message: 'needs a tumbling window (an entry without slideMs): the anomaly flags are evaluated on the first one' });
  }
  const names = new Set<string>();
  config.anglePairs.forEach((pair, i) => {
    if (names.has(pair.name)) found.push({ path: at('anglePairs', i, 'name'), message: `"${pair.name}" names another angle pair already` });
    names.add(pair.name);
    for (const side of ['a', 'b'] as const) {
      const source = pair[side].source;
      if (!sources.has(source)) found.push({ path: at('anglePairs', i, side, 'source'), message: `"${source}" is not a configured source` });
    }
    if (pair.a.source === pair.b.source && pair.a.pmu === pair.b.pmu) found.push({ path: at('anglePairs', i, 'b'), message: 'the two buses of a pair are the same PMU' });
  });
  return found;
}
export type DetectorsConfig = AnalyticsConfig['detectors'];

const PhaseNames = (what: string, names: [string, string, string]) =>
  Type.Array(Type.String({ description: 'A phasor name.' }), {
    minItems: 3,
    maxItems: 3,
    default: names,
    description: `Names of the ${what} phasors of phases A, B and C.`,
  });

export const SourceAnalyticsSchema = Section(
  {
    voltageBaseKv: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'Nominal line-to-line voltage, kV: the base of per-unit voltages (sag, swell). Phasors are line-to-neutral.' }),
    ),
    currentBaseA: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Rated current, A: the base of the overcurrent flag.' })),
    voltagePhasors: PhaseNames('voltage', ['VA', 'VB', 'VC']),
    currentPhasors: PhaseNames('current', ['IA', 'IB', 'IC']),
    positiveSequence: Section(
      {
        voltage: Type.String({ default: 'V1', description: 'Name of a reported positive-sequence voltage phasor, used when the three phases are absent.' }),
        current: Type.String({ default: 'I1', description: 'Name of a reported positive-sequence current phasor.' }),
      },
      { description: 'Reported positive-sequence phasors.' },
    ),
  },
  { description: "What this source's channels mean for the analytics: bases and phasor names." },
);

export type SourceAnalytics = Static<typeof SourceAnalyticsSchema>;
