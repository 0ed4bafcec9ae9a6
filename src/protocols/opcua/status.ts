import { Quality } from '../shared/quality.js';

// An OPC UA StatusCode (Part 4 §7.39) in the shared quality model. The record keeps the full code
// and its name; the quality carries the level the code's severity says, with the reason closest to
// what the code means, and status_bad / status_uncertain when no shared reason fits.
//
//   bits 31–30  severity: 00 good, 01 uncertain, 10 (and 11) bad
//   bits 29–16  the sub-code (BadNodeIdUnknown, UncertainLastUsableValue …)
//   bit  15     StructureChanged, bit 14 SemanticsChanged → config_changed
//   bits 11–10  InfoType: 01 = DataValue info bits follow
//   bit   7     Overflow (a monitored item's queue dropped values) → overflow

/** Sub-codes (the upper 16 bits) with a shared reason. */
const REASON_OF_CODE = new Map<number, number>([
  // No communication with the device or the server.
  [0x8005, Quality.COMMS_FAILURE], // BadCommunicationError
  [0x8031, Quality.COMMS_FAILURE], // BadNoCommunication
  [0x808a, Quality.COMMS_FAILURE], // BadNotConnected
  [0x800d, Quality.COMMS_FAILURE], // BadServerNotConnected
  [0x80ae, Quality.COMMS_FAILURE], // BadConnectionClosed
  [0x800a, Quality.COMMS_FAILURE], // BadTimeout
  [0x800e, Quality.COMMS_FAILURE], // BadServerHalted
  [0x800c, Quality.COMMS_FAILURE], // BadShutdown
  [0x8086, Quality.COMMS_FAILURE], // BadSecureChannelClosed
  [0x8026, Quality.COMMS_FAILURE], // BadSessionClosed
  [0x8025, Quality.COMMS_FAILURE], // BadSessionIdInvalid
  // The server refused what we asked for.
  [0x8034, Quality.REJECTED], // BadNodeIdUnknown
  [0x8033, Quality.REJECTED], // BadNodeIdInvalid
  [0x8035, Quality.REJECTED], // BadAttributeIdInvalid
  [0x803a, Quality.REJECTED], // BadNotReadable
  [0x801f, Quality.REJECTED], // BadUserAccessDenied
  [0x806f, Quality.REJECTED], // BadNoMatch (a browse path that resolves to nothing)
  [0x8060, Quality.REJECTED], // BadBrowseNameInvalid
  [0x8044, Quality.REJECTED], // BadMonitoredItemFilterUnsupported
  [0x8045, Quality.REJECTED], // BadFilterNotAllowed
  [0x808e, Quality.REJECTED], // BadDeadbandFilterInvalid (percent deadband without EURange)
  [0x80db, Quality.REJECTED], // BadTooManyMonitoredItems
  [0x803d, Quality.REJECTED], // BadNotSupported
  [0x8036, Quality.REJECTED], // BadIndexRangeInvalid
  // No value (yet).
  [0x8032, Quality.ABSENT], // BadWaitingForInitialData
  [0x809b, Quality.ABSENT], // BadNoData
  [0x80b1, Quality.ABSENT], // BadNoDataAvailable
  [0x809e, Quality.ABSENT], // BadDataUnavailable
  // The device says its data is wrong.
  [0x808b, Quality.DATA_INVALID], // BadDeviceFailure
  [0x808c, Quality.DATA_INVALID], // BadSensorFailure
  [0x8089, Quality.DATA_INVALID], // BadConfigurationError
  [0x808d, Quality.DATA_INVALID], // BadOutOfService
  // Changed by someone after measurement.
  [0x4091, Quality.DATA_MODIFIED], // UncertainSubstituteValue
  [0x0096, Quality.DATA_MODIFIED], // GoodLocalOverride
]);

const STRUCTURE_OR_SEMANTICS_CHANGED = 0xc000;
const INFO_TYPE_DATA_VALUE = 0x0400;
const OVERFLOW = 0x0080;

export type Severity = 'good' | 'uncertain' | 'bad';

export function severityOf(code: number): Severity {
  const s = code >>> 30;
  return s === 0 ? 'good' : s === 1 ? 'uncertain' : 'bad';
}

/** The quality flags of a StatusCode (a 32-bit unsigned value). */
export function statusQuality(code: number): number {
  const c = code >>> 0;
  let flags = REASON_OF_CODE.get(c >>> 16) ?? 0;
  if (c & STRUCTURE_OR_SEMANTICS_CHANGED) flags |= Quality.CONFIG_CHANGED;
  if ((c & 0x0c00) === INFO_TYPE_DATA_VALUE && c & OVERFLOW) flags |= Quality.OVERFLOW;
  const severity = severityOf(c);
  // The level must follow the severity: a reason of a milder level does not carry it.
  if (severity === 'bad' && !(flags & BAD_REASONS)) flags |= Quality.STATUS_BAD;
  if (severity === 'uncertain' && !(flags & UNCERTAIN_REASONS)) flags |= Quality.STATUS_UNCERTAIN;
  return flags;
}

const BAD_REASONS = Quality.COMMS_FAILURE | Quality.REJECTED | Quality.ABSENT | Quality.DATA_INVALID;
const UNCERTAIN_REASONS = Quality.DATA_MODIFIED | Quality.CONFIG_CHANGED;

/** True when the StatusCode says a value's queue overflowed (values were dropped before it). */
export function overflowed(code: number): boolean {
  return ((code >>> 0) & 0x0c00) === INFO_TYPE_DATA_VALUE && (code & OVERFLOW) !== 0;
}
