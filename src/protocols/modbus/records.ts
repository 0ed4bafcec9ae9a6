import { finite, type SourceRecord } from '../../pipeline/record.js';
import type { ReadFailure } from './connection.js';

// A tag's value as a `scada-value` record (schemas/scada-value.avsc): one record per tag and change
// (deadband) or quality change, keyed by <device>/<tag>. eventTime is when the read request was
// sent (Modbus has no device time stamps); ingestTime when its answer arrived.

export interface ModbusValueFields {
  device: string;
  tag: string;
  unitId: number;
  area: string;
  address: number;
  functionCode: number;
  type: string;
  unit: string;
}

export function scadaValueRecord(
  f: ModbusValueFields,
  value: number | boolean | string | null,
  raw: readonly number[],
  times: { sentUs: number; receivedUs: number },
  quality: number,
  failure: ReadFailure | undefined,
): SourceRecord {
  return {
    kind: 'scada-value',
    stream: `${f.device}/${f.tag}`,
    eventTimeUs: times.sentUs,
    ingestTimeUs: times.receivedUs,
    quality,
    body: {
      protocol: 'modbus',
      device: f.device,
      tag: f.tag,
      // A NaN or infinite float register: null, in JSON (which has no NaN) and Avro alike.
      value: typeof value === 'number' ? finite(value) : value,
      unit: f.unit,
      raw: [...raw],
      latencyUs: times.receivedUs - times.sentUs,
      modbus: { unitId: f.unitId, area: f.area, address: f.address, functionCode: f.functionCode, type: f.type },
      opcua: null,
      error: failure ? { kind: failure.kind, code: failure.kind === 'exception' ? failure.code : null, detail: failure.detail } : null,
    },
  };
}
