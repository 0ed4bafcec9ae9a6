import { ChunkBuffer } from '../shared/chunk-buffer.js';
import { MIN_FRAME_SIZE, SYNC_BYTE } from './constants.js';
import { crcMatches, frameSizeOf, plausibleSync, supportedVersion, versionOf } from './frame-header.js';

// Cuts C37.118 frames out of a byte stream (TCP delivers them split and coalesced at will).
// Framing is separate from decoding: the framer only answers "here is a whole frame whose CRC is
// right" or "these bytes are not a frame, and why". Checks, in order, before anything is decoded:
//
//   1. SYNC: 0xAA, reserved bit 7 clear, frame type 0–5. Otherwise skip to the next 0xAA.
//   2. FRAMESIZE ≥ 16 (a header frame with no text is 16 bytes). Otherwise skip one byte.
//   3. Wait for FRAMESIZE bytes, then CRC-CCITT. A mismatch drops ONE byte and rescans: the 0xAA
//      may have been noise inside garbage, and a bogus FRAMESIZE must not swallow the good frames
//      that follow it (see lookahead below).
//   4. Version 1 (2005) or 2 (2011). A CRC-valid frame of another version is skipped whole,
//      reported as `unsupported-version`, never mis-parsed.
//
// Lookahead: while a candidate frame is incomplete and claims more bytes than any frame seen so far
// on this stream (and at least LOOKAHEAD_ABOVE), the framer looks further into what it already
// holds for a complete CRC-valid frame. If it finds one, the candidate's FRAMESIZE was a lie: the
// bytes before the good frame are reported as garbage at once, instead of stalling the stream
// until the bogus size is filled (a 0xFFFF would stall a 90-byte, 30 frames/s stream for 24 s).
// A candidate of an ordinary size is simply waited for, so that a real frame tunnelling another
// one in its body (an extended command, header text) is never cut up by the lookahead; a bogus
// ordinary size costs a short wait, then its CRC fails and the framer resynchronises one byte on.
// The scan position is remembered, so a large frame arriving in many chunks is scanned once.
//
// Garbage is reported in spans (one report for a run of skipped bytes, not one per byte) so the
// dead-letter topic gets the bytes with their reason. The view returned by next() is valid until
// the next push().

/** Candidates up to this size (or the largest frame seen, if larger) are waited for, not doubted. */
const LOOKAHEAD_ABOVE = 1024;

export type FramingFault = 'bad-sync' | 'bad-size' | 'crc-mismatch' | 'unsupported-version' | 'truncated';

export interface FramerOutput {
  kind: 'frame' | 'garbage' | 'none';
  /** The framer's buffer; the frame or garbage is buf[offset, offset + length). */
  buf: Buffer;
  offset: number;
  length: number;
  /** Why the bytes are garbage (kind 'garbage'). */
  reason: FramingFault | undefined;
  /** Bytes consumed from the stream before this output (its stream offset). */
  streamOffset: number;
}

export class Framer {
  readonly #chunks: ChunkBuffer;
  readonly #out: FramerOutput;
  #consumed = 0;
  /** Garbage accumulating in front of the cursor: [start, start + #garbage) with #garbageReason. */
  #garbage = 0;
  #garbageReason: FramingFault = 'bad-sync';
  /** Lookahead resumes here (relative to the buffer's start, which moves on compaction); -1 none. */
  #scanFrom = -1;
  /** In flush(): the input has ended, nothing more will arrive. */
  #ending = false;
  /** The largest frame seen so far: candidates up to this size are waited for. */
  #largest = 0;
  /** Largest garbage span reported at once; longer runs are split so a DLQ record stays small. */
  readonly #maxGarbage: number;

  constructor(options: { initialBytes?: number; maxBytes?: number; maxGarbageBytes?: number } = {}) {
    this.#chunks = new ChunkBuffer(options.initialBytes, options.maxBytes);
    this.#maxGarbage = options.maxGarbageBytes ?? 4096;
    this.#out = { kind: 'none', buf: this.#chunks.buffer, offset: 0, length: 0, reason: undefined, streamOffset: 0 };
  }

  /** Bytes held, not yet returned. */
  get pending(): number {
    return this.#chunks.length;
  }

  /** Add received bytes. False if they would overflow the framer's bound (nothing added). */
  push(chunk: Uint8Array): boolean {
    return this.#chunks.append(chunk);
  }

