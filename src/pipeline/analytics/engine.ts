import { recordEncoder, type RecordEncoder, type RecordEncoding } from '../encoding/record-encoding.js';
import type { AnalyticsConfig } from './config.js';
import type { AnalyticsOutput } from './output.js';
import { StreamAnalytics, type EventTimeSettings } from './stream-analytics.js';
import { ROW_HEADER, type StreamDescriptor } from './stream-descriptor.js';
import { StreamDetectors } from './stream-detectors.js';
import { windowSpec } from '../windows/window-spec.js';
import { AnglePair, type ResolvedPair } from './angle-pair.js';

// The analytics of the streams one worker owns: the same class runs inside each worker thread
// (worker.ts) and, for analytics.mode main-thread and the benchmark's reference, on the main
// thread. It takes batches of sample rows (stream-descriptor.ts) and returns the records they
// produce; it never throws on input: a row it cannot use is counted and skipped.

export interface AnalyticsBatch {
  /** The main thread's wall clock when the batch left, µs: drives idleness. */
  nowUs: number;
  /** Streams first seen (or reshaped) since the previous batch to this worker. */
  describe: StreamDescriptor[];
  /** Sample rows, `rowCount` of them; the buffer is transferred, not copied. */
  rows: Float64Array;
  rowCount: number;
  /** Stop: fire every open window (shutdown) after the rows. */
  flush?: boolean;
}

export interface AnalyticsResult {
  outputs: AnalyticsOutput[];
  /** Raw channel values processed (the benchmark's channel-samples). */
  channelSamples: number;
  lateSamples: number;
  /** Rows that could not be used: a stream the worker was not told about, or a time that is not a number. */
  unusableRows: number;
  /** Wall-clock time spent on this batch in the worker, µs. */
  busyUs: number;
  /** The worker thread's V8 heap after the batch (worker.ts; absent on the main thread). */
  heap?: { usedBytes: number; totalBytes: number };
}

/** The event-time settings of one stream, from the site config and the stream's reporting period. */
export function eventTimeSettings(config: AnalyticsConfig, periodUs: number): EventTimeSettings {
  const specs = config.windows.map((w) => windowSpec(w.sizeMs, w.slideMs));
  const detection = config.windows.findIndex((w) => w.slideMs === undefined); // the schema requires one
  // Whole microseconds: watermarks and lateness are integers in the records.
  const outOfOrdernessUs = Math.round(config.outOfOrdernessMs === undefined ? 3 * periodUs : config.outOfOrdernessMs * 1000);
  const idleTimeoutUs = Math.round(config.idleTimeoutMs === undefined ? Math.max(1_000_000, 5 * periodUs + outOfOrdernessUs) : config.idleTimeoutMs * 1000);
  return { specs, detectionSpec: detection, outOfOrdernessUs, allowedLatenessUs: Math.round(config.allowedLatenessMs * 1000), idleTimeoutUs };
}

export class AnalyticsEngine {
  readonly #bySlot = new Map<number, StreamAnalytics>();
  /** The current stream of each key: a reshaped stream replaces its predecessor. */
  readonly #byKey = new Map<string, StreamAnalytics>();
  /** Angle pairs by the key of each of their buses. */
  readonly #pairsByBus = new Map<string, AnglePair[]>();
  readonly #pairs: AnglePair[];

  readonly #encoder: RecordEncoder;

  constructor(
    private readonly config: AnalyticsConfig,
    pairs: readonly ResolvedPair[] = [],
    encoding: RecordEncoding = 'json',
  ) {
    this.#encoder = recordEncoder(encoding);
    this.#pairs = pairs.map((p) => new AnglePair(p, config, (periodUs) => eventTimeSettings(config, periodUs)));
    for (const pair of this.#pairs) {
      for (const bus of [pair.pair.a, pair.pair.b]) this.#pairsByBus.set(bus, [...(this.#pairsByBus.get(bus) ?? []), pair]);
    }
  }

  get streams(): number {
    return this.#byKey.size;
  }

  process(batch: AnalyticsBatch): AnalyticsResult {
    const started = performance.now();
    const outputs: AnalyticsOutput[] = [];
    for (const d of batch.describe) this.#describe(d, outputs);
    const rows = batch.rows;
    let channelSamples = 0;
    let lateSamples = 0;
    let unusableRows = 0;
    let at = 0;
    for (let r = 0; r < batch.rowCount; r++) {
      const slot = rows[at]!;
      const stream = this.#bySlot.get(slot);
      if (!stream) {
        // Without its descriptor the row's length is unknown: nothing after it can be read.
        unusableRows += batch.rowCount - r;
        break;
      }
      const n = stream.descriptor.channels.length;
      const eventUs = rows[at + 1]!;
      const ingestUs = rows[at + 2]!;
      // A time that is not a number has no window and no place in event time.
      if (Number.isFinite(eventUs) && Number.isFinite(ingestUs)) {
        const late = stream.lateSamples;
        stream.add(rows, at + ROW_HEADER, eventUs, ingestUs, rows[at + 3]!, outputs);
        lateSamples += stream.lateSamples - late;
        channelSamples += n;
      } else unusableRows++;
      at += ROW_HEADER + n;
    }
    const streams = [...this.#byKey.values(), ...this.#pairs.flatMap((p) => (p.stream ? [p.stream] : []))];
    for (const stream of streams) stream.tick(batch.nowUs, outputs);
    if (batch.flush) for (const stream of streams) stream.flush(outputs);
    // Encoded here, in the worker: only text or bytes cross to the main thread, not object graphs.
    for (const o of outputs) {
      try {
        o.encodedBody = this.#encoder.body(o.kind, o.body!);
      } catch {
        // Its schema cannot take it (a bug): JSON, which the main thread sends labelled as such.
        o.encodedBody = JSON.stringify(o.body);
      }
      o.body = undefined;
    }
    return { outputs, channelSamples, lateSamples, unusableRows, busyUs: Math.round((performance.now() - started) * 1000) };
  }

  #describe(d: StreamDescriptor, outputs: AnalyticsOutput[]): void {
    const previous = this.#byKey.get(d.key);
    if (previous) {
      // A new configuration: the old shape's open windows close now (shutdown of that shape).
      previous.flush(outputs);
      this.#bySlot.delete(previous.descriptor.slot);
    }
    const stream = new StreamAnalytics(d, eventTimeSettings(this.config, d.periodUs));
    stream.attach(new StreamDetectors(stream, this.config.detectors));
    this.#bySlot.set(d.slot, stream);
    this.#byKey.set(d.key, stream);
    for (const pair of this.#pairsByBus.get(d.key) ?? []) pair.attach(stream);
  }
}
