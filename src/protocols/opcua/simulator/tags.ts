// The served tags as pure functions of wall-clock time (ms since the epoch), without node-opcua:
// every value is `at(ms)`, so a test that knows a sourceTimestamp can predict the value the
// simulator served with it (OpcuaSimulator.valueAt), across restarts and processes.
//
//   Objects/Substation                     folder
//     Frequency   Double Hz   50 ± 0.05
//     Mode        String      REMOTE, LOCAL for 30 s every 10 min
//     Feeder1, Feeder2                     objects
//       P  Double kW, Q  Double kvar, V  Double kV, I  Double A (from P, Q, V)
//       BreakerClosed  Boolean (open 5 s every 2 min on Feeder1, 10 s every 3 min on Feeder2:
//                      P, Q and I are then 0)
//     Transformer1                         object
//       TapPosition  Int32 −8…8 (a step every ~20 s), OilTemp  Double °C
//   Objects/Sim                            folder
//     Tag00001 …   Double, 100 ± 10 (period 10–59 s) ± 0.5 noise
//
// Doubles are AnalogItems with an EURange (percent deadbands need it) and, except Sim tags,
// EngineeringUnits (UNECE codes). Noise is a hash of (tag, ms): deterministic, not seeded.

export type TagDataType = 'Double' | 'Boolean' | 'Int32' | 'String';
export type TagValue = number | boolean | string;

export interface EngineeringUnit {
  /** UNECE Recommendation 20 common code (EUInformation.unitId is derived from it). */
  code: string;
  /** Display name, e.g. kW. */
  symbol: string;
  description: string;
}

export interface TagSpec {
  /** Dotted path, also the NodeId's string identifier: Substation.Feeder1.P, Sim.Tag00001. */
  name: string;
  dataType: TagDataType;
  /** EURange of an AnalogItem (Doubles only). */
  range?: { low: number; high: number };
  unit?: EngineeringUnit;
  /** The value at wall-clock time ms. */
  at(ms: number): TagValue;
}

/** A container on the way to a tag: a folder (Substation, Sim) or an object (Feeder1). */
export interface ContainerSpec {
  name: string;
  kind: 'folder' | 'object';
}

const UNITS = {
  kW: { code: 'KWT', symbol: 'kW', description: 'kilowatt' },
  kvar: { code: 'KVR', symbol: 'kvar', description: 'kilovar' },
  kV: { code: 'KVT', symbol: 'kV', description: 'kilovolt' },
  A: { code: 'AMP', symbol: 'A', description: 'ampere' },
  Hz: { code: 'HTZ', symbol: 'Hz', description: 'hertz' },
  degC: { code: 'CEL', symbol: '°C', description: 'degree Celsius' },
} as const satisfies Record<string, EngineeringUnit>;

const TWO_PI = 2 * Math.PI;

/** A deterministic value in [−1, 1) from a tag number and a time (a 32-bit integer mix). */
export function noise(tag: number, ms: number): number {
  let h = Math.imul(tag + 1, 0x9e3779b1) ^ Math.imul(ms % 0x7fffffff | 0, 0x85ebca6b) ^ Math.floor(ms / 0x7fffffff);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 0x8000_0000 - 1;
}

const sine = (ms: number, periodS: number, phase = 0): number => Math.sin((TWO_PI * ms) / (periodS * 1000) + phase);
/** True while ms falls in the last `forS` seconds of each `everyS` period. */
const window = (ms: number, everyS: number, forS: number): boolean => ms % (everyS * 1000) >= (everyS - forS) * 1000;

function feeder(k: number, nominalKw: number, trip: { everyS: number; forS: number }): TagSpec[] {
  const base = `Substation.Feeder${k}`;
  const closed = (ms: number): boolean => !window(ms, trip.everyS, trip.forS);
  const p = (ms: number): number => (closed(ms) ? nominalKw * (1 + 0.15 * sine(ms, 300, k) + 0.005 * noise(10 * k, ms)) : 0);
  const q = (ms: number): number => (closed(ms) ? 0.25 * nominalKw * (1 + 0.2 * sine(ms, 240, k + 1) + 0.01 * noise(10 * k + 1, ms)) : 0);
  const v = (ms: number): number => 11 + 0.1 * sine(ms, 120, k) + 0.01 * noise(10 * k + 2, ms);
  return [
    { name: `${base}.P`, dataType: 'Double', range: { low: 0, high: 5000 }, unit: UNITS.kW, at: p },
    { name: `${base}.Q`, dataType: 'Double', range: { low: -2000, high: 2000 }, unit: UNITS.kvar, at: q },
    { name: `${base}.V`, dataType: 'Double', range: { low: 0, high: 15 }, unit: UNITS.kV, at: v },
    // I = S / (√3 · V), kVA / kV = A
    { name: `${base}.I`, dataType: 'Double', range: { low: 0, high: 300 }, unit: UNITS.A, at: (ms) => Math.hypot(p(ms), q(ms)) / (Math.sqrt(3) * v(ms)) },
    { name: `${base}.BreakerClosed`, dataType: 'Boolean', at: closed },
  ];
}

/** The substation's tags (14), always served. */
export function substationTags(): TagSpec[] {
  return [
    { name: 'Substation.Frequency', dataType: 'Double', range: { low: 45, high: 55 }, unit: UNITS.Hz, at: (ms) => 50 + 0.05 * sine(ms, 20) + 0.002 * noise(1, ms) },
    { name: 'Substation.Mode', dataType: 'String', at: (ms) => (window(ms, 600, 30) ? 'LOCAL' : 'REMOTE') },
    ...feeder(1, 1200, { everyS: 120, forS: 5 }),
    ...feeder(2, 800, { everyS: 180, forS: 10 }),
    { name: 'Substation.Transformer1.TapPosition', dataType: 'Int32', at: (ms) => Math.round(8 * sine(ms, 600)) },
    { name: 'Substation.Transformer1.OilTemp', dataType: 'Double', range: { low: -20, high: 120 }, unit: UNITS.degC, at: (ms) => 55 + 5 * sine(ms, 900) + 0.05 * noise(2, ms) },
  ];
}

/** Sim.Tag00001 … Sim.Tag<count>: zero-padded to 5 digits (more when count needs them). */
export function syntheticTagName(i: number, count: number): string {
  return `Sim.Tag${String(i).padStart(Math.max(5, String(count).length), '0')}`;
}

/** `count` synthetic Double tags for load: 100 ± 10, each its own period (10–59 s) and phase. */
export function syntheticTags(count: number): TagSpec[] {
  const tags: TagSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const periodS = 10 + ((i * 7919) % 50);
    const phase = i * 0.1;
    tags.push({ name: syntheticTagName(i, count), dataType: 'Double', range: { low: 0, high: 200 }, at: (ms) => 100 + 10 * sine(ms, periodS, phase) + 0.5 * noise(1000 + i, ms) });
  }
  return tags;
}

/** The containers a tag name passes through (every dotted prefix but the last segment). */
export function containersOf(name: string): string[] {
  const parts = name.split('.');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** Top-level containers are folders (Substation, Sim); those inside them objects (Feeder1). */
export function containerKind(path: string): ContainerSpec['kind'] {
  return path.includes('.') ? 'object' : 'folder';
}
