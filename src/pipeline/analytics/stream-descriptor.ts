// What a worker needs to know about a stream before its samples: the names of the values in each
// sample row and the stream's constants. The main thread sends a descriptor once per stream shape
// (a new PMU configuration gets a new slot); sample rows then carry only numbers.
//
// Sample row in a batch (Float64Array, one row after another):
//   [slot, eventTimeUs, ingestTimeUs, quality, value_0 … value_{n−1}]     n = channels.length
// Microsecond times fit a double exactly (< 2^53 until the year 2255).

import type { SourceAnalytics } from './config.js';

export const ROW_HEADER = 4;

export interface StreamDescriptor {
  /** Row tag; unique per pool for the life of the process. */
  slot: number;
  /** The Kafka key of the stream's records: site/source/stream. */
  key: string;
  source: string;
  stream: string;
  /** pmu: a PMU's frames on a reporting grid; scada: one SCADA tag's values, on change. */
  kind: 'pmu' | 'scada';
  /** Names of the row values, in order: freq, rocof, <phasor>.magnitude, <phasor>.angle, analogs. */
  channels: string[];
  /** Units of the channels ('Hz', 'Hz/s', 'V', 'A', 'rad', '' for analogs). */
  units: string[];
  /** Nominal reporting period, µs (from the device configuration). */
  periodUs: number;
  /** Nominal frequency, Hz. */
  fnom: number;
  /** The source's analytics settings (bases, phase names). */
  settings: SourceAnalytics;
}
