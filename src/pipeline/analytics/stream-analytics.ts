import { EventClock } from '../windows/event-clock.js';
import { WindowStore, type FireReason, type OnFire, type OpenWindow } from '../windows/window-store.js';
import type { WindowSpec } from '../windows/window-spec.js';
import { FeatureRecordWriter } from './feature-record.js';
import { finite } from '../record.js';
import type { AnalyticsOutput } from './output.js';
import { PmuChannels } from './pmu-channels.js';
import type { StreamDescriptor } from './stream-descriptor.js';
import { StreamWindowAccumulator } from './window-accumulator.js';

// One stream's event-time analytics: its clock (watermark), one window store per window spec, the
// channel map, and the hooks the detectors hang on. Everything here runs in exactly one worker
// (stream affinity) and depends only on the order of the samples, so a replay is byte-identical.
//
// Per sample:  late check against W → add to its windows (late updates re-fire) → W moves →
//              windows the watermark passed fire → expired windows are freed → detectors see each
//              first result of the detection window.

export interface EventTimeSettings {
  specs: readonly WindowSpec[];
  /** Index in specs of the detection window (tumbling). */
  detectionSpec: number;
  outOfOrdernessUs: number;
  allowedLatenessUs: number;
  idleTimeoutUs: number;
}

/** What the detectors see of a stream (src/pipeline/analytics/stream-detectors.ts). */
export interface DetectorHooks {
  /** A detection window closed for the first time (revision 0), in window order. */
  window(acc: StreamWindowAccumulator, reason: FireReason, out: AnalyticsOutput[]): void;
  /** Samples in event-time order, released once the watermark has passed them. */
  sample(eventUs: number, values: Float64Array, out: AnalyticsOutput[]): void;
  /** The stream went idle (stale) or came back. */
  idle(atUs: number, out: AnalyticsOutput[]): void;
  resumed(atUs: number, ingestUs: number, out: AnalyticsOutput[]): void;
}

export class StreamAnalytics {
  readonly channels: PmuChannels;
  readonly clock: EventClock;
  readonly #stores: WindowStore<StreamWindowAccumulator>[];
  /** One firing callback per store, bound to its spec index. */
  readonly #fire: OnFire<StreamWindowAccumulator>[];
  readonly #writer: FeatureRecordWriter;
  readonly #into: OpenWindow<StreamWindowAccumulator>[] = [];
  readonly #late: string[] = [];
  #out: AnalyticsOutput[] = [];
  /** Ingest time of the sample (or the wall clock of the tick) now being processed. */
  #trigger: number | undefined;
  #hooks: DetectorHooks | undefined;
  /** Samples waiting for the watermark, in event-time order (copies, recycled through #spare). */
  readonly #pending: { eventUs: number; values: Float64Array }[] = [];
  readonly #spare: { eventUs: number; values: Float64Array }[] = [];
  /** Time base of the frequency slopes, µs: the first sample's second (slopes of any window merge). */
  #slopeBaseUs = NaN;
  /** Called after each sample's channels are computed (angle pairs read them). */
  readonly sampleListeners: ((eventUs: number, ingestUs: number, quality: number, out: AnalyticsOutput[]) => void)[] = [];
  /** Counters for the worker's metrics. */
  lateSamples = 0;
  samples = 0;

