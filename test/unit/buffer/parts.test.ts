import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AckTracker } from '../../../src/buffer/ack-tracker.js';
import { RateMeter, bytesNeeded, effectiveBound } from '../../../src/buffer/capacity.js';
import { StringTable, decodeEntry, encodeEntry, encodedLength, type SpoolEntry } from '../../../src/buffer/entry-codec.js';
import { decodeLedger, decodeSlot, encodeSlot } from '../../../src/buffer/ledger.js';
import { HEADER_BYTES, scanRecords, sealRecord } from '../../../src/buffer/record-format.js';
import { flipBits } from '../../helpers/spool.js';

function encode(e: SpoolEntry, strings = new StringTable(4)): Buffer {
  const buf = Buffer.alloc(encodedLength(e, strings));
  assert.equal(encodeEntry(buf, 0, e, strings), buf.length, 'encodedLength is exact');
  return buf;
}

const arbEntry = fc.record({
  topic: fc.string({ maxLength: 40 }),
  key: fc.string({ unit: 'grapheme', maxLength: 40 }),
  value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  timestampMs: fc.integer({ min: 0, max: 2 ** 50 }),
  headers: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }), { nil: undefined }),
});

describe('spool entry encoding', () => {
  it('round-trips any entry exactly, Unicode included', () => {
    fc.assert(
      fc.property(arbEntry, (raw) => {
        const e: SpoolEntry = { topic: raw.topic, key: raw.key, value: raw.value, timestampMs: raw.timestampMs };
        if (raw.headers && Object.keys(raw.headers).length > 0) e.headers = { ...raw.headers }; // fast-check's have no prototype
        const buf = encode(e);
        assert.deepEqual(decodeEntry(buf, 0, buf.length, new StringTable()), e);
      }),
    );
  });

  it('decodes the same entry through a warm cache, sharing one frozen headers object', () => {
    const strings = new StringTable();
    const a = encode({ topic: 't', key: 'k1', value: Buffer.from('1'), timestampMs: 1, headers: { site: 'north' } });
    const b = encode({ topic: 't', key: 'k2', value: Buffer.from('2'), timestampMs: 2, headers: { site: 'north' } });
    const da = decodeEntry(a, 0, a.length, strings) as SpoolEntry;
    const db = decodeEntry(b, 0, b.length, strings) as SpoolEntry;
    assert.deepEqual([da.key, db.key, db.headers], ['k1', 'k2', { site: 'north' }]);
    assert.equal(da.headers, db.headers);
    assert.ok(Object.isFrozen(db.headers));
  });

  it('keeps a header named __proto__ as a header, not a prototype', () => {
    const headers = JSON.parse('{"__proto__": "x", "site": "north"}') as Record<string, string>;
    const buf = encode({ topic: 't', key: 'k', value: Buffer.from('v'), timestampMs: 1, headers });
    const decoded = decodeEntry(buf, 0, buf.length, new StringTable()) as SpoolEntry;
    assert.deepEqual(Object.keys(decoded.headers ?? {}), ['__proto__', 'site']);
    assert.equal(Object.getPrototypeOf(decoded.headers), Object.prototype);
  });

  it('encodes the same bytes whether its string cache is cold, warm or overflowing', () => {
    const strings = new StringTable(2);
    const e: SpoolEntry = { topic: 'grid.pmu.frames', key: 'nörth/pmu/1', value: Buffer.from('v'), timestampMs: 1, headers: { site: 'north' } };
    const cold = encode(e, new StringTable());
    assert.deepEqual(encode(e, strings), cold);
    assert.deepEqual(encode(e, strings), cold);
    assert.deepEqual(encode({ ...e, topic: 'other' }, strings).length, cold.length - 10);
  });

  it('reports, never throws, on an entry cut at any length', () => {
    const buf = encode({ topic: 'grid.pmu.frames', key: 'north/pmu/1', value: Buffer.from('{"a":1}'), timestampMs: 5, headers: { site: 'north' } });
    const strings = new StringTable();
    for (let end = 0; end < buf.length; end++) assert.equal(typeof decodeEntry(buf, 0, end, strings), 'string', `cut at ${end}`);
  });
});