  /**
   * The next frame or garbage span, or kind 'none' when more bytes are needed. Reuses one output
   * object: read it before calling next() again.
   */
  next(): FramerOutput {
    const chunks = this.#chunks;
    const buf = chunks.buffer;
    const end = chunks.end;
    for (;;) {
      const cursor = chunks.start + this.#garbage;
      if (this.#garbage >= this.#maxGarbage) return this.#emitGarbage();
      if (cursor >= end) return this.#garbage > 0 ? this.#emitGarbage() : this.#none();
      if (end - cursor < 2 && buf[cursor] === SYNC_BYTE) {
        if (this.#ending) {
          this.#skip(1, 'truncated');
          continue;
        }
        return this.#garbage > 0 ? this.#emitGarbage() : this.#none();
      }
      if (!plausibleSync(buf, cursor)) {
        this.#skip(1, 'bad-sync');
        continue;
      }
      if (end - cursor < 4 || end - cursor < frameSizeOf(buf, cursor)) {
        // At the end of the input an incomplete candidate never completes: it is not a frame,
        // and the frames after it (a bogus FRAMESIZE can claim them) are looked for one byte on.
        if (this.#ending) {
          this.#skip(1, 'truncated');
          continue;
        }
        if (end - cursor < 4) return this.#garbage > 0 ? this.#emitGarbage() : this.#none();
      }
      const size = frameSizeOf(buf, cursor);
      if (size < MIN_FRAME_SIZE) {
        this.#skip(1, 'bad-size');
        continue;
      }
      if (end - cursor < size) {
        if (size > Math.max(this.#largest, LOOKAHEAD_ABOVE) && this.#lookahead(cursor, end)) continue;
        return this.#garbage > 0 ? this.#emitGarbage() : this.#none();
      }
      if (!crcMatches(buf, cursor, size)) {
        this.#skip(1, 'crc-mismatch');
        continue;
      }
      // A whole, intact frame. Garbage before it goes out first.
      if (this.#garbage > 0) return this.#emitGarbage();
      this.#scanFrom = -1;
      if (!supportedVersion(versionOf(buf, cursor))) return this.#emit('garbage', cursor, size, 'unsupported-version');
      if (size > this.#largest) this.#largest = size;
      return this.#emit('frame', cursor, size, undefined);
    }
  }

  /**
   * End of stream (a file, a closed connection, a datagram): like next(), except that nothing is
   * waited for. A frame that cannot complete is `truncated` garbage, and any whole frame after
   * it still comes out. Call until 'none'.
   */
  flush(): FramerOutput {
    this.#ending = true;
    try {
      return this.next();
    } finally {
      this.#ending = false;
    }
  }

  /** Forget everything buffered (after a reconnect). */
  reset(): void {
    this.#chunks.clear();
    this.#garbage = 0;
    this.#scanFrom = -1;
    this.#largest = 0;
  }

  #skip(bytes: number, reason: FramingFault): void {
    // A run keeps the reason it started with, except that a CRC failure is the more useful story
    // for the bytes of a frame-shaped run.
    if (this.#garbage === 0 || reason === 'crc-mismatch') this.#garbageReason = reason;
    this.#garbage += bytes;
    this.#scanFrom = -1;
  }

  /** Is there a complete CRC-valid frame after the candidate at `cursor`? Then skip to it. */
  #lookahead(cursor: number, end: number): boolean {
    const buf = this.#chunks.buffer;
    const base = this.#chunks.start;
    let at = this.#scanFrom >= 0 && base + this.#scanFrom > cursor ? base + this.#scanFrom : cursor + 1;
    // Resume next time at the first candidate that may still complete.
    let resume = -1;
    for (; at + MIN_FRAME_SIZE <= end; at++) {
      if (!plausibleSync(buf, at)) continue;
      const size = frameSizeOf(buf, at);
      if (size < MIN_FRAME_SIZE) continue;
      if (at + size > end) {
        if (resume < 0) resume = at;
        continue;
      }
      if (crcMatches(buf, at, size)) {
        this.#skip(at - cursor, 'bad-size');
        return true;
      }
    }
    this.#scanFrom = (resume >= 0 ? resume : at) - base;
    return false;
  }

  #emitGarbage(): FramerOutput {
    const length = Math.min(this.#garbage, this.#maxGarbage);
    const out = this.#emit('garbage', this.#chunks.start, length, this.#garbageReason);
    this.#garbage -= length;
    return out;
  }

  #emit(kind: 'frame' | 'garbage', offset: number, length: number, reason: FramingFault | undefined): FramerOutput {
    const out = this.#out;
    out.kind = kind;
    out.buf = this.#chunks.buffer;
    out.offset = offset;
    out.length = length;
    out.reason = reason;
    out.streamOffset = this.#consumed;
    this.#scanFrom = -1;
    this.#consumed += length;
    // Consumed now, still readable: the bytes stay in place until the next push().
    this.#chunks.consume(length);
    return out;
  }

  #none(): FramerOutput {
    const out = this.#out;
    out.kind = 'none';
    out.length = 0;
    out.reason = undefined;
    return out;
  }
}