  constructor(
    readonly descriptor: StreamDescriptor,
    readonly settings: EventTimeSettings,
  ) {
    this.channels = new PmuChannels(descriptor);
    this.clock = new EventClock(settings.outOfOrdernessUs);
    const freq = this.channels.freq;
    const n = this.channels.names.length;
    this.#stores = settings.specs.map(
      (spec) =>
        new WindowStore(spec, settings.allowedLatenessUs, () => {
          const expected = descriptor.periodUs > 0 ? Math.round(spec.sizeUs / descriptor.periodUs) : 0;
          return new StreamWindowAccumulator(n, freq, descriptor.periodUs, expected);
        }),
    );
    this.#fire = this.#stores.map((_, i) => (w, revision, reason) => this.#fired(i, w, revision, reason));
    this.#writer = new FeatureRecordWriter(descriptor, this.channels.names, this.channels.units);
  }

  attach(hooks: DetectorHooks): void {
    this.#hooks = hooks;
  }

  add(row: Float64Array, base: number, eventUs: number, ingestUs: number, quality: number, out: AnalyticsOutput[]): void {
    this.#out = out;
    this.#trigger = ingestUs;
    this.samples++;
    if (this.clock.idle) this.#hooks?.resumed(eventUs, ingestUs, out);
    const values = this.channels.compute(row, base, eventUs, ingestUs);
    for (const listener of this.sampleListeners) listener(eventUs, ingestUs, quality, out);
    if (Number.isNaN(this.#slopeBaseUs)) this.#slopeBaseUs = Math.floor(eventUs / 1e6) * 1e6;
    const slopeS = (eventUs - this.#slopeBaseUs) / 1e6;
    const w0 = this.clock.watermarkUs;
    this.#late.length = 0;
    for (let i = 0; i < this.#stores.length; i++) {
      const store = this.#stores[i]!;
      store.assign(eventUs, w0, this.#into);
      if (this.#into.length === 0) this.#late.push(store.spec.name);
      for (const w of this.#into) {
        w.acc.add(values, eventUs, ingestUs, quality, slopeS);
        store.added(w, w0, this.#fire[i]!);
      }
    }
    if (this.#late.length > 0) out.push(this.#lateRecord(row, base, eventUs, ingestUs, quality, w0));
    if (eventUs > w0) this.#hold(eventUs, values);
    const w1 = this.clock.observe(eventUs, ingestUs);
    if (w1 > w0) this.#advance(w1, 'watermark');
  }

  /** Wall-clock idleness: close windows of a stream that went silent. */
  tick(nowUs: number, out: AnalyticsOutput[]): void {
    this.#out = out;
    this.#trigger = nowUs;
    const { moved, becameIdle } = this.clock.idleAdvance(nowUs, this.settings.idleTimeoutUs);
    if (becameIdle) this.#hooks?.idle(this.clock.maxUs, out);
    if (moved) this.#advance(this.clock.watermarkUs, 'idle');
  }

  /** Stop: every open window fires, marked shutdown. */
  flush(out: AnalyticsOutput[]): void {
    this.#out = out;
    this.#trigger = undefined;
    this.#stores.forEach((store, i) => store.flush(this.#fire[i]!));
  }

  #advance(watermarkUs: number, reason: 'watermark' | 'idle'): void {
    this.#release(watermarkUs);
    this.#stores.forEach((store, i) => store.advance(watermarkUs, reason, this.#fire[i]!));
  }

  #fired(spec: number, w: OpenWindow<StreamWindowAccumulator>, revision: number, reason: FireReason): void {
    const out = this.#out;
    const record = this.#writer.write(this.#stores[spec]!.spec, w.acc, revision, reason);
    if (this.#trigger !== undefined) record.firedByIngestUs = this.#trigger;
    out.push(record);
    if (spec === this.settings.detectionSpec && revision === 0) this.#hooks?.window(w.acc, reason, out);
  }

  /** Keep a copy of the sample until the watermark passes it (ordered release for detectors). */
  #hold(eventUs: number, values: Float64Array): void {
    if (!this.#hooks) return;
    const copy = this.#spare.pop() ?? { eventUs: 0, values: new Float64Array(values.length) };
    copy.eventUs = eventUs;
    copy.values.set(values);
    const p = this.#pending;
    let i = p.length;
    while (i > 0 && p[i - 1]!.eventUs > eventUs) i--;
    p.splice(i, 0, copy);
  }

  #release(watermarkUs: number): void {
    const p = this.#pending;
    let n = 0;
    while (n < p.length && p[n]!.eventUs <= watermarkUs) {
      const s = p[n++]!;
      this.#hooks?.sample(s.eventUs, s.values, this.#out);
    }
    if (n > 0) this.#spare.push(...p.splice(0, n));
  }

  #lateRecord(row: Float64Array, base: number, eventUs: number, ingestUs: number, quality: number, watermarkUs: number): AnalyticsOutput {
    this.lateSamples++;
    const d = this.descriptor;
    const values: Record<string, number | null> = {};
    for (let k = 0; k < d.channels.length; k++) values[d.channels[k]!] = finite(row[base + k]!);
    return {
      kind: 'late-sample',
      source: d.source,
      stream: d.stream,
      eventTimeUs: eventUs,
      ingestTimeUs: ingestUs,
      quality,
      body: { windows: [...this.#late], watermark: watermarkUs, lateByUs: watermarkUs - eventUs, allowedLatenessMs: this.settings.allowedLatenessUs / 1000, values },
    };
  }
}
