// The receive buffer of a stream framer (C37.118 over TCP today, Modbus TCP next): bytes arrive in
// chunks of any size, frames are cut from the front. Following pg-protocol, the buffer is reused
// and grown, never Buffer.concat'ed per chunk:
//
//   buf: [ consumed … | start ─── unread bytes ─── end | free … ]
//
// append() compacts (moves the unread bytes to 0) only when the free tail is too small, and grows
// by doubling, so each byte is copied O(1) times on average. A view (buf, start, end) is valid
// until the next append(): consume what you need first.

export class ChunkBuffer {
  #buf: Buffer;
  #start = 0;
  #end = 0;
  readonly #maxBytes: number;

  constructor(initialBytes = 64 * 1024, maxBytes = 4 * 1024 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
    this.#maxBytes = maxBytes;
  }

  get buffer(): Buffer {
    return this.#buf;
  }
  get start(): number {
    return this.#start;
  }
  get end(): number {
    return this.#end;
  }
  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * Copy `chunk` in. Returns false, appending nothing, when the unread bytes would exceed
   * maxBytes: the framer upstream is not consuming, which is a bug or an attack, not a reason to
   * grow without bound.
   */
  append(chunk: Uint8Array): boolean {
    const unread = this.#end - this.#start;
    if (unread + chunk.length > this.#maxBytes) return false;
    if (this.#end + chunk.length > this.#buf.length) {
      if (unread + chunk.length <= this.#buf.length) {
        this.#buf.copy(this.#buf, 0, this.#start, this.#end);
      } else {
        let size = this.#buf.length * 2;
        while (size < unread + chunk.length) size *= 2;
        const grown = Buffer.allocUnsafe(Math.min(size, this.#maxBytes));
        this.#buf.copy(grown, 0, this.#start, this.#end);
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = unread;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    return true;
  }

  /** Drop `bytes` from the front. */
  consume(bytes: number): void {
    this.#start += bytes;
    if (this.#start >= this.#end) this.#start = this.#end = 0;
  }

  clear(): void {
    this.#start = this.#end = 0;
  }
}
