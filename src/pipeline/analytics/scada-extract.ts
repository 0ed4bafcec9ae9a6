import type { SourceRecord } from '../record.js';
import type { SourceAnalytics } from './config.js';
import type { SampleExtractor } from './extractors.js';

// A `scada-value` record (Modbus now, OPC UA later) seen by the analytics: one channel, `value`,
// in the tag's unit (a boolean as 0/1; a string or a failed read as NaN, left out of the
// statistics). SCADA values arrive on change, not on a reporting grid: the stream has no period,
// so no expected count and no gap or duplicate accounting; B is 0 (values of one tag arrive in
// order) and idle windows close after the idle timeout. Staleness is the source's to report (it
// is in the record's quality), so no `stale` flag here.

interface ScadaBody {
  value: number | boolean | string | null;
  unit: string;
}

/** No phasors: the PMU channel map finds none of these names. */
export const NO_PHASORS: SourceAnalytics = { voltagePhasors: [], currentPhasors: [], positiveSequence: { voltage: '', current: '' } };

export const SCADA_EXTRACTOR: SampleExtractor<string> = {
  shape: (record) => (record.body as unknown as ScadaBody).unit,
  sameShape: (record, unit) => (record.body as unknown as ScadaBody).unit === unit,
  count: () => 1,
  descriptor: (record, ids) => ({
    ...ids,
    stream: record.stream,
    kind: 'scada',
    channels: ['value'],
    units: [(record.body as unknown as ScadaBody).unit],
    periodUs: 0,
    fnom: 0,
    settings: NO_PHASORS,
  }),
  values: (record: SourceRecord, into, at) => {
    const v = (record.body as unknown as ScadaBody).value;
    into[at] = typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : NaN;
  },
};
