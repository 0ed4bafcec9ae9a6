import { finite } from '../../pipeline/record.js';
import { ByteReader } from '../shared/byte-reader.js';
import {
  CRC_SIZE,
  FRACTION_MASK,
  FrameType,
  Format,
  G_PMU_ID_SIZE,
  HEADER_SIZE,
  NAME_SIZE,
  PHUNIT_CURRENT,
} from './constants.js';
import { fracsecOf, frameTypeOf, idcodeOf, socOf, versionOf } from './frame-header.js';

// Configuration frames (C37.118.2-2011 6.4): CFG-1 and CFG-2 share one layout (Table 9), CFG-3
// (Table 11) differs. Parsed into one model; layout.ts compiles it for the data path.
//
//   CFG-1/2 body                         CFG-3 body
//   TIME_BASE    4                       CONT_IDX 2    (shifts everything after it by 2 bytes)
//   NUM_PMU      2                       TIME_BASE 4, NUM_PMU 2
//   per PMU:                             per PMU:
//     STN        16 (space/NUL padded)     STN        1 + n (length-prefixed UTF-8)
//     IDCODE     2                         IDCODE 2, G_PMU_ID 16
//     FORMAT     2                         FORMAT 2
//     PHNMR ANNMR DGNMR  2 each            PHNMR ANNMR DGNMR  2 each
//     CHNAM      16 × (PH + AN + 16·DG)    CHNAM  (1 + n) × (PH + AN + 16·DG)
//     PHUNIT     4 × PH                    PHSCALE 12 × PH (flags, type, user; Y; θ)
//     ANUNIT     4 × AN                    ANSCALE 8 × AN (M; B)
//     DIGUNIT    4 × DG                    DIGUNIT 4 × DG
//                                          PMU_LAT, PMU_LON, PMU_ELEV  float32 each (+Inf: unknown)
//                                          SVC_CLASS 1, WINDOW i32 µs, GRP_DLY i32 µs
//     FNOM 2, CFGCNT 2                     FNOM 2, CFGCNT 2
//   DATA_RATE    2 (signed; < 0: seconds per frame)
//
// A CFG-3 may arrive in fragments (CONT_IDX 1, 2, …, 0xFFFF): StreamDecoder concatenates their
// bodies (after CONT_IDX) and hands the result to parseCfg3Body.

export type ConfigKind = 'cfg1' | 'cfg2' | 'cfg3';

export interface PhasorChannel {
  name: string;
  /** 'V' or 'A': PHUNIT top byte (CFG-1/2) or PHSCALE type bit 3 (CFG-3). */
  unit: 'V' | 'A';
  /** CFG-1/2: the PHUNIT word as sent; CFG-3: the PHSCALE first word. */
  raw: number;
  /** CFG-1/2 integer scale, (PHUNIT & 0xFFFFFF) × 10^-5 V or A per bit; 1 for CFG-3. */
  factor: number;
  /** CFG-3 only: magnitude multiplier Y and angle adjustment θ (rad), for int and float alike. */
  magnitudeScale: number;
  angleOffsetRad: number;
  /** CFG-3 only: PHSCALE modification flags (bits 15–0 of word 1) and component (bits 2–0). */
  modificationFlags: number;
  component: number | null;
}

export interface AnalogChannel {
  name: string;
  /** CFG-1/2: ANUNIT top byte (0 point-on-wave, 1 RMS, 2 peak, 65–255 user defined). */
  type: number;
  raw: number;
  /** CFG-1/2: signed 24-bit user scale (sign extended from bit 23), applied to integer analogs. */
  factor: number;
  /** CFG-3: X' = M × X + B, applied to integer and float analogs. */
  scale: number;
  offset: number;
}

export interface DigitalWord {
  /** 16 labels, bit 0 first; blank labels are '' (common for unused bits). */
  labels: string[];
  /** DIGUNIT first word: the normal state of the inputs. */
  normal: number;
  /** DIGUNIT second word: which bits are valid. */
  valid: number;
}

export interface PmuConfig {
  station: string;
  idcode: number;
  format: number;
  phasors: PhasorChannel[];
  analogs: AnalogChannel[];
  digitals: DigitalWord[];
  /** Nominal frequency in Hz, from FNOM bit 0 (1 = 50 Hz, 0 = 60 Hz). */
  fnom: 50 | 60;
  cfgcnt: number;
  /** CFG-3 only (null otherwise). */
  globalPmuId: string | null;
  latitude: number | null;
  longitude: number | null;
  elevation: number | null;
  serviceClass: string | null;
  windowUs: number | null;
  groupDelayUs: number | null;
}

