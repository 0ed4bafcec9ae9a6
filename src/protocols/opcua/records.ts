import { finite, type SourceRecord } from '../../pipeline/record.js';
import type { RecordValue, TimeSource } from './values.js';

// A monitored item's value as a `scada-value` record (schemas/scada-value.avsc), keyed by the
// item's name: one record per notification the server sends (it applies the deadband), plus one
// per item when the connection is lost (comms_failure) or the server refuses the item.
//
// eventTime is the sourceTimestamp (the device's time; serverTimestamp, then arrival, when the
// server sends none: `opcua.timeSource` says which); ingestTime is arrival; latencyUs the
// difference, i.e. what the server and the network added.

export interface OpcuaItemFields {
  /** The source name (OPC UA has no device level of its own: the server is the device). */
  device: string;
  /** The item name, also the stream. */
  tag: string;
  unit: string;
  nodeId: string;
}

export interface OpcuaReading {
  value: RecordValue;
  dataType: string;
  statusCode: number;
  statusName: string;
  eventTimeUs: number;
  timeSource: TimeSource;
  serverTimeUs: number | null;
  ingestTimeUs: number;
}

export function opcuaValueRecord(f: OpcuaItemFields, r: OpcuaReading, quality: number, error: { kind: string; detail: string } | null): SourceRecord {
  return {
    kind: 'scada-value',
    stream: f.tag,
    eventTimeUs: r.eventTimeUs,
    ingestTimeUs: r.ingestTimeUs,
    quality,
    body: {
      protocol: 'opcua',
      device: f.device,
      tag: f.tag,
      // A NaN or infinite Float/Double: null, in JSON (which has no NaN) and Avro alike.
      value: typeof r.value === 'number' ? finite(r.value) : r.value,
      unit: f.unit,
      raw: [],
      latencyUs: r.ingestTimeUs - r.eventTimeUs,
      modbus: null,
      opcua: {
        nodeId: f.nodeId,
        statusCode: r.statusCode,
        status: r.statusName,
        dataType: r.dataType,
        serverTime: r.serverTimeUs,
        timeSource: r.timeSource,
      },
      error: error ? { kind: error.kind, code: error.kind === 'status' ? r.statusCode : null, detail: error.detail } : null,
    },
  };
}
