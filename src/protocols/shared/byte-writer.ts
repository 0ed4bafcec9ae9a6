// A growable big-endian writer for the cold frames encoders build (configuration, commands).

export class ByteWriter {
  #buf = Buffer.allocUnsafe(256);
  #at = 0;

  #room(bytes: number): number {
    if (this.#at + bytes > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + bytes));
      this.#buf.copy(grown, 0, 0, this.#at);
      this.#buf = grown;
    }
    const at = this.#at;
    this.#at += bytes;
    return at;
  }

  // #room() first, then this.#buf: `this.#buf.write…(v, this.#room(n))` would evaluate the
  // receiver before #room() replaces a full buffer, and write past the end of the old one.
  u8(v: number): void {
    const at = this.#room(1);
    this.#buf.writeUInt8(v & 0xff, at);
  }
  u16(v: number): void {
    const at = this.#room(2);
    this.#buf.writeUInt16BE(v & 0xffff, at);
  }
  i16(v: number): void {
    const at = this.#room(2);
    this.#buf.writeInt16BE(v, at);
  }
  u32(v: number): void {
    const at = this.#room(4);
    this.#buf.writeUInt32BE(v >>> 0, at);
  }
  i32(v: number): void {
    const at = this.#room(4);
    this.#buf.writeInt32BE(v, at);
  }
  f32(v: number): void {
    const at = this.#room(4);
    this.#buf.writeFloatBE(v, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
  }

  /** The bytes written (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }
}
