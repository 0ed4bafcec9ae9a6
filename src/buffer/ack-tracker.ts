// The acknowledged prefix. Delivery reports arrive out of order (several partitions, retries), so
// acknowledgements above the prefix wait in a set until the gap below them closes. Ids the spool
// knows it cannot deliver (a corrupt record skipped, records dropped when full) are settled as
// lost ranges, so that a gap never stalls the prefix. Only the prefix is persisted (ledger.ts):
// after a crash, records acknowledged out of order above it are delivered again (duplicates,
// identifiable by their seq), never lost.

export class AckTracker {
  #through: number;
  readonly #above = new Set<number>();
  /** Settled ranges above the prefix, [from, to] inclusive, kept sorted by `from`. */
  #ranges: [number, number][] = [];

  constructor(ackedThrough: number) {
    this.#through = ackedThrough;
  }

  /** Every id ≤ this is settled (acknowledged, or lost and counted). */
  get ackedThrough(): number {
    return this.#through;
  }

  /** Acknowledgements waiting above the prefix. */
  get pending(): number {
    return this.#above.size;
  }

  /** Acknowledged, or settled as lost. */
  isAcked(id: number): boolean {
    return id <= this.#through || this.#above.has(id) || this.#ranges.some(([from, to]) => from <= id && id <= to);
  }

  /** Returns true when the prefix moved. */
  ack(id: number): boolean {
    if (id <= this.#through) return false;
    if (id === this.#through + 1 && this.#above.size === 0 && this.#ranges.length === 0) {
      this.#through = id; // the common case: in order
      return true;
    }
    this.#above.add(id);
    return this.#advance();
  }

  /** Settle [from, to] as lost. Returns true when the prefix moved. */
  settle(from: number, to: number): boolean {
    if (to <= this.#through) return false;
    this.#ranges.push([Math.max(from, this.#through + 1), to]);
    this.#ranges.sort((a, b) => a[0] - b[0]);
    return this.#advance();
  }

  /** Move the prefix to at least `id` (records up to it were dropped); forgets what is below. */
  forceThrough(id: number): void {
    if (id <= this.#through) return;
    this.#through = id;
    for (const a of this.#above) if (a <= id) this.#above.delete(a);
    this.#advance();
  }

  #advance(): boolean {
    const before = this.#through;
    for (;;) {
      const next = this.#through + 1;
      if (this.#above.delete(next)) {
        this.#through = next;
        continue;
      }
      const range = this.#ranges[0];
      if (range && range[0] <= next) {
        this.#through = Math.max(this.#through, range[1]);
        this.#ranges.shift();
        // A jump over a settled range (rare) may pass acknowledgements waiting inside it.
        for (const a of this.#above) if (a <= this.#through) this.#above.delete(a);
        continue;
      }
      if (range && range[1] <= this.#through) {
        this.#ranges.shift();
        continue;
      }
      break;
    }
    return this.#through !== before;
  }
}
