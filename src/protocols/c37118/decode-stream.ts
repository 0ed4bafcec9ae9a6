import { fracsecOf, socOf } from './frame-header.js';
import { Framer } from './framer.js';
import { decodedJson } from './json.js';
import { StreamDecoder } from './stream-decoder.js';

// Raw C37.118 bytes (a TCP payload, a file) to one JSON object per frame, errors included, each
// with the byte offset where it starts. What `gridgate decode c37118` prints; tests and the peer
// comparison use it too. Decoding continues after every error.

export type DecodeLine = Record<string, unknown> & { offset: number; type: string };

export class JsonStreamDecoder {
  readonly #framer = new Framer();
  readonly #decoder = new StreamDecoder();

  /** Lines for the frames completed by `chunk`. */
  push(chunk: Uint8Array): DecodeLine[] {
    const lines: DecodeLine[] = [];
    let at = 0;
    // Feed in slices the framer can always take, so a huge input never trips its bound.
    while (at < chunk.length) {
      const slice = chunk.subarray(at, at + 64 * 1024);
      at += slice.length;
      this.#framer.push(slice);
      this.#drain(lines, false);
    }
    return lines;
  }

  /** Lines for whatever remained at the end of the input (a truncated frame). */
  end(): DecodeLine[] {
    const lines: DecodeLine[] = [];
    this.#drain(lines, true);
    return lines;
  }

  #drain(lines: DecodeLine[], atEnd: boolean): void {
    for (;;) {
      const out = atEnd ? this.#framer.flush() : this.#framer.next();
      if (out.kind === 'none') return;
      if (out.kind === 'garbage') {
        lines.push({
          offset: out.streamOffset,
          type: 'error',
          reason: out.reason ?? 'bad-sync',
          length: out.length,
          bytes: out.buf.toString('hex', out.offset, out.offset + Math.min(out.length, 64)),
        });
        continue;
      }
      const decoded = this.#decoder.decode(out.buf, out.offset, out.length);
      // A configuration frame's time is in its own TIME_BASE (a CFG-1 is never the active one), a
      // CFG-3 fragment's in its series'; other frames' in the stream's active configuration's.
      const own = decoded.kind === 'config' ? decoded.config.timeBase : decoded.kind === 'fragment' ? decoded.timeBase : 0;
      const timeBase = own || (this.#decoder.layout(decoded.idcode)?.config.timeBase ?? 1_000_000);
      const json = decodedJson(decoded, socOf(out.buf, out.offset), fracsecOf(out.buf, out.offset), timeBase);
      lines.push({ offset: out.streamOffset, ...json } as DecodeLine);
    }
  }
}

/** Decode a whole buffer. */
export function decodeAll(bytes: Uint8Array): DecodeLine[] {
  const decoder = new JsonStreamDecoder();
  return [...decoder.push(bytes), ...decoder.end()];
}
