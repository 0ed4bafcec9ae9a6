import type { AnalogChannel, ConfigFrame, ConfigKind, DigitalWord, PhasorChannel, PmuConfig } from '../cfg-frame.js';
import { Format, PHUNIT_CURRENT, VERSION_2011 } from '../constants.js';

// The simulated device's channels and its configuration frames. Phasors follow a realistic
// substation PMU: VA VB VC IA IB IC, then the positive sequence V1 I1, then further three-phase
// sets (VA2 … IC2, …). Analogs: P and Q (MW, MVAr, computed from the phasors), then generic
// channels. Digital word 0 holds two breaker positions (normally closed) and a trip bit.
//
// Integer scaling: PHUNIT is chosen so that twice the nominal magnitude fits an int16 component
// (room for a swell); ANUNIT's user scale is 1 (the decoder reads it as a signed 24-bit factor).
// The same data frame decodes to the same values under CFG-2 (PHUNIT) and CFG-3 (Y = the PHUNIT
// factor as float32, θ = 0; floats: Y = 1), so one encoded frame serves clients of either.

export type Phase = 0 | 1 | 2 | 'positive';

export interface PhasorSpec {
  name: string;
  unit: 'V' | 'A';
  phase: Phase;
  /** CFG-3 PHSCALE component (Table 11): 1 positive sequence, 4/5/6 phases A/B/C. */
  component: number;
}

const BASE: readonly PhasorSpec[] = [
  { name: 'VA', unit: 'V', phase: 0, component: 4 },
  { name: 'VB', unit: 'V', phase: 1, component: 5 },
  { name: 'VC', unit: 'V', phase: 2, component: 6 },
  { name: 'IA', unit: 'A', phase: 0, component: 4 },
  { name: 'IB', unit: 'A', phase: 1, component: 5 },
  { name: 'IC', unit: 'A', phase: 2, component: 6 },
  { name: 'V1', unit: 'V', phase: 'positive', component: 1 },
  { name: 'I1', unit: 'A', phase: 'positive', component: 1 },
];

export function phasorSpecs(count: number): PhasorSpec[] {
  return Array.from({ length: count }, (_, k): PhasorSpec => {
    if (k < BASE.length) return BASE[k]!;
    const base = BASE[(k - BASE.length) % 6]!;
    return { ...base, name: `${base.name}${Math.floor((k - BASE.length) / 6) + 2}` };
  });
}

export const analogName = (k: number): string => (k === 0 ? 'P MW' : k === 1 ? 'Q MVAR' : `AN${k + 1}`);

/** Digital word 0: breakers 1 and 2 closed (normal), trip clear; inputs 0–2 valid. */
export const DIGITAL_NORMAL = [0x0003] as const;
const DIGITAL_LABELS = ['BRK1 CLOSED', 'BRK2 CLOSED', 'TRIP'];
export const digitalNormal = (word: number): number => DIGITAL_NORMAL[word] ?? 0;

export interface DeviceDescription {
  idcode: number;
  firstPmuIdcode: number;
  station: string;
  fnom: 50 | 60;
  format: number;
  timeBase: number;
  dataRate: number;
  /** Nominal line-to-neutral voltage (V) and current (A), for the integer scales. */
  voltageV: number;
  currentA: number;
}

export interface PmuShape {
  phasors: number;
  analogs: number;
  digitals: number;
  cfgcnt: number;
}

/** PHUNIT low 24 bits (10^-5 V or A per bit) giving room for twice `nominal` in an int16. */
export const phunitScale = (nominal: number): number => Math.min(0xffffff, Math.max(1, Math.ceil((2 * nominal * 1e5) / 0x7fff)));

export function buildConfig(device: DeviceDescription, shapes: readonly PmuShape[], kind: ConfigKind): ConfigFrame {
  return {
    kind,
    version: VERSION_2011,
    idcode: device.idcode,
    soc: 0,
    fracsec: 0,
    timeBase: device.timeBase,
    dataRate: device.dataRate,
    pmus: shapes.map((shape, p) => pmuConfig(device, shape, p, kind === 'cfg3')),
  };
}

function pmuConfig(device: DeviceDescription, shape: PmuShape, p: number, cfg3: boolean): PmuConfig {
  const intPhasors = (device.format & Format.PHASOR_FLOAT) === 0;
  const phasors = phasorSpecs(shape.phasors).map((spec): PhasorChannel => {
    const scale = phunitScale(spec.unit === 'V' ? device.voltageV : device.currentA);
    const factor = intPhasors ? scale * 1e-5 : 1;
    const type = spec.unit === 'A' ? 0x08 | spec.component : spec.component;
    return {
      name: spec.name,
      unit: spec.unit,
      // CFG-1/2: PHUNIT (unit byte, 24-bit scale). CFG-3: PHSCALE word 1 (flags 0, type, user 0).
      raw: cfg3 ? type << 8 : ((spec.unit === 'A' ? PHUNIT_CURRENT : 0) << 24) | scale,
      factor: cfg3 ? 1 : factor,
      magnitudeScale: cfg3 ? factor : 1,
      angleOffsetRad: 0,
      modificationFlags: 0,
      component: cfg3 ? spec.component : null,
    };
  });
  const analogs = Array.from({ length: shape.analogs }, (_, k): AnalogChannel => {
    // ANUNIT: type (65 user defined for P and Q, 1 RMS otherwise) and user scale 1.
    const type = k < 2 ? 65 : 1;
    return { name: analogName(k), type: cfg3 ? 0 : type, raw: cfg3 ? 0 : ((type << 24) | 1) >>> 0, factor: 1, scale: 1, offset: 0 };
  });
  const digitals = Array.from({ length: shape.digitals }, (_, w): DigitalWord => ({
    labels: Array.from({ length: 16 }, (_, b) => (w === 0 ? (DIGITAL_LABELS[b] ?? '') : b < 4 ? `DW${w + 1} IN${b + 1}` : '')),
    normal: digitalNormal(w),
    valid: w === 0 ? 0x0007 : 0x000f,
  }));
  const idcode = device.firstPmuIdcode + p;
  return {
    station: `${device.station} ${p + 1}`.slice(0, 16),
    idcode,
    format: device.format,
    phasors,
    analogs,
    digitals,
    fnom: device.fnom,
    cfgcnt: shape.cfgcnt,
    globalPmuId: cfg3 ? `67726964676174650000000000${idcode.toString(16).padStart(6, '0')}` : null,
    latitude: null,
    longitude: null,
    elevation: null,
    serviceClass: cfg3 ? 'P' : null,
    // A two-cycle estimation window and its half as group delay (information only).
    windowUs: cfg3 ? Math.round(2e6 / device.fnom) : null,
    groupDelayUs: cfg3 ? Math.round(1e6 / device.fnom) : null,
  };
}
