import type { AnalyticsBatch } from './engine.js';
import { ROW_HEADER, type StreamDescriptor } from './stream-descriptor.js';

// The main thread's side of a batch: sample rows appended into one growing Float64Array per
// worker, handed over (transferred, not copied) every batchMs. A fresh buffer per batch is the one
// allocation, 20 a second per worker at the default 50 ms.

const INITIAL_VALUES = 16_384;

export class BatchBuilder {
  #rows = new Float64Array(INITIAL_VALUES);
  #length = 0;
  #count = 0;
  #describe: StreamDescriptor[] = [];

  get rowCount(): number {
    return this.#count;
  }

  describe(d: StreamDescriptor): void {
    this.#describe.push(d);
  }

  /** The buffer rows are written into; valid until the next row() or take(). */
  get buffer(): Float64Array {
    return this.#rows;
  }

  /** Reserve a row for n values; returns the offset of value 0 in `buffer`. */
  row(slot: number, eventUs: number, ingestUs: number, quality: number, n: number): number {
    const need = this.#length + ROW_HEADER + n;
    if (need > this.#rows.length) {
      const bigger = new Float64Array(Math.max(need, this.#rows.length * 2));
      bigger.set(this.#rows.subarray(0, this.#length));
      this.#rows = bigger;
    }
    const rows = this.#rows;
    const at = this.#length;
    rows[at] = slot;
    rows[at + 1] = eventUs;
    rows[at + 2] = ingestUs;
    rows[at + 3] = quality;
    this.#length = need;
    this.#count++;
    return at + ROW_HEADER;
  }

  /** The batch so far; the builder starts over with a fresh buffer. */
  take(nowUs: number): AnalyticsBatch {
    const batch: AnalyticsBatch = { nowUs, describe: this.#describe, rows: this.#rows, rowCount: this.#count };
    this.#rows = new Float64Array(Math.max(INITIAL_VALUES, this.#length));
    this.#length = 0;
    this.#count = 0;
    this.#describe = [];
    return batch;
  }
}
