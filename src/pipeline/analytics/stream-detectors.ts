import { Alarm } from '../anomalies/alarm.js';
import { Band } from '../anomalies/band.js';
import { FlatLine } from '../anomalies/flat-line.js';
import { OscillationMonitor } from '../anomalies/oscillation.js';
import { RobustZ } from '../anomalies/robust-z.js';
import { StepChange } from '../anomalies/step.js';
import { SlopeSums } from '../features/slope.js';
import { Quality } from '../../protocols/shared/quality.js';
import type { FireReason } from '../windows/window-store.js';
import { anomalyRecord, NO_DETAIL, type FlagContext, type FlagIdentity, type Severity } from './anomaly-record.js';
import type { DetectorsConfig } from './config.js';
import { finite } from '../record.js';
import type { AnalyticsOutput } from './output.js';
import type { DetectorHooks, StreamAnalytics } from './stream-analytics.js';
import type { StreamWindowAccumulator } from './window-accumulator.js';

// The anomaly flags of one PMU stream, wired from the detector building blocks (../anomalies/) to
// the stream's detection windows. Each flag is a Band or a test in front of an Alarm (pickup,
// dropout), so it gives one raised and one cleared record per episode. Decisions use event time:
// the end of the detection window (or the sample time for oscillations), never the wall clock,
// except `stale`, which is idleness itself.
//
//   detection window closes ─▶ frequency, rocof, voltage, overcurrent, step, outlier, flat line,
//                              gaps, duplicates, clock skew, quality (STAT)
//   samples in time order  ─▶ oscillation (band RMS every hop)
//   idle / resumed         ─▶ stale

/** A MAD floor per unit: about the resolution of such a measurement, so a quiet signal's z stays finite. */
const MAD_FLOOR: Readonly<Record<string, number>> = { Hz: 2e-4, 'Hz/s': 2e-3, V: 1, A: 0.1, W: 1e3, var: 1e3, VA: 1e3, pu: 1e-5, '%': 1e-2, ms: 0.1 };

class Flag {
  readonly alarm: Alarm;
  constructor(
    readonly id: FlagIdentity,
    pickupMs: number,
    dropoutMs: number,
    peak: 'abs' | 'min' | 'max',
  ) {
    this.alarm = new Alarm({ pickupUs: pickupMs * 1000, dropoutUs: dropoutMs * 1000, peak });
  }

  update(tUs: number, active: boolean, value: number, ctx: FlagContext, out: AnalyticsOutput[]): void {
    const t = this.alarm.update(tUs, active, value);
    if (t) out.push(anomalyRecord(this.id, t, value, ctx));
  }
}

export class StreamDetectors implements DetectorHooks {
  readonly #s: StreamAnalytics;
  readonly #c: DetectorsConfig;
  readonly #flag: (kind: string, channel: string, severity: Severity, unit: string, pickupMs: number, dropoutMs: number, peak?: 'abs' | 'min' | 'max') => Flag;
  readonly #ctx: FlagContext = { window: { name: '', startUs: 0, endUs: 0 }, threshold: NaN, quality: 0, ingestUs: 0, detail: NO_DETAIL };
  #windows = 0;

  readonly #freq: { index: number; over: Flag; under: Flag; high: Band; low: Band; step: StepChange; stepFlag: Flag } | undefined;
  readonly #rocof: { spans: SlopeSums[]; next: number; sum: SlopeSums; band: Band; flag: Flag } | undefined;
  readonly #sag: { index: number; band: Band; flag: Flag } | undefined;
  readonly #swell: { index: number; band: Band; flag: Flag } | undefined;
  readonly #overcurrent: { index: number; band: Band; flag: Flag } | undefined;
  readonly #outliers: { index: number; z: RobustZ; band: Band; flag: Flag }[] = [];
  readonly #flat: { index: number; line: FlatLine; flag: Flag }[] = [];
  readonly #gaps: Flag;
  readonly #duplicates: Flag;
  readonly #skew: { index: number; band: Band; flag: Flag };
  readonly #quality: { bit: number; flag: Flag }[];
  readonly #stale: Flag;
  readonly #oscillation: { index: number; monitor: OscillationMonitor; bands: { band: Band; flag: Flag; threshold: number; lowHz: number; highHz: number }[] } | undefined;

