import { DataType, VariantArrayType, type DataValue, type Variant } from 'node-opcua';

// An OPC UA Variant as a record value (number, boolean, string or null; schemas/scada-value.avsc)
// and a DataValue's time stamps in microseconds.
//
// Numbers stay numbers, Int64 and UInt64 included (node-opcua gives them as [high, low] 32-bit
// words; above 2^53 the double rounds, as any JSON consumer would). Text-like types become their
// text, DateTime its ISO form, ByteString base64, arrays and structures their JSON text: the record
// stays one scalar per value and nothing is dropped; `dataType` says what it was.

export type RecordValue = number | boolean | string | null;

export function recordValue(variant: Variant | null | undefined): RecordValue {
  if (!variant || variant.dataType === DataType.Null || variant.value === null || variant.value === undefined) return null;
  if (variant.arrayType !== VariantArrayType.Scalar) return JSON.stringify(Array.from(variant.value as ArrayLike<unknown>, (v) => scalar(variant.dataType, v)));
  return scalar(variant.dataType, variant.value);
}

function scalar(type: DataType, v: unknown): RecordValue {
  switch (type) {
    case DataType.Boolean:
      return Boolean(v);
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return Number(v);
    case DataType.Int64:
    case DataType.UInt64:
      return Array.isArray(v) ? int64(v as [number, number], type === DataType.Int64) : Number(v);
    case DataType.String:
      return v as string;
    case DataType.DateTime:
      return v instanceof Date ? v.toISOString() : String(v);
    case DataType.ByteString:
      return Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    case DataType.LocalizedText:
      return (v as { text?: string | null }).text ?? '';
    case DataType.StatusCode:
      return (v as { value: number }).value;
    default: {
      // NodeId, QualifiedName, Guid, ExtensionObject …: their text form (a NodeId's JSON form is
      // already its text: not quoted again).
      if (typeof v !== 'object' || v === null) return String(v);
      const json = 'toJSON' in v && typeof v.toJSON === 'function' ? (v.toJSON as () => unknown)() : v;
      return typeof json === 'string' ? json : JSON.stringify(json);
    }
  }
}

function int64([high, low]: [number, number], signed: boolean): number {
  const h = signed ? high | 0 : high >>> 0;
  return h * 0x1_0000_0000 + (low >>> 0);
}

/** The name of a Variant's data type, with [] for arrays (Double, Int32[] …). */
export function dataTypeName(variant: Variant | null | undefined): string {
  if (!variant) return 'Null';
  const name = DataType[variant.dataType] ?? String(variant.dataType);
  return variant.arrayType === VariantArrayType.Scalar ? name : `${name}[]`;
}

/** A DataValue time stamp in microseconds since 1970 (the picoseconds below the millisecond kept to the µs), or null. */
export function timestampUs(date: Date | null | undefined, picoseconds: number | null | undefined): number | null {
  if (!date) return null;
  const ms = date.getTime();
  // node-opcua's "no time stamp" is 1601-01-01 (OPC UA's zero), or an invalid Date.
  if (!Number.isFinite(ms) || ms <= MIN_OPCUA_MS) return null;
  return ms * 1000 + Math.floor((picoseconds ?? 0) / 1_000_000);
}

const MIN_OPCUA_MS = Date.UTC(1601, 0, 1);

export type TimeSource = 'source' | 'server' | 'gateway';

/** eventTime: sourceTimestamp, else serverTimestamp, else the arrival time (with the source it came from). */
export function eventTime(dv: DataValue, arrivedUs: number): { us: number; from: TimeSource; serverUs: number | null } {
  const source = timestampUs(dv.sourceTimestamp, dv.sourcePicoseconds);
  const server = timestampUs(dv.serverTimestamp, dv.serverPicoseconds);
  if (source !== null) return { us: source, from: 'source', serverUs: server };
  if (server !== null) return { us: server, from: 'server', serverUs: server };
  return { us: arrivedUs, from: 'gateway', serverUs: null };
}