describe('segment record format', () => {
  const records = (n: number): Buffer => {
    const buf = Buffer.alloc(n * (HEADER_BYTES + 10));
    for (let i = 0; i < n; i++) {
      buf.fill(i + 1, i * 26 + HEADER_BYTES, i * 26 + 26);
      sealRecord(buf, i * 26, i + 1, 10);
    }
    return buf;
  };

  it('returns only whole records for a log cut at every byte offset, the rest as a torn tail', () => {
    const buf = records(3);
    for (let end = 0; end <= buf.length; end++) {
      const scan = scanRecords(buf, 0, end, 0);
      assert.equal(scan.records.length, Math.floor(end / 26));
      assert.deepEqual(scan.corrupt, []);
      const tail = end % 26;
      assert.deepEqual(scan.tornTail, tail === 0 ? null : { offset: end - tail, bytes: tail });
    }
  });

  it('rejects a record whose id does not increase, even with a valid CRC', () => {
    const buf = records(2);
    sealRecord(buf, 26, 1, 10); // the second record claims id 1 again
    const scan = scanRecords(buf, 0, buf.length, 0);
    assert.deepEqual(scan.records.map((r) => r.id), [1]);
    assert.deepEqual(scan.tornTail, { offset: 26, bytes: 26 });
  });
});

describe('the ledger', () => {
  it('round-trips a slot and rejects a damaged one', () => {
    const slot = encodeSlot({ generation: 7, ackedThrough: 2 ** 40 + 5 });
    assert.deepEqual(decodeSlot(slot, 0), { generation: 7, ackedThrough: 2 ** 40 + 5 });
    for (let i = 0; i < 28; i++) {
      const bad = Buffer.from(slot);
      flipBits(bad, i, 0x10);
      assert.equal(decodeSlot(bad, 0), undefined, `byte ${i}`);
    }
  });

  it('takes the valid slot with the higher generation', () => {
    const file = Buffer.alloc(1024);
    encodeSlot({ generation: 4, ackedThrough: 40 }).copy(file, 0);
    encodeSlot({ generation: 5, ackedThrough: 50 }).copy(file, 512);
    assert.deepEqual(decodeLedger(file), { generation: 5, ackedThrough: 50 });
    file[512 + 3] = 0;
    assert.deepEqual(decodeLedger(file), { generation: 4, ackedThrough: 40 });
    assert.equal(decodeLedger(Buffer.alloc(0)), undefined);
  });
});

describe('the acknowledged prefix', () => {
  it('advances only over contiguous acknowledgements, in any order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(Array.from({ length: 50 }, (_, i) => i + 1)), (order) => {
        const t = new AckTracker(0);
        const acked = new Set<number>();
        for (const id of order) {
          t.ack(id);
          acked.add(id);
          let expected = 0;
          while (acked.has(expected + 1)) expected++;
          assert.equal(t.ackedThrough, expected);
        }
      }),
    );
  });

  it('passes over settled (lost) ranges and acknowledgements inside them', () => {
    const t = new AckTracker(0);
    t.ack(5);
    t.ack(12);
    t.settle(2, 10);
    assert.equal(t.ackedThrough, 0);
    t.ack(1);
    assert.equal(t.ackedThrough, 10);
    assert.equal(t.pending, 1, 'only 12 still waits');
    t.ack(11);
    assert.equal(t.ackedThrough, 12);
    assert.equal(t.isAcked(3), true);
  });

  it('forces the prefix forward for dropped records', () => {
    const t = new AckTracker(3);
    t.ack(6);
    t.forceThrough(5);
    assert.equal(t.ackedThrough, 6);
    assert.equal(t.pending, 0);
  });
});

describe('capacity in hours', () => {
  it('averages the ingest rate over about a minute', () => {
    const m = new RateMeter();
    m.observe(1000);
    m.tick();
    assert.equal(m.bytesPerSecond, 1000);
    for (let i = 0; i < 60; i++) {
      m.observe(2000);
      m.tick();
    }
    assert.ok(m.bytesPerSecond > 1600 && m.bytesPerSecond < 2000, String(m.bytesPerSecond));
    assert.equal(m.settled, true);
  });

  it('uses maxBytes when given, rate × hours when only capacityHours is, and never less than two segments', () => {
    const base = { bytesPerSecond: 1000, settled: true, diskAvailableBytes: 1e12, segmentMaxBytes: 1024 };
    assert.equal(effectiveBound({ ...base, maxBytes: 5e6, capacityHours: 4 }, 1e9), 5e6);
    assert.equal(effectiveBound({ ...base, maxBytes: undefined, capacityHours: 4 }, 1e9), 4 * 3600 * 1000);
    assert.equal(effectiveBound({ ...base, maxBytes: undefined, capacityHours: undefined }, 1e9), 1e9);
    assert.equal(effectiveBound({ ...base, maxBytes: undefined, capacityHours: 4, settled: false }, 1e9), 1e12);
    assert.equal(effectiveBound({ ...base, maxBytes: 10, capacityHours: undefined }, 1e9), 2048);
    assert.equal(bytesNeeded(2, 500), 3_600_000);
    assert.equal(bytesNeeded(undefined, 500), undefined);
  });
});
