import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType, DataValue, LocalizedText, QualifiedName, StatusCodes, Variant, VariantArrayType, resolveNodeId } from 'node-opcua';
import { dataTypeName, eventTime, recordValue, timestampUs } from '../../../../src/protocols/opcua/values.js';

const scalar = (dataType: DataType, value: unknown): Variant => new Variant({ dataType, arrayType: VariantArrayType.Scalar, value });
const array = (dataType: DataType, value: unknown): Variant => new Variant({ dataType, arrayType: VariantArrayType.Array, value });

describe('recordValue', () => {
  it('keeps every numeric type a number', () => {
    const cases: [DataType, number][] = [
      [DataType.SByte, -128],
      [DataType.Byte, 255],
      [DataType.Int16, -32_768],
      [DataType.UInt16, 65_535],
      [DataType.Int32, -2_147_483_648],
      [DataType.UInt32, 4_294_967_295],
      [DataType.Double, 230.125],
    ];
    for (const [type, value] of cases) assert.equal(recordValue(scalar(type, value)), value, DataType[type]);
    assert.equal(recordValue(scalar(DataType.Float, 1.5)), 1.5);
  });

  it('reads Int64 and UInt64 from their [high, low] words, negative Int64 included', () => {
    assert.equal(recordValue(scalar(DataType.Int64, [0, 7])), 7);
    assert.equal(recordValue(scalar(DataType.Int64, [0xffff_ffff, 0xffff_fffe])), -2);
    assert.equal(recordValue(scalar(DataType.Int64, [0xffff_ffff, 0xffff_ffff])), -1);
    assert.equal(recordValue(scalar(DataType.Int64, [0x8000_0000, 0])), -(2 ** 63));
    assert.equal(recordValue(scalar(DataType.Int64, [0x7fff_ffff, 0xffff_ffff])), 2 ** 63 - 1, 'rounds above 2^53, as a double does');
    assert.equal(recordValue(scalar(DataType.UInt64, [1, 0])), 2 ** 32);
    assert.equal(recordValue(scalar(DataType.UInt64, [0xffff_ffff, 0xffff_fffe])), 2 ** 64 - 2, 'UInt64 high word is unsigned');
    assert.equal(recordValue(scalar(DataType.UInt64, [0x001f_ffff, 0xffff_ffff])), Number.MAX_SAFE_INTEGER);
  });

  it('takes an Int64 built from a plain number the same way (node-opcua turns it into words)', () => {
    assert.equal(recordValue(scalar(DataType.Int64, -2)), -2);
    assert.equal(recordValue(scalar(DataType.UInt64, 5)), 5);
  });

  it('keeps booleans and strings as they are', () => {
    assert.equal(recordValue(scalar(DataType.Boolean, true)), true);
    assert.equal(recordValue(scalar(DataType.Boolean, false)), false);
    assert.equal(recordValue(scalar(DataType.String, 'Feeder 1 — closed')), 'Feeder 1 — closed');
    assert.equal(recordValue(scalar(DataType.String, '')), '');
  });

  it('gives a LocalizedText its text, without the locale', () => {
    assert.equal(recordValue(scalar(DataType.LocalizedText, new LocalizedText({ text: 'Open', locale: 'en' }))), 'Open');
    assert.equal(recordValue(scalar(DataType.LocalizedText, new LocalizedText({ locale: 'en' }))), '');
  });

  it('gives a DateTime its ISO form and a ByteString its base64', () => {
    assert.equal(recordValue(scalar(DataType.DateTime, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))), '2024-01-02T03:04:05.006Z');
    assert.equal(recordValue(scalar(DataType.ByteString, Buffer.from([0xde, 0xad, 0xbe, 0xef]))), '3q2+7w==');
  });

  it('gives a StatusCode value its numeric code', () => {
    assert.equal(recordValue(scalar(DataType.StatusCode, StatusCodes.BadNodeIdUnknown)), 0x8034_0000);
  });

  it('gives a Guid its text', () => {
    assert.equal(recordValue(scalar(DataType.Guid, '72962B91-FA75-4AE6-8D28-B404DC7DAF63')), '72962B91-FA75-4AE6-8D28-B404DC7DAF63');
  });

  it('gives a NodeId value its text form, not a JSON-quoted string', () => {
    // NodeId.toJSON() returns the string "ns=2;s=Feeder1.P", so JSON.stringify() of it adds quotes.
    assert.equal(recordValue(scalar(DataType.NodeId, resolveNodeId('ns=2;s=Feeder1.P'))), 'ns=2;s=Feeder1.P');
  });

  it('gives a structure its JSON text', () => {
    assert.deepEqual(JSON.parse(String(recordValue(scalar(DataType.QualifiedName, new QualifiedName({ namespaceIndex: 2, name: 'P' }))))), {
      namespaceIndex: 2,
      name: 'P',
    });
  });

  it('gives Null, an empty Variant and a missing one null', () => {
    assert.equal(recordValue(new Variant({ dataType: DataType.Null })), null);
    assert.equal(recordValue(scalar(DataType.String, null)), null);
    assert.equal(recordValue(undefined), null);
    assert.equal(recordValue(null), null);
  });

  it('gives an array the JSON text of its converted elements', () => {
    assert.equal(recordValue(array(DataType.Double, [1.5, -2, 0])), '[1.5,-2,0]');
    assert.equal(recordValue(array(DataType.Byte, [1, 2, 255])), '[1,2,255]', 'a typed array (Uint8Array) too');
    assert.equal(recordValue(array(DataType.Boolean, [true, false])), '[true,false]');
    assert.equal(recordValue(array(DataType.String, ['a', 'b"c'])), '["a","b\\"c"]');
    assert.equal(recordValue(array(DataType.Int64, [[0xffff_ffff, 0xffff_fffe], [0, 7]])), '[-2,7]');
    assert.equal(recordValue(array(DataType.LocalizedText, [new LocalizedText({ text: 'x' }), new LocalizedText({ text: 'y' })])), '["x","y"]');
    assert.equal(recordValue(array(DataType.ByteString, [Buffer.from([1, 2, 3])])), '["AQID"]');
    assert.equal(recordValue(array(DataType.Double, [])), '[]');
  });

  it('returns only numbers, booleans, strings or null, whatever the type', () => {
    const variants = [
      scalar(DataType.Double, 1),
      scalar(DataType.Int64, [0, 1]),
      scalar(DataType.DateTime, new Date(0)),
      scalar(DataType.ByteString, Buffer.alloc(2)),
      scalar(DataType.QualifiedName, new QualifiedName({ name: 'x' })),
      scalar(DataType.NodeId, resolveNodeId('i=2258')),
      array(DataType.Float, [1, 2]),
    ];
    for (const v of variants) assert.ok(['number', 'boolean', 'string'].includes(typeof recordValue(v)), dataTypeName(v));
  });
});

