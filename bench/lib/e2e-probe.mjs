// Loaded into the gateway under test with `node --import ./bench/lib/e2e-probe.mjs dist/src/main.js
// run …` by bench/e2e.ts: keeps, per record of the topic in GRIDGATE_E2E_TOPIC, its source, its
// eventTime (the PMU frame's time stamp), when the gateway read it (ingestTime) and when Kafka's
// delivery report (acks=all) came, by wrapping KafkaProducer.produce's callback. The gateway is
// otherwise the one users run. SIGUSR2 starts a measurement; the next SIGUSR2 stops it and writes
// the samples to <GRIDGATE_E2E_PROBE_OUT>.samples (eventTime as f64 µs, then stamp → ack and
// stamp → read as f32 ms, then the source's index in `sources` as u8), then their count, the
// sources and the mean value size as JSON to GRIDGATE_E2E_PROBE_OUT. bench/e2e.ts computes every
// percentile from the samples, joined with the simulators' send logs.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

// --import also runs in every worker thread (the analytics pool), where node-rdkafka's native
// addon cannot be loaded a second time: the probe lives on the main thread only.
if (isMainThread) await install();

async function install() {
const { KafkaProducer } = await import('../../dist/src/sinks/kafka/producer.js');
const { readAvroEnvelope } = await import('../../dist/src/pipeline/encoding/avro.js');
const { isJsonValue } = await import('../../dist/src/pipeline/encoding/record-encoding.js');

const topic = process.env.GRIDGATE_E2E_TOPIC;
const out = process.env.GRIDGATE_E2E_PROBE_OUT;
const CAPACITY = 1 << 21; // 2M samples (17 bytes each): 33 s at 1,000 PMUs × 60 frames/s, then it wraps
const eventTimes = new Float64Array(CAPACITY);
const latencies = new Float32Array(CAPACITY);
// ingestTime − eventTime of the same records: until the gateway read the frame (the simulator's
// timer lateness, loopback TCP, and the wait for the gateway's event loop to get to the socket).
const arrivals = new Float32Array(CAPACITY);
const sourceOf = new Uint8Array(CAPACITY);
/** Source names in order of first sight; a record's source is the second part of its key (site/source/stream). */
const sources = new Map();
/** Record key → source index, so that a key seen before costs a lookup, not a slice. */
const sourceOfKey = new Map();
const sourceIndex = (key) => {
  let i = sourceOfKey.get(key);
  if (i !== undefined) return i;
  const from = key.indexOf('/') + 1;
  const name = key.slice(from, key.indexOf('/', from));
  i = sources.get(name);
  if (i === undefined) sources.set(name, (i = sources.size));
  sourceOfKey.set(key, i);
  return i;
};
let count = 0;
let valueBytes = 0;
let measuring = false;
const MARK = Buffer.from('"eventTime":');
const INGEST = Buffer.from('"ingestTime":');
const numberAfter = (value, mark) => {
  const at = value.indexOf(mark);
  return at < 0 ? NaN : Number(value.toString('latin1', at + mark.length, value.indexOf(44, at)));
};
// The times of the record at hand, and the offset after the last Avro long read: module state
// rather than returned arrays, so that reading them allocates nothing per record.
let eventTimeUs = 0;
let ingestTimeUs = 0;
let after = 0;
/** An Avro long (zig-zag varint) at `at`; `after` is set past it. Exact for |n| < 2^52 (µs times are near 2^51). */
const avroLong = (b, at) => {
  let z = 0;
  let scale = 1;
  for (;;) {
    const byte = b[at++];
    z += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  after = at;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
};
/**
 * eventTime and ingestTime of an Avro record, read in place: the envelope is site, source, stream
 * (strings: a length, then bytes), epoch, seq, eventTime, ingestTime. Nothing is allocated, so the
 * probe adds as little as it can to the CPU it measures (avsc's decoder built the whole envelope).
 */
const readAvroTimes = (b) => {
  after = 0;
  for (let i = 0; i < 3; i++) {
    const length = avroLong(b, after); // a string: its byte count, then its bytes
    after += length;
  }
  for (let i = 0; i < 2; i++) avroLong(b, after);
  eventTimeUs = avroLong(b, after);
  ingestTimeUs = avroLong(b, after);
};
let checked = false;
/** Sets eventTimeUs and ingestTimeUs (µs) from a value of either encoding (kafka.encoding). */
const readTimes = (value) => {
  if (isJsonValue(value)) {
    eventTimeUs = numberAfter(value, MARK);
    ingestTimeUs = numberAfter(value, INGEST);
    return;
  }
  readAvroTimes(value);
  if (!checked) {
    // Once, against the schema's own decoder: the in-place reader must agree with it.
    const e = readAvroEnvelope(value);
    if (!e || e.eventTime !== eventTimeUs || e.ingestTime !== ingestTimeUs) throw new Error(`e2e probe: read ${eventTimeUs},${ingestTimeUs} where avsc reads ${e?.eventTime},${e?.ingestTime}`);
    checked = true;
  }
};

const produce = KafkaProducer.prototype.produce;
KafkaProducer.prototype.produce = function (record, callback) {
  if (!measuring || record.topic !== topic) return produce.call(this, record, callback);
  readTimes(record.value);
  const stampUs = eventTimeUs;
  const arrivalMs = (ingestTimeUs - stampUs) / 1000;
  const bytes = record.value.length;
  const source = sourceIndex(record.key);
  return produce.call(this, record, (err, report) => {
    if (!err && measuring) {
      const i = count++ % CAPACITY;
      eventTimes[i] = stampUs;
      arrivals[i] = arrivalMs;
      latencies[i] = performance.timeOrigin + performance.now() - stampUs / 1000;
      sourceOf[i] = source;
      valueBytes += bytes;
    }
    callback(err, report);
  });
};

process.on('SIGUSR2', () => {
  if (!measuring) {
    count = 0;
    valueBytes = 0;
    measuring = true;
    return;
  }
  measuring = false;
  const n = Math.min(count, CAPACITY);
  writeFileSync(`${out}.samples`, Buffer.concat([eventTimes, latencies, arrivals, sourceOf].map((a) => Buffer.from(a.buffer, 0, n * a.BYTES_PER_ELEMENT))));
  writeFileSync(out, JSON.stringify({ count, samples: n, sources: [...sources.keys()], meanValueBytes: count ? valueBytes / count : 0 }));
});
}