  constructor(stream: StreamAnalytics, config: DetectorsConfig) {
    this.#s = stream;
    this.#c = config;
    const d = stream.descriptor;
    const ch = stream.channels;
    this.#flag = (kind, channel, severity, unit, pickupMs, dropoutMs, peak = 'abs') =>
      new Flag({ source: d.source, stream: d.stream, kind, channel, severity, unit }, pickupMs, dropoutMs, peak);
    const detectionUs = stream.settings.specs[stream.settings.detectionSpec]!.sizeUs;

    const f = config.frequency;
    const freq = ch.indexOf('freq');
    if (freq >= 0) {
      this.#freq = {
        index: freq,
        over: this.#flag('over-frequency', 'freq', 'critical', 'Hz', f.pickupMs, f.dropoutMs, 'max'),
        under: this.#flag('under-frequency', 'freq', 'critical', 'Hz', f.pickupMs, f.dropoutMs, 'min'),
        high: new Band({ high: d.fnom + f.maxDeviationHz, hysteresis: f.hysteresisHz }),
        low: new Band({ low: d.fnom - f.maxDeviationHz, hysteresis: f.hysteresisHz }),
        step: new StepChange({ lookbackUs: config.step.lookbackMs * 1000, threshold: config.step.thresholdHz, consecutive: config.step.consecutive, periodUs: detectionUs }),
        stepFlag: this.#flag('frequency-step', 'freq', 'warning', 'Hz', 0, config.step.dropoutMs),
      };
      const r = config.rocof;
      const spans = Math.max(1, Math.round((r.spanMs * 1000) / detectionUs));
      this.#rocof = {
        spans: Array.from({ length: spans }, () => new SlopeSums()),
        next: 0,
        sum: new SlopeSums(),
        band: new Band({ high: r.thresholdHzPerS, low: -r.thresholdHzPerS, hysteresis: r.hysteresisHzPerS }),
        flag: this.#flag('rocof', 'freq', 'critical', 'Hz/s', r.pickupMs, r.dropoutMs),
      };
    }
    const v = config.voltage;
    const vmin = ch.indexOf('pu.Vmin');
    if (vmin >= 0) {
      this.#sag = { index: vmin, band: new Band({ low: v.sagPu, hysteresis: v.hysteresisPu }), flag: this.#flag('voltage-sag', 'pu.Vmin', 'critical', 'pu', v.pickupMs, v.dropoutMs, 'min') };
      const vmax = ch.indexOf('pu.Vmax');
      this.#swell = { index: vmax, band: new Band({ high: v.swellPu, hysteresis: v.hysteresisPu }), flag: this.#flag('voltage-swell', 'pu.Vmax', 'critical', 'pu', v.pickupMs, v.dropoutMs, 'max') };
    }
    const oc = config.overcurrent;
    const imax = ch.indexOf('pu.Imax');
    if (imax >= 0) {
      this.#overcurrent = { index: imax, band: new Band({ high: oc.thresholdPu, hysteresis: oc.hysteresisPu }), flag: this.#flag('overcurrent', 'pu.Imax', 'critical', 'pu', oc.pickupMs, oc.dropoutMs, 'max') };
    }
    const o = config.outlier;
    const baselineCount = Math.max(8, Math.round((o.baselineMs * 1000) / detectionUs));
    for (const name of o.channels) {
      const index = ch.indexOf(name);
      if (index < 0) continue;
      this.#outliers.push({
        index,
        z: new RobustZ({
          baselineCount,
          minBaseline: Math.max(8, Math.floor(baselineCount / 4)),
          recomputeEvery: Math.max(1, Math.round((o.recomputeMs * 1000) / detectionUs)),
          madFloor: MAD_FLOOR[ch.units[index]!] ?? 1e-6,
        }),
        band: new Band({ high: o.thresholdZ, hysteresis: Math.min(1, o.thresholdZ / 4) }),
        flag: this.#flag('outlier', name, 'warning', 'z', o.pickupMs, o.dropoutMs),
      });
    }
    for (let index = 0; index < ch.rawCount; index++) {
      this.#flat.push({
        index,
        line: new FlatLine({ minDurationUs: config.flatLine.minDurationMs * 1000, resolution: config.flatLine.resolution }),
        flag: this.#flag('flat-line', ch.names[index]!, 'warning', ch.units[index]!, 0, 0),
      });
    }
    this.#gaps = this.#flag('frame-gap', '', 'warning', 'frames', config.gaps.pickupMs, config.gaps.dropoutMs);
    this.#duplicates = this.#flag('duplicate-frames', '', 'warning', 'frames', config.gaps.pickupMs, config.gaps.dropoutMs);
    const c = config.clock;
    this.#skew = {
      index: ch.indexOf('timing.arrivalDelayMs'),
      band: new Band({ high: c.maxSkewMs, low: -c.maxSkewMs, hysteresis: c.maxSkewMs / 10 }),
      flag: this.#flag('clock-skew', 'timing.arrivalDelayMs', 'warning', 'ms', c.pickupMs, c.dropoutMs),
    };
    const q = config.quality;
    this.#quality = [
      { bit: Quality.SYNC_LOST, flag: this.#flag('sync-lost', '', 'warning', '', q.pickupMs, q.dropoutMs) },
      { bit: Quality.TIME_UNLOCKED, flag: this.#flag('time-unlocked', '', 'warning', '', q.pickupMs, q.dropoutMs) },
      { bit: Quality.DATA_INVALID, flag: this.#flag('data-invalid', '', 'warning', '', q.pickupMs, q.dropoutMs) },
    ];
    this.#stale = this.#flag('stale', '', 'warning', 'ms', 0, 0);
    const osc = config.oscillation;
    const oscIndex = ch.indexOf(osc.channel);
    if (oscIndex >= 0 && d.periodUs > 0) {
      const fs = 1e6 / d.periodUs;
      const bands = osc.bands.filter((b) => b.lowHz < fs / 2);
      if (bands.length > 0 && osc.windowS * fs >= 16) {
        this.#oscillation = {
          index: oscIndex,
          monitor: new OscillationMonitor({ sampleRateHz: fs, windowS: osc.windowS, hopS: osc.hopS, bands }),
          bands: bands.map((b) => ({
            band: new Band({ high: b.thresholdRms, hysteresis: b.thresholdRms / 5 }),
            flag: this.#flag('oscillation', b.name, 'warning', ch.units[oscIndex]!, osc.pickupMs, osc.dropoutMs),
            threshold: b.thresholdRms,
            lowHz: b.lowHz,
            highHz: Math.min(b.highHz, fs / 2),
          })),
        };
      }
    }
  }

  window(acc: StreamWindowAccumulator, reason: FireReason, out: AnalyticsOutput[]): void {
    const first = this.#windows++ === 0;
    const t = acc.endUs;
    const ctx = this.#ctx;
    ctx.window.name = this.#s.settings.specs[this.#s.settings.detectionSpec]!.name;
    ctx.window.startUs = acc.startUs;
    ctx.window.endUs = acc.endUs;
    ctx.quality = acc.quality;
    ctx.ingestUs = acc.maxIngestUs;
    ctx.detail = NO_DETAIL;
    const stats = acc.stats;

    const fr = this.#freq;
    if (fr) {
      const mean = stats[fr.index]!.mean;
      ctx.threshold = this.#c.frequency.maxDeviationHz + this.#s.descriptor.fnom;
      fr.over.update(t, fr.high.test(mean), mean, ctx, out);
      ctx.threshold = this.#s.descriptor.fnom - this.#c.frequency.maxDeviationHz;
      fr.under.update(t, fr.low.test(mean), mean, ctx, out);
      const stepped = fr.step.update(t, mean);
      ctx.threshold = this.#c.step.thresholdHz;
      ctx.detail = { deltaHz: finite(fr.step.delta), lookbackMs: this.#c.step.lookbackMs };
      fr.stepFlag.update(t, stepped, fr.step.delta, ctx, out);
      ctx.detail = NO_DETAIL;
    }
    const r = this.#rocof;
    if (r) {
      const span = r.spans[r.next]!;
      r.next = (r.next + 1) % r.spans.length;
      span.reset();
      span.merge(acc.freqSlope);
      r.sum.reset();
      for (let i = 0; i < r.spans.length; i++) r.sum.merge(r.spans[(r.next + i) % r.spans.length]!);
      const slope = r.sum.slope();
      ctx.threshold = this.#c.rocof.thresholdHzPerS;
      ctx.detail = { spanMs: this.#c.rocof.spanMs };
      r.flag.update(t, r.band.test(slope), slope, ctx, out);
      ctx.detail = NO_DETAIL;
    }
    for (const b of [this.#sag, this.#swell]) {
      if (!b) continue;
      const value = b === this.#sag ? stats[b.index]!.min : stats[b.index]!.max;
      ctx.threshold = b === this.#sag ? this.#c.voltage.sagPu : this.#c.voltage.swellPu;
      b.flag.update(t, b.band.test(value), value, ctx, out);
    }
    if (this.#overcurrent) {
      const b = this.#overcurrent;
      const value = stats[b.index]!.max;
      ctx.threshold = this.#c.overcurrent.thresholdPu;
      b.flag.update(t, b.band.test(value), value, ctx, out);
    }
    ctx.threshold = this.#c.outlier.thresholdZ;
    for (const o of this.#outliers) {
      const mean = stats[o.index]!.mean;
      const z = o.z.update(mean);
      ctx.detail = { median: finite(o.z.median), mad: finite(o.z.mad), mean: finite(mean) };
      o.flag.update(t, o.band.test(z), z, ctx, out);
    }
    ctx.detail = NO_DETAIL;
    ctx.threshold = this.#c.flatLine.resolution;
    for (const fl of this.#flat) {
      const s = stats[fl.index]!;
      const flat = fl.line.update(t, s.min, s.max, s.count);
      ctx.detail = { durationMs: fl.line.durationUs / 1000 };
      fl.flag.update(t, flat, s.last, ctx, out);
    }
    ctx.detail = NO_DETAIL;
    // A partial window (the first of a stream, one closed by idleness or a stop) is not a gap.
    if (!first && reason === 'watermark' && acc.expected > 0) {
      const missing = Math.max(0, acc.expected - acc.filled);
      ctx.threshold = 0;
      this.#gaps.update(t, missing > 0, missing, ctx, out);
      this.#duplicates.update(t, acc.duplicates > 0, acc.duplicates, ctx, out);
    }
    const skew = stats[this.#skew.index]!.mean;
    ctx.threshold = this.#c.clock.maxSkewMs;
    this.#skew.flag.update(t, this.#skew.band.test(skew), skew, ctx, out);
    ctx.threshold = NaN;
    for (const q of this.#quality) q.flag.update(t, (acc.quality & q.bit) !== 0, NaN, ctx, out);
  }

  sample(eventUs: number, values: Float64Array, out: AnalyticsOutput[]): void {
    const o = this.#oscillation;
    if (!o) return;
    const result = o.monitor.add(eventUs, values[o.index]!);
    if (!result) return;
    const ctx = this.#ctx;
    // The analysed span ends with the newest sample; its records say so in `window`.
    ctx.window.name = `${this.#c.oscillation.windowS}s`;
    ctx.window.startUs = result.atUs - this.#c.oscillation.windowS * 1e6;
    ctx.window.endUs = result.atUs;
    ctx.ingestUs = this.#s.clock.lastIngestUs;
    ctx.quality = 0;
    for (let i = 0; i < o.bands.length; i++) {
      const b = o.bands[i]!;
      const r = result.bands[i]!;
      ctx.threshold = b.threshold;
      ctx.detail = { lowHz: b.lowHz, highHz: b.highHz, dominantHz: finite(r.dominantHz), dampingRatio: finite(r.dampingRatio) };
      b.flag.update(result.atUs, b.band.test(r.rmsAmplitude), r.rmsAmplitude, ctx, out);
    }
    ctx.detail = NO_DETAIL;
  }

  idle(atUs: number, out: AnalyticsOutput[]): void {
    // A SCADA tag publishes on change: silence is normal, and the source reports staleness itself.
    if (this.#s.descriptor.kind === 'scada') return;
    this.#idleCtx(atUs);
    this.#stale.update(atUs, true, NaN, this.#ctx, out);
  }

  resumed(atUs: number, ingestUs: number, out: AnalyticsOutput[]): void {
    if (this.#s.descriptor.kind === 'scada') return;
    this.#idleCtx(atUs, ingestUs);
    this.#stale.update(atUs, false, NaN, this.#ctx, out);
  }

  #idleCtx(atUs: number, ingestUs = this.#s.clock.lastIngestUs): void {
    const ctx = this.#ctx;
    ctx.window.name = '';
    ctx.window.startUs = ctx.window.endUs = atUs;
    ctx.threshold = this.#s.settings.idleTimeoutUs / 1000;
    ctx.quality = Quality.STALE;
    ctx.ingestUs = ingestUs;
    ctx.detail = NO_DETAIL;
  }
}
