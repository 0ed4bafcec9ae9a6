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

  u8(v: number): void {
    this.#buf.writeUInt8(v & 0xff, this.#room(1));
  }
  u16(v: number): void {
    this.#buf.writeUInt16BE(v & 0xffff, this.#room(2));
  }
  i16(v: number): void {
    this.#buf.writeInt16BE(v, this.#room(2));
  }
  u32(v: number): void {
    this.#buf.writeUInt32BE(v >>> 0, this.#room(4));
  }
  i32(v: number): void {
    this.#buf.writeInt32BE(v, this.#room(4));
  }
  f32(v: number): void {
    this.#buf.writeFloatBE(v, this.#room(4));
  }
  bytes(b: Uint8Array): void {
    this.#buf.set(b, this.#room(b.length));
  }

  /** The bytes written (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }
}