describe('dataTypeName', () => {
  it('names the type, with [] for arrays', () => {
    assert.equal(dataTypeName(scalar(DataType.Double, 1)), 'Double');
    assert.equal(dataTypeName(scalar(DataType.Int64, [0, 1])), 'Int64');
    assert.equal(dataTypeName(array(DataType.Int32, [1])), 'Int32[]');
    assert.equal(dataTypeName(scalar(DataType.LocalizedText, new LocalizedText({ text: 'x' }))), 'LocalizedText');
    assert.equal(dataTypeName(new Variant({ dataType: DataType.Null })), 'Null');
    assert.equal(dataTypeName(undefined), 'Null');
  });
});

describe('timestampUs', () => {
  const ms = Date.UTC(2024, 5, 1, 12, 0, 0, 123);

  it('gives microseconds since 1970', () => {
    assert.equal(timestampUs(new Date(ms), 0), ms * 1000);
    assert.equal(timestampUs(new Date(ms), undefined), ms * 1000);
    assert.equal(timestampUs(new Date(ms), null), ms * 1000);
  });

  it('keeps the picoseconds below the millisecond to the microsecond, truncating the rest', () => {
    // node-opcua carries the part of the time below 1 ms as picoseconds (100 ns ticks × 100 000 + 10 ps units × 10).
    assert.equal(timestampUs(new Date(ms), 456_789_000), ms * 1000 + 456);
    assert.equal(timestampUs(new Date(ms), 999_999_999), ms * 1000 + 999);
    assert.equal(timestampUs(new Date(ms), 999_999), ms * 1000, 'less than a microsecond adds nothing');
    assert.equal(timestampUs(new Date(ms), 1_000_000), ms * 1000 + 1);
  });

  it('gives null for OPC UA zero time (1601-01-01), before it, an invalid Date and no Date', () => {
    assert.equal(timestampUs(new Date(Date.UTC(1601, 0, 1)), 0), null);
    assert.equal(timestampUs(new Date(Date.UTC(1601, 0, 1)), 500_000_000), null);
    assert.equal(timestampUs(new Date(Date.UTC(1600, 11, 31)), 0), null);
    assert.equal(timestampUs(new Date(Number.NaN), 0), null);
    assert.equal(timestampUs(null, 0), null);
    assert.equal(timestampUs(undefined, undefined), null);
  });

  it('keeps a time just after 1601 and before 1970', () => {
    const justAfter = Date.UTC(1601, 0, 1) + 1;
    assert.equal(timestampUs(new Date(justAfter), 0), justAfter * 1000);
    assert.equal(timestampUs(new Date(-1), 250_000_000), -1000 + 250);
  });
});

describe('eventTime', () => {
  const source = new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 100));
  const server = new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 200));
  const arrivedUs = Date.UTC(2024, 5, 1, 12, 0, 0, 300) * 1000;
  const dv = (fields: Partial<Pick<DataValue, 'sourceTimestamp' | 'sourcePicoseconds' | 'serverTimestamp' | 'serverPicoseconds'>>): DataValue =>
    new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }), ...fields });

  it('takes the source time stamp, with the server one beside it', () => {
    assert.deepEqual(eventTime(dv({ sourceTimestamp: source, sourcePicoseconds: 7_000_000, serverTimestamp: server }), arrivedUs), {
      us: source.getTime() * 1000 + 7,
      from: 'source',
      serverUs: server.getTime() * 1000,
    });
    assert.deepEqual(eventTime(dv({ sourceTimestamp: source }), arrivedUs), { us: source.getTime() * 1000, from: 'source', serverUs: null });
  });

  it('falls back to the server time stamp without a source one', () => {
    assert.deepEqual(eventTime(dv({ serverTimestamp: server, serverPicoseconds: 3_000_000 }), arrivedUs), {
      us: server.getTime() * 1000 + 3,
      from: 'server',
      serverUs: server.getTime() * 1000 + 3,
    });
  });

  it('treats a 1601 source time stamp as absent', () => {
    assert.equal(eventTime(dv({ sourceTimestamp: new Date(Date.UTC(1601, 0, 1)), serverTimestamp: server }), arrivedUs).from, 'server');
  });

  it('falls back to the gateway arrival time without either', () => {
    assert.deepEqual(eventTime(dv({}), arrivedUs), { us: arrivedUs, from: 'gateway', serverUs: null });
    assert.deepEqual(eventTime(dv({ sourceTimestamp: new Date(Date.UTC(1601, 0, 1)), serverTimestamp: new Date(Date.UTC(1601, 0, 1)) }), arrivedUs), {
      us: arrivedUs,
      from: 'gateway',
      serverUs: null,
    });
  });
});