export interface ConfigFrame {
  kind: ConfigKind;
  version: number;
  /** The stream IDCODE (frame header); each PMU block carries its own. */
  idcode: number;
  soc: number;
  fracsec: number;
  /** TIME_BASE low 24 bits (the top byte is reserved flags). */
  timeBase: number;
  /** Frames per second; negative: seconds per frame. */
  dataRate: number;
  pmus: PmuConfig[];
}

/** What a CFG-1/2 PMU block has for the fields only CFG-3 carries. */
export const NO_CFG3_FIELDS: Readonly<
  Pick<PmuConfig, 'globalPmuId' | 'latitude' | 'longitude' | 'elevation' | 'serviceClass' | 'windowUs' | 'groupDelayUs'>
> = Object.freeze({
  globalPmuId: null,
  latitude: null,
  longitude: null,
  elevation: null,
  serviceClass: null,
  windowUs: null,
  groupDelayUs: null,
});

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const trimName = (s: string): string => s.replace(/[\0 ]+$/u, '').replace(/^[\0 ]+/u, '');
const signed24 = (word: number): number => ((word & 0xffffff) << 8) >> 8;

/** Parse a whole CFG-1 or CFG-2 frame at buf[offset, offset + size). */
export function parseCfg12(buf: Buffer, offset: number, size: number): ParseResult<ConfigFrame> {
  const type = frameTypeOf(buf, offset);
  const r = new ByteReader(buf, offset + HEADER_SIZE, offset + size - CRC_SIZE);
  const timeBase = r.u32() & FRACTION_MASK;
  const pmuCount = r.u16();
  const pmus: PmuConfig[] = [];
  for (let p = 0; p < pmuCount && !r.overrun; p++) {
    const station = trimName(r.text(NAME_SIZE));
    const idcode = r.u16();
    const format = r.u16() & Format.MASK;
    const phnmr = r.u16();
    const annmr = r.u16();
    const dgnmr = r.u16();
    // Refuse counts the remaining bytes cannot hold before allocating arrays for them.
    if ((phnmr + annmr + 16 * dgnmr) * NAME_SIZE > r.remaining) return { ok: false, reason: 'channel counts exceed the frame' };
    const phasorNames = Array.from({ length: phnmr }, () => trimName(r.text(NAME_SIZE)));
    const analogNames = Array.from({ length: annmr }, () => trimName(r.text(NAME_SIZE)));
    const digitalNames = Array.from({ length: dgnmr * 16 }, () => trimName(r.text(NAME_SIZE)));
    const phasors = phasorNames.map((name): PhasorChannel => {
      const raw = r.u32();
      return {
        name,
        unit: raw >>> 24 === PHUNIT_CURRENT ? 'A' : 'V',
        raw,
        factor: (raw & 0xffffff) / 1e5,
        magnitudeScale: 1,
        angleOffsetRad: 0,
        modificationFlags: 0,
        component: null,
      };
    });
    const analogs = analogNames.map((name): AnalogChannel => {
      const raw = r.u32();
      return { name, type: raw >>> 24, raw, factor: signed24(raw), scale: 1, offset: 0 };
    });
    const digitals = readDigitals(r, dgnmr, digitalNames);
    const fnom = r.u16() & 1 ? 50 : 60;
    const cfgcnt = r.u16();
    pmus.push({
      station,
      idcode,
      format,
      phasors,
      analogs,
      digitals,
      fnom,
      cfgcnt,
      ...NO_CFG3_FIELDS,
    });
  }
  const dataRate = r.i16();
  if (r.overrun) return { ok: false, reason: 'the configuration is longer than the frame' };
  if (r.remaining !== 0) return { ok: false, reason: `${r.remaining} bytes left after DATA_RATE` };
  return {
    ok: true,
    value: {
      kind: type === FrameType.CFG1 ? 'cfg1' : 'cfg2',
      version: versionOf(buf, offset),
      idcode: idcodeOf(buf, offset),
      soc: socOf(buf, offset),
      fracsec: fracsecOf(buf, offset),
      timeBase,
      dataRate,
      pmus,
    },
  };
}

