import { Format, INT16_ABSENT } from './constants.js';
import type { StreamLayout } from './layout.js';
import { statQuality } from './stat.js';
import { eventTimeUs } from './time.js';

// Data frames (C37.118.2-2011 6.3, Table 5), decoded through a compiled StreamLayout into
// reusable typed-array columns. The hot path of the gateway: no allocation, no exceptions, one
// pass over the bytes. Per PMU block:
//
//   STAT     2
//   PHASORS  PHNMR × (int16 pair | float32 pair)   rectangular (re, im) or polar (mag, angle)
//   FREQ     int16 mHz deviation from FNOM | float32 Hz
//   DFREQ    int16 ROCOF × 100 | float32 Hz/s
//   ANALOG   ANNMR × (int16 | float32)
//   DIGITAL  DGNMR × u16
//
// A value the device did not measure (float NaN, int16 0x8000) becomes NaN in the columns; the
// record layer turns NaN into null with quality "absent" (notes/c37118.md 18).

export type DataFault = 'size-mismatch';

/** One decoded data frame, column-wise; reused for every frame of a stream. */
export class DataColumns {
  idcode = 0;
  soc = 0;
  fracsec = 0;
  timeQuality = 0;
  /** Event time, microseconds since the epoch (time.ts). */
  eventTimeUs = 0;
  /** Per PMU. */
  readonly stat: Uint16Array;
  readonly quality: Uint32Array;
  readonly freq: Float64Array;
  readonly rocof: Float64Array;
  /** Per phasor, in the PMU's own representation: (re, im) or, for polar PMUs, (magnitude, angle rad). */
  readonly phasorA: Float64Array;
  readonly phasorB: Float64Array;
  readonly analog: Float64Array;
  readonly digital: Uint16Array;
  readonly layout: StreamLayout;
  /** A DataView over the last buffer decoded from (the framer's, which changes only when it grows). */
  #viewOf: Buffer | undefined;
  #view: DataView | undefined;

  constructor(layout: StreamLayout) {
    this.layout = layout;
    this.stat = new Uint16Array(layout.pmuCount);
    this.quality = new Uint32Array(layout.pmuCount);
    this.freq = new Float64Array(layout.pmuCount);
    this.rocof = new Float64Array(layout.pmuCount);
    this.phasorA = new Float64Array(layout.phasorCount);
    this.phasorB = new Float64Array(layout.phasorCount);
    this.analog = new Float64Array(layout.analogCount);
    this.digital = new Uint16Array(layout.digitalCount);
  }

  /**
   * A DataView of `buf`, cached: DataView reads are inlined by V8 where Buffer.readFloatBE is a
   * call with its own bounds checks (bench/c37118.ts measures both).
   */
  view(buf: Buffer): DataView {
    if (buf !== this.#viewOf || !this.#view) {
      this.#viewOf = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.#view;
  }

  /** Is PMU p's data polar (phasorA/B = magnitude/angle)? */
  polar(p: number): boolean {
    return (this.layout.format[p]! & Format.POLAR) !== 0;
  }
}

const int16OrNaN = (view: DataView, at: number): number => {
  const raw = view.getInt16(at);
  return raw === INT16_ABSENT ? NaN : raw;
};

/**
 * Decode the data frame at buf[offset, …) into `out` (whose layout must be the stream's current
 * one). The frame's framing and CRC were checked by the framer. Returns null, or a fault: a
 * FRAMESIZE that disagrees with the layout means the configuration is stale (re-request it;
 * never guess, notes/c37118.md 3).
 */
export function decodeData(buf: Buffer, offset: number, out: DataColumns): DataFault | null {
  const layout = out.layout;
  const view = out.view(buf);
  // The common header (frame-header.ts), read through the same view.
  if (view.getUint16(offset + 2) !== layout.frameSize) return 'size-mismatch';
  out.idcode = view.getUint16(offset + 4);
  out.soc = view.getUint32(offset + 6);
  out.fracsec = view.getUint32(offset + 10);
  out.timeQuality = out.fracsec >>> 24;
  out.eventTimeUs = eventTimeUs(out.soc, out.fracsec, layout.config.timeBase);
  const { phasorA, phasorB, analog, digital } = out;
  const { phasorFactor, rotateCos, rotateSin, analogScale, analogOffset } = layout;
  for (let p = 0; p < layout.pmuCount; p++) {
    let at = offset + layout.blockOffset[p]!;
    const format = layout.format[p]!;
    const stat = view.getUint16(at);
    at += 2;
    out.stat[p] = stat;
    out.quality[p] = statQuality(stat, out.timeQuality);

    const polar = (format & Format.POLAR) !== 0;
    const phEnd = layout.phasorStart[p + 1]!;
    if (format & Format.PHASOR_FLOAT) {
      // Float phasors: the factor is 1 for CFG-1/2 (PHUNIT is ignored) and Y for CFG-3.
      for (let i = layout.phasorStart[p]!; i < phEnd; i++, at += 8) {
        const factor = phasorFactor[i]!;
        phasorA[i] = view.getFloat32(at) * factor;
        phasorB[i] = polar ? view.getFloat32(at + 4) : view.getFloat32(at + 4) * factor;
      }
    } else if (polar) {
      for (let i = layout.phasorStart[p]!; i < phEnd; i++, at += 4) {
        phasorA[i] = view.getUint16(at) * phasorFactor[i]!; // magnitude is unsigned (Table 5)
        phasorB[i] = int16OrNaN(view, at + 2) / 10_000;
      }
    } else {
      for (let i = layout.phasorStart[p]!; i < phEnd; i++, at += 4) {
        const factor = phasorFactor[i]!;
        phasorA[i] = int16OrNaN(view, at) * factor;
        phasorB[i] = int16OrNaN(view, at + 2) * factor;
      }
    }
    if (layout.rotates) {
      for (let i = layout.phasorStart[p]!; i < phEnd; i++) {
        // Only the phasors that have a θ: rotating by 0 would still turn (x, NaN) into (NaN, NaN).
        if (layout.angleOffset[i] === 0) continue;
        if (polar) phasorB[i]! -= layout.angleOffset[i]!;
        else {
          const re = phasorA[i]!;
          const im = phasorB[i]!;
          phasorA[i] = re * rotateCos[i]! - im * rotateSin[i]!;
          phasorB[i] = re * rotateSin[i]! + im * rotateCos[i]!;
        }
      }
    }

    if (format & Format.FREQ_FLOAT) {
      out.freq[p] = view.getFloat32(at);
      out.rocof[p] = view.getFloat32(at + 4);
      at += 8;
    } else {
      out.freq[p] = layout.fnom[p]! + int16OrNaN(view, at) / 1000;
      out.rocof[p] = int16OrNaN(view, at + 2) / 100;
      at += 4;
    }

    const anEnd = layout.analogStart[p + 1]!;
    if (format & Format.ANALOG_FLOAT) {
      for (let i = layout.analogStart[p]!; i < anEnd; i++, at += 4) {
        analog[i] = view.getFloat32(at) * analogScale[i]! + analogOffset[i]!;
      }
    } else {
      for (let i = layout.analogStart[p]!; i < anEnd; i++, at += 2) {
        analog[i] = int16OrNaN(view, at) * analogScale[i]! + analogOffset[i]!;
      }
    }

    const dgEnd = layout.digitalStart[p + 1]!;
    for (let i = layout.digitalStart[p]!; i < dgEnd; i++, at += 2) digital[i] = view.getUint16(at);
  }
  return null;
}
