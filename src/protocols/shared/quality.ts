// One quality model for every protocol (ARCHITECTURE.md, the record contract): a level (good,
// uncertain, bad) and the reasons behind it. Sources compute a bit set in their hot loops, which
// costs nothing to carry; the names are produced once per record at the edge (JSON, Avro).
//
// The level is a function of the reasons, so a consumer never sees "good" beside a reason that
// says otherwise:
//   bad       the value must not be used: invalid or absent data, no communication, stale,
//             a failed clock, a device in test mode (C37.118.2-2011 Table 7: "do not use values"),
//             a request the device refused (Modbus exception, OPC UA unknown node), or the
//             device's own status (OPC UA) says bad
//   uncertain usable with care: time sync lost or unlocked, configuration changing, data
//             modified after measurement, a device error without a data verdict, or the
//             device's own status says uncertain
//   good      none of the above (informational reasons such as a trigger may still be present)

export const Quality = {
  STALE: 1 << 0, // no update for longer than the source's stale limit
  COMMS_FAILURE: 1 << 1, // the connection to the device is down
  DATA_INVALID: 1 << 2, // the device says the data is in error (C37.118 STAT 15–14 = 11)
  ABSENT: 1 << 3, // no measurement (NaN, the int16 0x8000 marker, STAT 0xFFFF)
  CLOCK_FAILURE: 1 << 4, // the message time quality says the clock failed: timestamps may be days off
  SYNC_LOST: 1 << 5, // the device is not synchronised to UTC (C37.118 STAT bit 13)
  TIME_UNLOCKED: 1 << 6, // sync lost for 10 s or more (STAT bits 5–4 ≠ 00)
  TEST_MODE: 1 << 7, // the device is in test mode (STAT 15–14 = 10)
  DEVICE_ERROR: 1 << 8, // the device reports an error without a verdict on the data (STAT 15–14 = 01)
  CONFIG_CHANGED: 1 << 9, // the device's configuration is changing or just changed
  DATA_MODIFIED: 1 << 10, // data modified after measurement (C37.118 STAT bit 9)
  TRIGGER: 1 << 11, // informational: a device trigger fired
  SORTED_BY_ARRIVAL: 1 << 12, // informational: a PDC sorted this data by arrival, not time stamp
  LEAP_SECOND_PENDING: 1 << 13, // informational: a leap second is coming
  REJECTED: 1 << 14, // the device refused the request (a Modbus exception: illegal address, an OPC UA unknown node, …)
  STATUS_BAD: 1 << 15, // the device's own status says bad and no reason above says why (OPC UA: see the record's status code)
  STATUS_UNCERTAIN: 1 << 16, // the device's own status says uncertain and no reason above says why
  OVERFLOW: 1 << 17, // informational: the server's queue for this value overflowed; older values were dropped
} as const;
export type QualityFlag = (typeof Quality)[keyof typeof Quality];

export const QUALITY_BAD =
  Quality.STALE |
  Quality.COMMS_FAILURE |
  Quality.DATA_INVALID |
  Quality.ABSENT |
  Quality.CLOCK_FAILURE |
  Quality.TEST_MODE |
  Quality.REJECTED |
  Quality.STATUS_BAD;
export const QUALITY_UNCERTAIN =
  Quality.SYNC_LOST |
  Quality.TIME_UNLOCKED |
  Quality.DEVICE_ERROR |
  Quality.CONFIG_CHANGED |
  Quality.DATA_MODIFIED |
  Quality.STATUS_UNCERTAIN;

export type QualityLevel = 'good' | 'uncertain' | 'bad';

export function qualityLevel(flags: number): QualityLevel {
  if (flags & QUALITY_BAD) return 'bad';
  if (flags & QUALITY_UNCERTAIN) return 'uncertain';
  return 'good';
}

const REASON_NAMES: readonly [number, string][] = [
  [Quality.STALE, 'stale'],
  [Quality.COMMS_FAILURE, 'comms_failure'],
  [Quality.DATA_INVALID, 'data_invalid'],
  [Quality.ABSENT, 'absent'],
  [Quality.CLOCK_FAILURE, 'clock_failure'],
  [Quality.SYNC_LOST, 'sync_lost'],
  [Quality.TIME_UNLOCKED, 'time_unlocked'],
  [Quality.TEST_MODE, 'test_mode'],
  [Quality.REJECTED, 'rejected'],
  [Quality.STATUS_BAD, 'status_bad'],
  [Quality.DEVICE_ERROR, 'device_error'],
  [Quality.CONFIG_CHANGED, 'config_changed'],
  [Quality.DATA_MODIFIED, 'data_modified'],
  [Quality.STATUS_UNCERTAIN, 'status_uncertain'],
  [Quality.TRIGGER, 'trigger'],
  [Quality.SORTED_BY_ARRIVAL, 'sorted_by_arrival'],
  [Quality.LEAP_SECOND_PENDING, 'leap_second_pending'],
  [Quality.OVERFLOW, 'overflow'],
];

export const QUALITY_REASONS: readonly string[] = REASON_NAMES.map(([, name]) => name);

/** The reason names of `flags`, in a fixed order. */
export function qualityReasons(flags: number): string[] {
  const names: string[] = [];
  for (const [bit, name] of REASON_NAMES) if (flags & bit) names.push(name);
  return names;
}

export interface QualityJson {
  level: QualityLevel;
  reasons: string[];
}

export function qualityJson(flags: number): QualityJson {
  return { level: qualityLevel(flags), reasons: qualityReasons(flags) };
}
