// What the spool stores per record: everything the Kafka sink needs to produce it again after a
// restart. The payload of a segment record (record-format.ts) is one encoded entry:
//
//   u8   version (1)
//   f64  timestampMs: the Kafka record timestamp (ingest time); the spool's age bound and
//        oldest-record-age metric are measured from it
//   u16  topic length, topic (UTF-8)
//   u16  key length, key (UTF-8)
//   u8   header count, then per header: u16 name length, name, u16 value length, value (UTF-8)
//   u32  value length, value (the encoded record: JSON today, Avro later)

export interface SpoolEntry {
  topic: string;
  key: string;
  value: Uint8Array;
  timestampMs: number;
  headers?: Readonly<Record<string, string>>;
}

const VERSION = 1;

/**
 * Both directions of the strings records repeat (topics, keys, header names and values): their
 * UTF-8 bytes for encoding, so that writing one is a copy; and, for decoding, the string (and the
 * whole headers object) for given bytes, so that replaying a million records does not transcode
 * and allocate the same few strings a million times. Decoding looks bytes up by an FNV-1a hash
 * and confirms with a byte comparison. Both sides are bounded.
 */
export class StringTable {
  readonly #bytes = new Map<string, Buffer>();
  readonly #limit: number;
  readonly #texts: ({ bytes: Buffer; text: string } | undefined)[] = new Array(DECODE_SLOTS);
  readonly #headers: ({ bytes: Buffer; headers: Readonly<Record<string, string>> } | undefined)[] = new Array(DECODE_SLOTS);

  constructor(limit = 8192) {
    this.#limit = limit;
  }

