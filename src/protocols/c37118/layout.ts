import { dataFrameSize, pmuBlockSize, type ConfigFrame } from './cfg-frame.js';
import { Format, HEADER_SIZE } from './constants.js';

// A configuration frame compiled once into flat tables (offsets, formats, scale factors), so that
// decoding a data frame is a loop over typed arrays with no lookups, no branches on strings and
// no allocation. Indexes: PMU p owns phasors [phasorStart[p], phasorStart[p+1]) in the per-phasor
// tables and the data columns (data-frame.ts), and likewise analogs and digital words.
//
// Scaling, per the standard and GSF's reading of CFG-3 (notes/c37118.md 13, 16, 24):
//   integer phasor, CFG-1/2   component × (PHUNIT & 0xFFFFFF) × 10^-5; polar: magnitude only,
//                             angle = raw / 10^4 rad
//   float phasor, CFG-1/2     as sent (PHUNIT ignored)
//   any phasor, CFG-3         magnitude × Y, angle − θ. For rectangular data that is the complex
//                             product X · Y · e^(−jθ), so rectangular values stay rectangular.
//   integer analog, CFG-1/2   raw × the signed 24-bit ANUNIT scale; float: as sent
//   any analog, CFG-3         M × X + B

export class StreamLayout {
  readonly config: ConfigFrame;
  readonly frameSize: number;
  readonly pmuCount: number;
  /** Per PMU. */
  readonly blockOffset: Int32Array;
  readonly format: Uint8Array;
  readonly fnom: Float64Array;
  readonly phasorStart: Int32Array;
  readonly analogStart: Int32Array;
  readonly digitalStart: Int32Array;
  /** Per phasor: magnitude factor, and the CFG-3 rotation as cos θ and −sin θ. */
  readonly phasorFactor: Float64Array;
  readonly angleOffset: Float64Array;
  readonly rotateCos: Float64Array;
  readonly rotateSin: Float64Array;
  /** Whether any phasor has a rotation (skips the multiply for the common case). */
  readonly rotates: boolean;
  /** Per analog: X' = scale × X + offset. */
  readonly analogScale: Float64Array;
  readonly analogOffset: Float64Array;
  readonly phasorCount: number;
  readonly analogCount: number;
  readonly digitalCount: number;

  constructor(config: ConfigFrame) {
    this.config = config;
    this.frameSize = dataFrameSize(config);
    const pmus = config.pmus;
    const n = pmus.length;
    this.pmuCount = n;
    this.blockOffset = new Int32Array(n);
    this.format = new Uint8Array(n);
    this.fnom = new Float64Array(n);
    this.phasorStart = new Int32Array(n + 1);
    this.analogStart = new Int32Array(n + 1);
    this.digitalStart = new Int32Array(n + 1);
    let offset = HEADER_SIZE;
    for (let p = 0; p < n; p++) {
      const pmu = pmus[p]!;
      this.blockOffset[p] = offset;
      offset += pmuBlockSize(pmu);
      this.format[p] = pmu.format;
      this.fnom[p] = pmu.fnom;
      this.phasorStart[p + 1] = this.phasorStart[p]! + pmu.phasors.length;
      this.analogStart[p + 1] = this.analogStart[p]! + pmu.analogs.length;
      this.digitalStart[p + 1] = this.digitalStart[p]! + pmu.digitals.length;
    }
    this.phasorCount = this.phasorStart[n]!;
    this.analogCount = this.analogStart[n]!;
    this.digitalCount = this.digitalStart[n]!;
    this.phasorFactor = new Float64Array(this.phasorCount);
    this.angleOffset = new Float64Array(this.phasorCount);
    this.rotateCos = new Float64Array(this.phasorCount);
    this.rotateSin = new Float64Array(this.phasorCount);
    this.analogScale = new Float64Array(this.analogCount);
    this.analogOffset = new Float64Array(this.analogCount);
    const cfg3 = config.kind === 'cfg3';
    let rotates = false;
    for (let p = 0; p < n; p++) {
      const pmu = pmus[p]!;
      const intPhasors = (pmu.format & Format.PHASOR_FLOAT) === 0;
      const intAnalogs = (pmu.format & Format.ANALOG_FLOAT) === 0;
      pmu.phasors.forEach((ph, k) => {
        const i = this.phasorStart[p]! + k;
        const theta = cfg3 ? ph.angleOffsetRad : 0;
        this.phasorFactor[i] = cfg3 ? ph.magnitudeScale : intPhasors ? ph.factor : 1;
        this.angleOffset[i] = theta;
        this.rotateCos[i] = Math.cos(theta);
        this.rotateSin[i] = -Math.sin(theta);
        if (theta !== 0) rotates = true;
      });
      pmu.analogs.forEach((an, k) => {
        const i = this.analogStart[p]! + k;
        this.analogScale[i] = cfg3 ? an.scale : intAnalogs ? an.factor : 1;
        this.analogOffset[i] = cfg3 ? an.offset : 0;
      });
    }
    this.rotates = rotates;
  }

  /** The PMU index whose IDCODE is `idcode`, or -1. */
  pmuIndex(idcode: number): number {
    return this.config.pmus.findIndex((pmu) => pmu.idcode === idcode);
  }
}
