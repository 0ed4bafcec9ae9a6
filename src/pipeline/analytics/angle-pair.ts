import { Alarm } from '../anomalies/alarm.js';
import { Band } from '../anomalies/band.js';
import { wrapDeg } from '../features/phasor-math.js';
import { Quality } from '../../protocols/shared/quality.js';
import type { FireReason } from '../windows/window-store.js';
import { finite } from '../record.js';
import { anomalyRecord, NO_DETAIL, type FlagContext } from './anomaly-record.js';
import type { AnalyticsConfig, SourceAnalytics } from './config.js';
import type { AnalyticsOutput } from './output.js';
import { StreamAnalytics, type DetectorHooks, type EventTimeSettings } from './stream-analytics.js';
import type { StreamDescriptor } from './stream-descriptor.js';
import type { StreamWindowAccumulator } from './window-accumulator.js';

// A bus pair: Δθ = wrap(θa − θb) of the positive-sequence voltage angles, in degrees, and the slip
// fa − fb, for frames of both PMUs with the same time stamp (PMUs report on the same UTC grid).
// The pair is a stream of its own, `angle/<name>`, with its own watermark: a pair sample exists
// only once both sides have it, so the pair's event time follows the slower PMU (min(Wa, Wb) in
// the notes). Angles are meaningful only between time-locked PMUs: a sample with sync lost or time
// unlocked on either side gives NaN (not counted) and carries the quality flags.
//
//   side a sample ─┐                  ┌─▶ windows + statistics (angle.difference, angle.slip)
//                  ├─ match on time ──┤
//   side b sample ─┘                  └─▶ angle-difference flag (|mean Δθ| of the detection window)

export interface ResolvedPair {
  name: string;
  /** Keys (site/source/stream) of the two buses. */
  a: string;
  b: string;
  /** The record's source: bus a's. */
  source: string;
}

/** The configured pairs with their buses as stream keys (`pmu` defaults to the source's IDCODE). */
export function resolvePairs(site: string, pairs: AnalyticsConfig['anglePairs'], idcodeOf: (source: string) => number | undefined): ResolvedPair[] {
  const key = (bus: { source: string; pmu?: number | undefined }): string => `${site}/${bus.source}/${bus.pmu ?? idcodeOf(bus.source)}`;
  return pairs.map((p) => ({ name: p.name, a: key(p.a), b: key(p.b), source: p.a.source }));
}

/**
 * Unmatched samples kept per side (17 s at 60 frames/s): a frame the other PMU never sent stays
 * until it is the oldest of this many, then it is dropped and counted.
 */
const MAX_PENDING = 1024;
const NOT_LOCKED = Quality.SYNC_LOST | Quality.TIME_UNLOCKED | Quality.CLOCK_FAILURE;
const RAD_TO_DEG = 180 / Math.PI;

interface Side {
  stream: StreamAnalytics | undefined;
  /** eventUs → [angle rad, freq Hz, quality, ingestUs] of samples the other side has not matched. */
  pending: Map<number, [number, number, number, number]>;
}

export class AnglePair {
  readonly #a: Side = { stream: undefined, pending: new Map() };
  readonly #b: Side = { stream: undefined, pending: new Map() };
  #stream: StreamAnalytics | undefined;
  readonly #row = new Float64Array(2);
  unmatched = 0;

  constructor(
    readonly pair: ResolvedPair,
    private readonly config: AnalyticsConfig,
    private readonly settingsFor: (periodUs: number) => EventTimeSettings,
  ) {}