  /** UTF-8 bytes of `text`. */
  get(text: string): Buffer {
    let bytes = this.#bytes.get(text);
    if (bytes === undefined) {
      if (this.#bytes.size >= this.#limit) this.#bytes.clear();
      bytes = Buffer.from(text, 'utf8');
      if (bytes.length > 0xffff) throw new RangeError('a spool entry string is longer than 65535 bytes');
      this.#bytes.set(text, bytes);
    }
    return bytes;
  }

  /** The string encoded in buf[start, end). */
  text(buf: Buffer, start: number, end: number): string {
    const slot = fnv1a(buf, start, end) & (DECODE_SLOTS - 1);
    const hit = this.#texts[slot];
    if (hit && sameBytes(hit.bytes, buf, start, end)) return hit.text;
    const text = buf.toString('utf8', start, end);
    this.#texts[slot] = { bytes: Buffer.from(buf.subarray(start, end)), text };
    return text;
  }

  /** A shared, frozen headers object for the header block in buf[start, end), if seen before. */
  cachedHeaders(buf: Buffer, start: number, end: number): Readonly<Record<string, string>> | undefined {
    const hit = this.#headers[fnv1a(buf, start, end) & (DECODE_SLOTS - 1)];
    return hit && sameBytes(hit.bytes, buf, start, end) ? hit.headers : undefined;
  }

  rememberHeaders(buf: Buffer, start: number, end: number, headers: Record<string, string>): Readonly<Record<string, string>> {
    const frozen = Object.freeze(headers);
    this.#headers[fnv1a(buf, start, end) & (DECODE_SLOTS - 1)] = { bytes: Buffer.from(buf.subarray(start, end)), headers: frozen };
    return frozen;
  }
}

const DECODE_SLOTS = 4096;

function fnv1a(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

/** The exact encoded size, so the spool can check its bound before writing anything. */
export function encodedLength(entry: SpoolEntry, strings: StringTable): number {
  let n = 1 + 8 + 2 + strings.get(entry.topic).length + 2 + strings.get(entry.key).length + 1 + 4 + entry.value.length;
  const headers = entry.headers;
  if (headers) for (const name in headers) n += 4 + strings.get(name).length + strings.get(headers[name] as string).length;
  return n;
}

/** Encode at buf[offset]; the caller guarantees encodedLength(entry) bytes of room. */
export function encodeEntry(buf: Buffer, offset: number, entry: SpoolEntry, strings: StringTable): number {
  let o = offset;
  buf[o++] = VERSION;
  buf.writeDoubleLE(entry.timestampMs, o);
  o += 8;
  o = putBytes(buf, o, strings.get(entry.topic));
  o = putBytes(buf, o, strings.get(entry.key));
  const countAt = o++;
  let count = 0;
  const headers = entry.headers;
  if (headers) {
    for (const name in headers) {
      o = putBytes(buf, o, strings.get(name));
      o = putBytes(buf, o, strings.get(headers[name] as string));
      count++;
    }
  }
  if (count > 255) throw new RangeError('a spool entry holds at most 255 headers');
  buf[countAt] = count;
  buf.writeUInt32LE(entry.value.length, o);
  o += 4;
  buf.set(entry.value, o);
  return o + entry.value.length - offset;
}

/**
 * Decode the entry in buf[start, end). The value is a view into `buf` (no copy); headers objects
 * are shared and frozen. Returns a reason string instead of throwing when the bytes do not form an
 * entry (a CRC-valid record from a newer version, or a bug): the spool counts and skips it rather
 * than returning garbage.
 */
export function decodeEntry(buf: Buffer, start: number, end: number, strings: StringTable): SpoolEntry | string {
  if (end - start < 1 + 8 + 2 + 2 + 1 + 4) return 'entry too short';
  if (buf[start] !== VERSION) return `unknown entry version ${buf[start]}`;
  let o = start + 1;
  const timestampMs = buf.readDoubleLE(o);
  o += 8;
  const topicEnd = stringEnd(buf, o, end);
  if (topicEnd < 0) return 'topic overruns the entry';
  const topic = strings.text(buf, o + 2, topicEnd);
  o = topicEnd;
  const keyEnd = stringEnd(buf, o, end);
  if (keyEnd < 0) return 'key overruns the entry';
  const key = strings.text(buf, o + 2, keyEnd);
  o = keyEnd;
  const count = buf[o++] as number;
  const headersStart = o;
  for (let i = 0; i < 2 * count; i++) {
    o = stringEnd(buf, o, end);
    if (o < 0) return 'header overruns the entry';
  }
  if (o + 4 > end) return 'value length overruns the entry';
  const length = buf.readUInt32LE(o);
  if (o + 4 + length !== end) return 'value length disagrees with the record length';
  const entry: SpoolEntry = { topic, key, value: buf.subarray(o + 4, end), timestampMs };
  if (count > 0) entry.headers = strings.cachedHeaders(buf, headersStart, o) ?? decodeHeaders(buf, headersStart, o, count, strings);
  return entry;
}

/** Decode a header block (a cache miss) and remember it. */
function decodeHeaders(buf: Buffer, start: number, end: number, count: number, strings: StringTable): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  let o = start;
  for (let i = 0; i < count; i++) {
    const nameEnd = stringEnd(buf, o, end);
    const valueEnd = stringEnd(buf, nameEnd, end);
    // An own property whatever the name: `headers['__proto__'] = v` would set the prototype.
    Object.defineProperty(headers, strings.text(buf, o + 2, nameEnd), {
      value: strings.text(buf, nameEnd + 2, valueEnd),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    o = valueEnd;
  }
  return strings.rememberHeaders(buf, start, end, headers);
}

/** The end of the length-prefixed string at `offset`, or -1 when it overruns `end`. */
function stringEnd(buf: Buffer, offset: number, end: number): number {
  if (offset + 2 > end) return -1;
  const next = offset + 2 + (buf[offset] as number) + ((buf[offset + 1] as number) << 8);
  return next > end ? -1 : next;
}

function putBytes(buf: Buffer, offset: number, bytes: Buffer): number {
  buf[offset] = bytes.length & 0xff;
  buf[offset + 1] = bytes.length >>> 8;
  buf.set(bytes, offset + 2);
  return offset + 2 + bytes.length;
}
