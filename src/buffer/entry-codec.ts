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

/** The exact encoded size, so the spool can check its bound before writing anything. */
export function encodedLength(entry: SpoolEntry): number {
  let n = 1 + 8 + 2 + Buffer.byteLength(entry.topic) + 2 + Buffer.byteLength(entry.key) + 1 + 4 + entry.value.length;
  if (entry.headers) {
    for (const name in entry.headers) n += 4 + Buffer.byteLength(name) + Buffer.byteLength(entry.headers[name] as string);
  }
  return n;
}

/** Encode at buf[offset]; the caller guarantees encodedLength(entry) bytes of room. */
export function encodeEntry(buf: Buffer, offset: number, entry: SpoolEntry): number {
  let o = offset;
  buf[o++] = VERSION;
  buf.writeDoubleLE(entry.timestampMs, o);
  o += 8;
  o = writeString16(buf, o, entry.topic);
  o = writeString16(buf, o, entry.key);
  const headers = entry.headers ? Object.entries(entry.headers) : [];
  if (headers.length > 255) throw new RangeError('a spool entry holds at most 255 headers');
  buf[o++] = headers.length;
  for (const [name, value] of headers) {
    o = writeString16(buf, o, name);
    o = writeString16(buf, o, value);
  }
  buf.writeUInt32LE(entry.value.length, o);
  o += 4;
  buf.set(entry.value, o);
  return o + entry.value.length - offset;
}

/**
 * Decode the entry in buf[start, end). The value is a view into `buf` (no copy). Returns a reason
 * string instead of throwing when the bytes do not form an entry (a CRC-valid record from a newer
 * version, or a bug): the spool counts and skips it rather than returning garbage.
 */
export function decodeEntry(buf: Buffer, start: number, end: number): SpoolEntry | string {
  if (end - start < 1 + 8 + 2 + 2 + 1 + 4) return 'entry too short';
  if (buf[start] !== VERSION) return `unknown entry version ${buf[start]}`;
  let o = start + 1;
  const timestampMs = buf.readDoubleLE(o);
  o += 8;
  const topic = readString16(buf, o, end);
  if (topic === undefined) return 'topic overruns the entry';
  o = topic.next;
  const key = readString16(buf, o, end);
  if (key === undefined) return 'key overruns the entry';
  o = key.next;
  const count = buf[o++] as number;
  let headers: Record<string, string> | undefined;
  for (let i = 0; i < count; i++) {
    const name = readString16(buf, o, end);
    if (name === undefined) return 'header name overruns the entry';
    const value = readString16(buf, name.next, end);
    if (value === undefined) return 'header value overruns the entry';
    (headers ??= {})[name.text] = value.text;
    o = value.next;
  }
  if (o + 4 > end) return 'value length overruns the entry';
  const length = buf.readUInt32LE(o);
  o += 4;
  if (o + length !== end) return 'value length disagrees with the record length';
  const entry: SpoolEntry = { topic: topic.text, key: key.text, value: buf.subarray(o, end), timestampMs };
  if (headers) entry.headers = headers;
  return entry;
}

function writeString16(buf: Buffer, offset: number, text: string): number {
  const n = buf.write(text, offset + 2, 'utf8');
  if (n > 0xffff) throw new RangeError('a spool entry string is longer than 65535 bytes');
  buf.writeUInt16LE(n, offset);
  return offset + 2 + n;
}

function readString16(buf: Buffer, offset: number, end: number): { text: string; next: number } | undefined {
  if (offset + 2 > end) return undefined;
  const n = buf.readUInt16LE(offset);
  const next = offset + 2 + n;
  if (next > end) return undefined;
  return { text: buf.toString('utf8', offset + 2, next), next };
}