  /** A stream of one of the buses appeared (or was reshaped). */
  attach(stream: StreamAnalytics): void {
    const side = stream.descriptor.key === this.pair.a ? this.#a : this.#b;
    side.stream = stream;
    side.pending.clear();
    if (side === this.#a) this.#stream ??= this.#create(stream.descriptor);
    stream.sampleListeners.push((eventUs, ingestUs, quality, out) => this.#sample(side, eventUs, ingestUs, quality, out));
  }

  get stream(): StreamAnalytics | undefined {
    return this.#stream;
  }

  #create(a: StreamDescriptor): StreamAnalytics {
    const settings: SourceAnalytics = { ...a.settings, voltageBaseKv: undefined, currentBaseA: undefined };
    const descriptor: StreamDescriptor = {
      slot: -1,
      key: `${a.key.slice(0, a.key.length - a.stream.length)}angle/${this.pair.name}`,
      source: this.pair.source,
      stream: `angle/${this.pair.name}`,
      kind: 'pmu',
      channels: ['angle.difference', 'angle.slip'],
      units: ['deg', 'Hz'],
      periodUs: a.periodUs,
      fnom: a.fnom,
      settings,
    };
    const stream = new StreamAnalytics(descriptor, this.settingsFor(a.periodUs));
    stream.attach(new AngleDetectors(stream, this.config));
    return stream;
  }

  /** A sample of one side; `out` receives the pair's records. */
  #sample(side: Side, eventUs: number, ingestUs: number, quality: number, out: AnalyticsOutput[]): void {
    const s = side.stream!;
    const angle = s.channels.lastV1AngleRad;
    const freq = s.channels.freq >= 0 ? s.channels.values[s.channels.freq]! : NaN;
    const other = side === this.#a ? this.#b : this.#a;
    const match = other.pending.get(eventUs);
    if (!match) {
      if (side.pending.size >= MAX_PENDING) {
        side.pending.delete(side.pending.keys().next().value!);
        this.unmatched++;
      }
      side.pending.set(eventUs, [angle, freq, quality, ingestUs]);
      return;
    }
    other.pending.delete(eventUs);
    const [angleB0, freqB0, qualityB, ingestB] = match;
    const [ta, fa, tb, fb] = side === this.#a ? [angle, freq, angleB0, freqB0] : [angleB0, freqB0, angle, freq];
    const q = quality | qualityB;
    const locked = (q & NOT_LOCKED) === 0;
    this.#row[0] = locked ? wrapDeg((ta - tb) * RAD_TO_DEG) : NaN;
    this.#row[1] = fa - fb;
    this.#stream?.add(this.#row, 0, eventUs, Math.max(ingestUs, ingestB), q, out);
  }
}

/** The angle-difference flag on the pair's detection windows. */
class AngleDetectors implements DetectorHooks {
  readonly #alarm: Alarm;
  readonly #band: Band;
  readonly #ctx: FlagContext = { window: { name: '', startUs: 0, endUs: 0 }, threshold: NaN, quality: 0, ingestUs: 0, detail: NO_DETAIL };

  constructor(
    private readonly stream: StreamAnalytics,
    private readonly config: AnalyticsConfig,
  ) {
    const a = config.detectors.angle;
    this.#alarm = new Alarm({ pickupUs: a.pickupMs * 1000, dropoutUs: a.dropoutMs * 1000 });
    this.#band = new Band({ high: a.maxDifferenceDeg, low: -a.maxDifferenceDeg, hysteresis: a.hysteresisDeg });
  }

  window(acc: StreamWindowAccumulator, _reason: FireReason, out: AnalyticsOutput[]): void {
    const mean = acc.stats[0]!.mean;
    const t = this.#alarm.update(acc.endUs, this.#band.test(mean), mean);
    if (!t) return;
    const d = this.stream.descriptor;
    const ctx = this.#ctx;
    const spec = this.stream.settings.specs[this.stream.settings.detectionSpec]!;
    ctx.window = { name: spec.name, startUs: acc.startUs, endUs: acc.endUs };
    ctx.threshold = this.config.detectors.angle.maxDifferenceDeg;
    ctx.quality = acc.quality;
    ctx.ingestUs = acc.maxIngestUs;
    ctx.detail = { slipHz: finite(acc.stats[1]!.mean) };
    out.push(anomalyRecord({ source: d.source, stream: d.stream, kind: 'angle-difference', channel: 'angle.difference', severity: 'critical', unit: 'deg' }, t, mean, ctx));
  }

  sample(): void {}
  idle(): void {}
  resumed(): void {}
}
