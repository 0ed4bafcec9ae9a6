// A bounds-checked big-endian cursor for the cold parts of binary protocols (configuration
// frames, headers), where clarity beats speed. Reading past the limit does not throw: it returns
// zeros and sets `overrun`, and the parser checks once at the end and reports a reason (bad bytes
// are data, not exceptions). Hot paths (data frames) use precompiled offsets instead.

export class ByteReader {
  readonly buf: Buffer;
  offset: number;
  readonly limit: number;
  overrun = false;

  constructor(buf: Buffer, offset = 0, limit = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.limit = limit;
  }

  get remaining(): number {
    return this.limit - this.offset;
  }

  #take(bytes: number): number {
    const at = this.offset;
    this.offset += bytes;
    if (this.offset > this.limit) this.overrun = true;
    return at;
  }

  u8(): number {
    const at = this.#take(1);
    return this.overrun ? 0 : this.buf[at]!;
  }
  u16(): number {
    const at = this.#take(2);
    return this.overrun ? 0 : this.buf.readUInt16BE(at);
  }
  i16(): number {
    const at = this.#take(2);
    return this.overrun ? 0 : this.buf.readInt16BE(at);
  }
  u32(): number {
    const at = this.#take(4);
    return this.overrun ? 0 : this.buf.readUInt32BE(at);
  }
  i32(): number {
    const at = this.#take(4);
    return this.overrun ? 0 : this.buf.readInt32BE(at);
  }
  f32(): number {
    const at = this.#take(4);
    return this.overrun ? 0 : this.buf.readFloatBE(at);
  }
  bytes(length: number): Buffer {
    const at = this.#take(length);
    return this.overrun ? Buffer.alloc(0) : this.buf.subarray(at, at + length);
  }
  /** Fixed-width text (latin1: C37.118 names are ASCII; a stray high byte must not throw). */
  text(length: number, encoding: BufferEncoding = 'latin1'): string {
    const at = this.#take(length);
    return this.overrun ? '' : this.buf.toString(encoding, at, at + length);
  }
}
