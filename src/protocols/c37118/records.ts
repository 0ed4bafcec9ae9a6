import { finite, type SourceRecord } from '../../pipeline/record.js';
import { Quality } from '../shared/quality.js';
import type { DataColumns } from './data-frame.js';

// A decoded data frame → one `pmu-frame` record per PMU block (schemas/pmu-frame.avsc). The stream
// of a record is the PMU's own IDCODE, so a PDC stream carrying ten PMUs makes ten streams, each
// with its own key, partition and seq. This is where allocation happens, once per record; the
// decoding before it allocates nothing.

export function pmuFrameRecords(columns: DataColumns, ingestTimeUs: number, extraQuality: number, out: SourceRecord[]): void {
  const layout = columns.layout;
  const config = layout.config;
  for (let p = 0; p < layout.pmuCount; p++) {
    const pmu = config.pmus[p]!;
    const polar = columns.polar(p);
    const phasors = [];
    let absent = false;
    for (let i = layout.phasorStart[p]!, k = 0; i < layout.phasorStart[p + 1]!; i++, k++) {
      const a = columns.phasorA[i]!;
      const b = columns.phasorB[i]!;
      let magnitude: number, angle: number, re: number, im: number;
      if (polar) {
        magnitude = a;
        angle = b;
        re = a * Math.cos(b);
        im = a * Math.sin(b);
      } else {
        re = a;
        im = b;
        magnitude = Math.hypot(a, b);
        angle = Math.atan2(b, a);
      }
      if (Number.isNaN(a) || Number.isNaN(b)) absent = true;
      const ph = pmu.phasors[k]!;
      phasors.push({ name: ph.name, unit: ph.unit, magnitude: finite(magnitude), angle: finite(angle), re: finite(re), im: finite(im) });
    }
    const analogs = [];
    for (let i = layout.analogStart[p]!, k = 0; i < layout.analogStart[p + 1]!; i++, k++) {
      analogs.push({ name: pmu.analogs[k]!.name, value: finite(columns.analog[i]!) });
    }
    const digitals = [];
    for (let i = layout.digitalStart[p]!, k = 0; i < layout.digitalStart[p + 1]!; i++, k++) {
      const word = columns.digital[i]!;
      const dg = pmu.digitals[k]!;
      digitals.push({ word, alarms: (word ^ dg.normal) & dg.valid });
    }
    const freq = columns.freq[p]!;
    const rocof = columns.rocof[p]!;
    let quality = columns.quality[p]! | extraQuality;
    // A block the device did not measure in full: flag it, values stay null.
    if (absent || Number.isNaN(freq)) quality |= Quality.ABSENT;
    out.push({
      kind: 'pmu-frame',
      stream: String(pmu.idcode),
      eventTimeUs: columns.eventTimeUs,
      ingestTimeUs,
      quality,
      body: {
        pmu: { idcode: pmu.idcode, station: pmu.station, streamIdcode: config.idcode, cfgcnt: pmu.cfgcnt, fnom: pmu.fnom, dataRate: config.dataRate },
        stat: columns.stat[p]!,
        timeQuality: columns.timeQuality & 0x0f,
        freq: finite(freq),
        rocof: finite(rocof),
        phasors,
        analogs,
        digitals,
      },
    });
  }
}
