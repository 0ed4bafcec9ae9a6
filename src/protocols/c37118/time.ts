import { FRACTION_MASK, TIME_QUALITY_CLOCK_FAILURE, TIME_QUALITY_ERROR_S, TimeQualityBits } from './constants.js';

// Frame time (C37.118.2-2011 6.2.2): SOC seconds (UTC, leap seconds not counted) plus
// FRACSEC/TIME_BASE of a second. TIME_BASE is not always 10^6 (0xFFFFFF occurs), so the fraction
// is an exact ratio, not microseconds. SOC = 0 and FRACSEC = 0 are real times, never "unset".
//
// Nanoseconds are exact in BigInt (SOC × 10^9 exceeds 2^53). Microseconds fit a double exactly
// until the year 2255, and fraction × 10^6 < 2^44, so eventTimeUs is integer arithmetic too.

/** Microseconds since the epoch, the fraction rounded to the nearest microsecond. */
export function eventTimeUs(soc: number, fracsec: number, timeBase: number): number {
  const base = timeBase & FRACTION_MASK || 1_000_000;
  return soc * 1_000_000 + Math.round(((fracsec & FRACTION_MASK) * 1_000_000) / base);
}

/** Nanoseconds since the epoch, the fraction rounded to the nearest nanosecond. */
export function eventTimeNs(soc: number, fracsec: number, timeBase: number): bigint {
  const base = BigInt(timeBase & FRACTION_MASK || 1_000_000);
  const fraction = BigInt(fracsec & FRACTION_MASK);
  return BigInt(soc) * 1_000_000_000n + (fraction * 1_000_000_000n * 2n + base) / (2n * base);
}

/** Seconds since the epoch as a double (for display; exact to about 0.2 µs). */
export function eventTimeSeconds(soc: number, fracsec: number, timeBase: number): number {
  const base = timeBase & FRACTION_MASK || 1_000_000;
  return soc + (fracsec & FRACTION_MASK) / base;
}

/** ISO-8601 UTC with nanoseconds: 2006-06-06T08:00:00.016817000Z. */
export function isoTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString(); // …T08:00:00.000Z
  return `${iso.slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z`;
}

export interface TimeQuality {
  /** Table 4 code, 0 (locked) … 0xF (clock failure). */
  code: number;
  /** Worst-case clock error in seconds; null when the clock has failed or the code is reserved. */
  maxErrorS: number | null;
  clockFailure: boolean;
  leapSecondPending: boolean;
  leapSecondOccurred: boolean;
  /** Direction of the pending or last leap second: 'add' or 'delete'. */
  leapSecondDirection: 'add' | 'delete';
}

/** The message time quality byte (FRACSEC bits 31–24). */
export function timeQuality(byte: number): TimeQuality {
  const code = byte & TimeQualityBits.QUALITY_MASK;
  return {
    code,
    maxErrorS: TIME_QUALITY_ERROR_S[code] ?? null,
    clockFailure: code === TIME_QUALITY_CLOCK_FAILURE,
    leapSecondPending: (byte & TimeQualityBits.LEAP_PENDING) !== 0,
    leapSecondOccurred: (byte & TimeQualityBits.LEAP_OCCURRED) !== 0,
    leapSecondDirection: byte & TimeQualityBits.LEAP_DIRECTION ? 'delete' : 'add',
  };
}
