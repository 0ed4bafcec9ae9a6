import { ChannelStats } from '../features/channel-stats.js';
import { SlopeSums } from '../features/slope.js';
import type { WindowAccumulator } from '../windows/window-store.js';

// Everything one window of one stream collects: statistics of every channel, the least-squares
// slope of the frequency (derived ROCOF), the union of the samples' quality flags, and which
// reporting slots were filled, so gaps and duplicate time stamps are counted exactly.

const MAX_SLOTS = 1 << 16;

export class StreamWindowAccumulator implements WindowAccumulator {
  readonly stats: ChannelStats[];
  readonly freqSlope = new SlopeSums();
  startUs = 0;
  endUs = 0;
  /** Samples added, duplicates included. */
  samples = 0;
  /** Samples whose reporting slot was already filled (the same time stamp twice). */
  duplicates = 0;
  /** Distinct reporting slots filled. */
  filled = 0;
  quality = 0;
  /** Latest ingest time of a sample in the window: the feature record's ingestTime. */
  maxIngestUs = 0;
  readonly #slots: Uint8Array;

  constructor(
    channels: number,
    private readonly freqIndex: number,
    private readonly periodUs: number,
    readonly expected: number,
  ) {
    this.stats = Array.from({ length: channels }, () => new ChannelStats());
    this.#slots = new Uint8Array(Math.min(MAX_SLOTS, Math.max(1, expected)));
  }

  reset(startUs: number, endUs: number): void {
    this.startUs = startUs;
    this.endUs = endUs;
    for (const s of this.stats) s.reset();
    this.freqSlope.reset();
    this.samples = this.duplicates = this.filled = this.quality = this.maxIngestUs = 0;
    this.#slots.fill(0);
  }

  /** `slopeS`: the sample's time in seconds from a base fixed per stream (precision: see slope.ts). */
  add(values: Float64Array, eventUs: number, ingestUs: number, quality: number, slopeS: number): void {
    const stats = this.stats;
    for (let k = 0; k < stats.length; k++) stats[k]!.add(values[k]!);
    if (this.freqIndex >= 0) this.freqSlope.add(slopeS, values[this.freqIndex]!);
    this.samples++;
    this.quality |= quality;
    if (ingestUs > this.maxIngestUs) this.maxIngestUs = ingestUs;
    const slot = Math.round((eventUs - this.startUs) / this.periodUs);
    if (slot >= 0 && slot < this.#slots.length) {
      if (this.#slots[slot]) this.duplicates++;
      else {
        this.#slots[slot] = 1;
        this.filled++;
      }
    } else this.filled++;
  }
}
