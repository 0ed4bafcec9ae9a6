import type { FireReason } from '../windows/window-store.js';
import type { WindowSpec } from '../windows/window-spec.js';
import { num, type AnalyticsOutput } from './output.js';
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
  /** `"<name>":{"unit":"<unit>",` per channel, built once. */
  readonly #prefixes: string[];
  readonly #p: number;
  readonly #q: number;

  constructor(
    private readonly id: StreamIdentity,
    names: readonly string[],
    units: readonly string[],
  ) {
    this.#prefixes = names.map((n, i) => `${JSON.stringify(n)}:{"unit":${JSON.stringify(units[i])},`);
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
    let channels = '';
    for (let k = 0; k < this.#prefixes.length; k++) {
      if (k > 0) channels += ',';
      channels += this.#prefixes[k] + acc.stats[k]!.writeJson().slice(1);
    }
    const body =
      `{"window":{"name":${JSON.stringify(spec.name)},"start":${acc.startUs},"end":${acc.endUs},` +
      `"sizeMs":${spec.sizeUs / 1000},"slideMs":${spec.slideUs / 1000}},` +
      `"revision":${revision},"closedBy":"${reason}","complete":${missing === 0},` +
      `"samples":${acc.samples},"expected":${expected},"missing":${missing},"duplicates":${acc.duplicates},` +
      `"completeness":${num(expected > 0 ? Math.min(1, acc.filled / expected) : NaN)},` +
      `"fnom":${this.id.fnom},"rocofDerived":${num(acc.freqSlope.slope())},"powerFactor":${num(pf)},` +
      `"channels":{${channels}}}`;
    return {
      kind: 'feature-window',
      source: this.id.source,
      stream: this.id.stream,
      eventTimeUs: acc.endUs - 1,
      ingestTimeUs: acc.maxIngestUs,
      quality: acc.quality,
      bodyJson: body,
    };
  }
}
