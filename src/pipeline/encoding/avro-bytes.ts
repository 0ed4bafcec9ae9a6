// Avro binary primitives for the hand-written writers (feature-window bodies in the workers,
// pmu-frame records on the main thread): one growing scratch buffer, each string's encoding kept,
// unions as a tag byte and a value. Every value is checked as avsc checks it and refused with a
// throw, so a caller's JSON fallback still applies; the writers' tests compare their bytes with
// avsc's for the same objects.

/** The largest long avsc writes from a JS number (its isSafeLong: 2^53 − 2); beyond, it refuses. */
const MAX_LONG = 9_007_199_254_740_990;

/** Strings whose encoding is kept: channel, phasor and station names, units, sites, sources, streams. */
const MAX_CACHED_STRINGS = 4096;

export class AvroBytes {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  readonly #strings = new Map<string, Uint8Array>();

  /** `what` names the record in the errors: "feature-window: 1.5 is not a long". */
  constructor(private readonly what: string) {}

  /** Start a new value at the beginning of the scratch buffer. */
  reset(): void {
    this.#pos = 0;
  }

  /** The bytes written since reset(), in an exact-size buffer of their own (cheap to clone). */
  take(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  /** The same as a Buffer, from Node's pool when small (a Kafka record value). */
  takeBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.#pos);
    out.set(this.#buf.subarray(0, this.#pos));
    return out;
  }

  /**
   * Zig-zag varint, with avsc's arithmetic on doubles (and so its bytes): exact below 2^52 in
   * magnitude, which holds every long written here (µs times are near 2^51).
   */
  long(n: number): void {
    if (!(Number.isInteger(n) && Math.abs(n) <= MAX_LONG)) throw new TypeError(`${this.what}: ${n} is not a long`);
    let z = n >= 0 ? 2 * n : -2 * n - 1;
    this.#room(10);
    const buf = this.#buf;
    while (z >= 0x80) {
      buf[this.#pos++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    buf[this.#pos++] = z;
  }

  int(n: number): void {
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new TypeError(`${this.what}: ${n} is not an int`);
    this.long(n);
  }

  double(x: number): void {
    if (typeof x !== 'number') throw new TypeError(`${this.what}: ${String(x)} is not a double`);
    this.#room(8);
    this.#view.setFloat64(this.#pos, x, true);
    this.#pos += 8;
  }

  /** ["null", "double"]: branch 0 (zig-zag 0) alone, or branch 1 (zig-zag 2) and the double. */
  optionalDouble(x: number | null): void {
    this.#room(9);
    if (x === null) {
      this.#buf[this.#pos++] = 0;
      return;
    }
    this.#buf[this.#pos++] = 2;
    this.double(x);
  }

  boolean(b: boolean): void {
    if (typeof b !== 'boolean') throw new TypeError(`${this.what}: ${String(b)} is not a boolean`);
    this.#room(1);
    this.#buf[this.#pos++] = b ? 1 : 0;
  }

  /** An enum: the symbol's index, as an int. */
  symbol(value: string, symbols: readonly string[]): void {
    const index = symbols.indexOf(value);
    if (index < 0) throw new TypeError(`${this.what}: ${String(value)} is not one of ${symbols.join(', ')}`);
    this.long(index);
  }

  /** An array as avsc writes it: one block (its count, then the items) and the empty block; an empty array, the empty block alone. */
  array<T>(items: readonly T[], item: (value: T) => void): void {
    if (items.length > 0) {
      this.long(items.length);
      for (const value of items) item(value);
    }
    this.long(0);
  }

  /** Length (zig-zag varint of the UTF-8 byte count) and the bytes. */
  string(s: string): void {
    let encoded = this.#strings.get(s);
    if (!encoded) {
      if (typeof s !== 'string') throw new TypeError(`${this.what}: ${String(s)} is not a string`);
      const utf8 = Buffer.from(s, 'utf8');
      const start = this.#pos;
      this.long(utf8.length);
      encoded = new Uint8Array(this.#pos - start + utf8.length);
      encoded.set(this.#buf.subarray(start, this.#pos));
      encoded.set(utf8, this.#pos - start);
      this.#pos = start;
      if (this.#strings.size < MAX_CACHED_STRINGS) this.#strings.set(s, encoded);
    }
    const n = encoded.length;
    this.#room(n);
    // Byte by byte: names and units are a few bytes, below what a native copy call costs.
    const buf = this.#buf;
    for (let i = 0; i < n; i++) buf[this.#pos + i] = encoded[i]!;
    this.#pos += n;
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(2 * this.#buf.length, this.#pos + bytes));
    bigger.set(this.#buf.subarray(0, this.#pos));
    this.#buf = bigger;
    this.#view = new DataView(bigger.buffer);
  }
}
