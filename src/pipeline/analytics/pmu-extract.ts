import type { SourceRecord } from '../record.js';
import type { SourceAnalytics } from './config.js';
import type { StreamDescriptor } from './stream-descriptor.js';

// A `pmu-frame` record (src/protocols/c37118/records.ts) seen by the analytics: its channel names
// (once per configuration) and its values (per frame) in the order of those names. Values come
// from the record body the source already built, so the sources know nothing about analytics.

interface PmuFrameBody {
  pmu: { idcode: number; cfgcnt: number; fnom: number; dataRate: number };
  freq: number | null;
  rocof: number | null;
  phasors: { name: string; unit: 'V' | 'A'; magnitude: number | null; angle: number | null }[];
  analogs: { name: string; value: number | null }[];
}

/** What identifies a shape: a stream keeps its slot while this stays the same. */
export interface PmuShape {
  cfgcnt: number;
  dataRate: number;
  phasors: number;
  analogs: number;
}

export function pmuShape(record: SourceRecord): PmuShape {
  const b = record.body as unknown as PmuFrameBody;
  return { cfgcnt: b.pmu.cfgcnt, dataRate: b.pmu.dataRate, phasors: b.phasors.length, analogs: b.analogs.length };
}

/** Is the record of this shape? (Compared field by field: no string per frame.) */
export function sameShape(record: SourceRecord, shape: PmuShape): boolean {
  const b = record.body as unknown as PmuFrameBody;
  return b.pmu.cfgcnt === shape.cfgcnt && b.pmu.dataRate === shape.dataRate && b.phasors.length === shape.phasors && b.analogs.length === shape.analogs;
}

/** Reporting period from C37.118 DATA_RATE: > 0 frames per second, < 0 seconds per frame. */
export const periodUs = (dataRate: number): number => (dataRate > 0 ? 1e6 / dataRate : dataRate < 0 ? -dataRate * 1e6 : 0);

export function pmuDescriptor(
  record: SourceRecord,
  ids: { slot: number; key: string; source: string },
  settings: SourceAnalytics,
): StreamDescriptor {
  const b = record.body as unknown as PmuFrameBody;
  const channels = ['freq', 'rocof'];
  const units = ['Hz', 'Hz/s'];
  for (const p of b.phasors) {
    channels.push(`${p.name}.magnitude`, `${p.name}.angle`);
    units.push(p.unit, 'rad');
  }
  for (const a of b.analogs) {
    channels.push(a.name);
    units.push('');
  }
  return {
    ...ids,
    stream: record.stream,
    kind: 'pmu',
    channels,
    units,
    periodUs: periodUs(b.pmu.dataRate),
    fnom: b.pmu.fnom,
    settings,
  };
}

const val = (x: number | null): number => (x === null ? NaN : x);

/** Write the record's values at `at` in `into`, in descriptor order. */
export function pmuValues(record: SourceRecord, into: Float64Array, at: number): void {
  const b = record.body as unknown as PmuFrameBody;
  into[at++] = val(b.freq);
  into[at++] = val(b.rocof);
  for (const p of b.phasors) {
    into[at++] = val(p.magnitude);
    into[at++] = val(p.angle);
  }
  for (const a of b.analogs) into[at++] = val(a.value);
}

/** Number of values pmuValues writes. */
export const pmuValueCount = (record: SourceRecord): number => {
  const b = record.body as unknown as PmuFrameBody;
  return 2 + 2 * b.phasors.length + b.analogs.length;
};
