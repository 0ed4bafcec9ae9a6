import type { FireReason } from '../windows/window-store.js';
import type { WindowSpec } from '../windows/window-spec.js';
import type { ChannelSummary } from '../features/channel-stats.js';
import type { FeatureWindowBody } from '../encoding/feature-window-avro.js';
import { finite } from '../record.js';
import type { AnalyticsOutput } from './output.js';
import type { StreamWindowAccumulator } from './window-accumulator.js';

// One `feature-window` record (schemas/feature-window.avsc): a window's statistics of every
// channel plus the window-level features. Its event time is the last instant inside the window
// (end − 1 µs, Flink's window.maxTimestamp()); consumers upsert on (key, window.name, window.start)
// and keep the highest revision.

export interface StreamIdentity {
  source: string;
  stream: string;
  fnom: number;
}

export class FeatureRecordWriter {
  readonly #names: readonly string[];
  readonly #units: readonly string[];
  readonly #p: number;
  readonly #q: number;

  constructor(
    private readonly id: StreamIdentity,
    names: readonly string[],
    units: readonly string[],
  ) {
    this.#names = names;
    this.#units = units;
    this.#p = names.indexOf('power.P');
    this.#q = names.indexOf('power.Q');
  }

  write(spec: WindowSpec, acc: StreamWindowAccumulator, revision: number, reason: FireReason): AnalyticsOutput {
    const expected = acc.expected;
    const missing = Math.max(0, expected - acc.filled);
    let pf = NaN;
    if (this.#p >= 0) {
      const p = acc.stats[this.#p]!.mean;
      const q = acc.stats[this.#q]!.mean;
      pf = p / Math.hypot(p, q);
    }
    const channels: Record<string, ChannelSummary> = {};
    for (let k = 0; k < this.#names.length; k++) channels[this.#names[k]!] = acc.stats[k]!.summary(this.#units[k]!);
    const body: FeatureWindowBody = {
      window: { name: spec.name, start: acc.startUs, end: acc.endUs, sizeMs: spec.sizeUs / 1000, slideMs: spec.slideUs / 1000 },
      revision,
      closedBy: reason,
      complete: missing === 0,
      samples: acc.samples,
      expected,
      missing,
      duplicates: acc.duplicates,
      completeness: finite(expected > 0 ? Math.min(1, acc.filled / expected) : NaN),
      fnom: this.id.fnom,
      rocofDerived: finite(acc.freqSlope.slope()),
      powerFactor: finite(pf),
      channels,
    };
    return {
      kind: 'feature-window',
      source: this.id.source,
      stream: this.id.stream,
      eventTimeUs: acc.endUs - 1,
      ingestTimeUs: acc.maxIngestUs,
      quality: acc.quality,
      body,
    };
  }
}