/**
 * Parse a CFG-3 body: TIME_BASE through DATA_RATE (after CONT_IDX), concatenated over all its
 * fragments. `header` is the frame (the first fragment) whose common header describes it.
 */
export function parseCfg3Body(header: Buffer, headerOffset: number, body: Buffer): ParseResult<ConfigFrame> {
  const r = new ByteReader(body);
  const timeBase = r.u32() & FRACTION_MASK;
  const pmuCount = r.u16();
  const pmus: PmuConfig[] = [];
  const name = (): string => r.text(r.u8(), 'utf8');
  for (let p = 0; p < pmuCount && !r.overrun; p++) {
    const station = name();
    const idcode = r.u16();
    const globalPmuId = r.bytes(G_PMU_ID_SIZE).toString('hex');
    const format = r.u16() & Format.MASK;
    const phnmr = r.u16();
    const annmr = r.u16();
    const dgnmr = r.u16();
    // Every name takes at least its length byte.
    if (phnmr + annmr + 16 * dgnmr > r.remaining) return { ok: false, reason: 'channel counts exceed the frame' };
    const phasorNames = Array.from({ length: phnmr }, name);
    const analogNames = Array.from({ length: annmr }, name);
    const digitalNames = Array.from({ length: dgnmr * 16 }, name);
    const phasors = phasorNames.map((channel): PhasorChannel => {
      const raw = r.u32();
      const magnitudeScale = r.f32();
      const angleOffsetRad = r.f32();
      const typeByte = (raw >>> 8) & 0xff;
      return {
        name: channel,
        unit: typeByte & 0x08 ? 'A' : 'V',
        raw,
        factor: 1,
        magnitudeScale,
        angleOffsetRad,
        modificationFlags: raw >>> 16,
        component: typeByte & 0x07,
      };
    });
    const analogs = analogNames.map((channel): AnalogChannel => {
      const scale = r.f32();
      const offset = r.f32();
      return { name: channel, type: 0, raw: 0, factor: 1, scale, offset };
    });
    const digitals = readDigitals(r, dgnmr, digitalNames);
    const latitude = finite(r.f32());
    const longitude = finite(r.f32());
    const elevation = finite(r.f32());
    const serviceClass = r.text(1);
    const windowUs = r.i32();
    const groupDelayUs = r.i32();
    const fnom = r.u16() & 1 ? 50 : 60;
    const cfgcnt = r.u16();
    pmus.push({
      station,
      idcode,
      format,
      phasors,
      analogs,
      digitals,
      fnom,
      cfgcnt,
      globalPmuId,
      latitude,
      longitude,
      elevation,
      serviceClass,
      windowUs,
      groupDelayUs,
    });
  }
  const dataRate = r.i16();
  if (r.overrun) return { ok: false, reason: 'the configuration is longer than the frame' };
  if (r.remaining !== 0) return { ok: false, reason: `${r.remaining} bytes left after DATA_RATE` };
  return {
    ok: true,
    value: {
      kind: 'cfg3',
      version: versionOf(header, headerOffset),
      idcode: idcodeOf(header, headerOffset),
      soc: socOf(header, headerOffset),
      fracsec: fracsecOf(header, headerOffset),
      timeBase,
      dataRate,
      pmus,
    },
  };
}

function readDigitals(r: ByteReader, count: number, names: string[]): DigitalWord[] {
  const words: DigitalWord[] = [];
  for (let d = 0; d < count; d++) {
    const normal = r.u16();
    const valid = r.u16();
    words.push({ labels: names.slice(d * 16, d * 16 + 16), normal, valid });
  }
  return words;
}

/** Bytes of one PMU's block in a data frame under this configuration. */
export function pmuBlockSize(pmu: PmuConfig): number {
  const phasorBytes = pmu.format & Format.PHASOR_FLOAT ? 8 : 4;
  const freqBytes = pmu.format & Format.FREQ_FLOAT ? 8 : 4;
  const analogBytes = pmu.format & Format.ANALOG_FLOAT ? 4 : 2;
  return 2 + pmu.phasors.length * phasorBytes + freqBytes + pmu.analogs.length * analogBytes + pmu.digitals.length * 2;
}

/** FRAMESIZE of a data frame under this configuration. */
export function dataFrameSize(config: ConfigFrame): number {
  let size = HEADER_SIZE + CRC_SIZE;
  for (const pmu of config.pmus) size += pmuBlockSize(pmu);
  return size;
}
