import { qualityJson, type QualityJson } from '../shared/quality.js';
import type { ConfigFrame } from './cfg-frame.js';
import { ANALOG_TYPE_NAMES, COMMAND_NAMES, FRACTION_MASK } from './constants.js';
import type { DataColumns } from './data-frame.js';
import { statJson, type StatJson } from './stat.js';
import type { Decoded } from './stream-decoder.js';
import { eventTimeNs, eventTimeSeconds, isoTime, timeQuality, type TimeQuality } from './time.js';

// Plain objects for people and tools: `gridgate decode c37118` prints them as JSON Lines, the
// probe summarises them, tests compare them with the reference vectors. Not the hot path: the
// Kafka records are built from the columns directly (record.ts).

export interface FrameTimeJson {
  iso: string;
  /** Seconds since the epoch; a double, so exact to about 0.2 µs. */
  epoch: number;
  /** Nanoseconds since the epoch as a decimal string (exact, BigInt). */
  epochNs: string;
  soc: number;
  fracsec: number;
  timeBase: number;
  quality: TimeQuality;
}

export function timeJson(soc: number, fracsec: number, timeBase: number): FrameTimeJson {
  const ns = eventTimeNs(soc, fracsec, timeBase);
  return {
    iso: isoTime(ns),
    epoch: eventTimeSeconds(soc, fracsec, timeBase),
    epochNs: ns.toString(),
    soc,
    fracsec: fracsec & FRACTION_MASK,
    timeBase,
    quality: timeQuality(fracsec >>> 24),
  };
}

export interface PhasorJson {
  name: string;
  unit: 'V' | 'A';
  magnitude: number | null;
  angleRad: number | null;
  re: number | null;
  im: number | null;
}

export interface PmuDataJson {
  idcode: number;
  station: string;
  stat: StatJson;
  quality: QualityJson;
  freq: number | null;
  rocof: number | null;
  phasors: PhasorJson[];
  analogs: { name: string; value: number | null }[];
  digitals: { word: number; alarms: number; labels: string[] }[];
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Every PMU block of a decoded data frame. */
export function dataJson(columns: DataColumns): PmuDataJson[] {
  const layout = columns.layout;
  return layout.config.pmus.map((pmu, p) => {
    const phasors = pmu.phasors.map((ph, k): PhasorJson => {
      const i = layout.phasorStart[p]! + k;
      const a = columns.phasorA[i]!;
      const b = columns.phasorB[i]!;
      const [re, im, magnitude, angle] = columns.polar(p)
        ? [a * Math.cos(b), a * Math.sin(b), a, b]
        : [a, b, Math.hypot(a, b), Math.atan2(b, a)];
      return { name: ph.name, unit: ph.unit, magnitude: num(magnitude), angleRad: num(angle), re: num(re), im: num(im) };
    });
    const analogs = pmu.analogs.map((an, k) => ({ name: an.name, value: num(columns.analog[layout.analogStart[p]! + k]!) }));
    const digitals = pmu.digitals.map((dg, k) => {
      const word = columns.digital[layout.digitalStart[p]! + k]!;
      // Alarm bits: inputs away from their normal state, among the valid ones (notes 17).
      return { word, alarms: (word ^ dg.normal) & dg.valid, labels: dg.labels };
    });
    return {
      idcode: pmu.idcode,
      station: pmu.station,
      stat: statJson(columns.stat[p]!),
      quality: qualityJson(columns.quality[p]!),
      freq: num(columns.freq[p]!),
      rocof: num(columns.rocof[p]!),
      phasors,
      analogs,
      digitals,
    };
  });
}

export function configJson(config: ConfigFrame): Record<string, unknown> {
  return {
    timeBase: config.timeBase,
    dataRate: config.dataRate,
    framesPerSecond: config.dataRate >= 0 ? config.dataRate : 1 / -config.dataRate,
    pmus: config.pmus.map((pmu) => ({
      station: pmu.station,
      idcode: pmu.idcode,
      format: {
        raw: pmu.format,
        phasors: `${pmu.format & 2 ? 'float' : 'int16'} ${pmu.format & 1 ? 'polar' : 'rectangular'}`,
        freq: pmu.format & 8 ? 'float' : 'int16',
        analogs: pmu.format & 4 ? 'float' : 'int16',
      },
      fnom: pmu.fnom,
      cfgcnt: pmu.cfgcnt,
      phasors: pmu.phasors.map((ph) =>
        config.kind === 'cfg3'
          ? { name: ph.name, unit: ph.unit, magnitudeScale: ph.magnitudeScale, angleOffsetRad: ph.angleOffsetRad, component: ph.component }
          : { name: ph.name, unit: ph.unit, phunit: ph.raw, factor: ph.factor },
      ),
      analogs: pmu.analogs.map((an) =>
        config.kind === 'cfg3'
          ? { name: an.name, scale: an.scale, offset: an.offset }
          : { name: an.name, type: ANALOG_TYPE_NAMES[an.type] ?? `user-${an.type}`, anunit: an.raw, factor: an.factor },
      ),
      digitals: pmu.digitals.map((dg) => ({ labels: dg.labels, normal: dg.normal, valid: dg.valid })),
      ...(config.kind === 'cfg3'
        ? {
            globalPmuId: pmu.globalPmuId,
            latitude: pmu.latitude,
            longitude: pmu.longitude,
            elevation: pmu.elevation,
            serviceClass: pmu.serviceClass,
            windowUs: pmu.windowUs,
            groupDelayUs: pmu.groupDelayUs,
          }
        : {}),
    })),
  };
}

/** One decoded frame as a JSON object (the decode tool's line, without its offset). */
export function decodedJson(decoded: Decoded, soc: number, fracsec: number, timeBase: number): Record<string, unknown> {
  const base = { idcode: decoded.idcode, time: timeJson(soc, fracsec, timeBase) };
  switch (decoded.kind) {
    case 'data':
      return { type: 'data', ...base, pmus: dataJson(decoded.columns) };
    case 'config':
      return { type: decoded.config.kind, ...base, active: decoded.active, ...configJson(decoded.config) };
    case 'header':
      return { type: 'header', ...base, text: decoded.text };
    case 'command':
      return {
        type: 'command',
        ...base,
        command: decoded.command.command,
        commandName: COMMAND_NAMES[decoded.command.command] ?? 'reserved-or-user',
        ...(decoded.command.extended.length ? { extended: decoded.command.extended.toString('hex') } : {}),
      };
    case 'fragment':
      return { type: 'cfg3-fragment', ...base, contIdx: decoded.contIdx };
    case 'fault':
      return { type: 'error', ...base, reason: decoded.reason, detail: decoded.detail };
  }
}
