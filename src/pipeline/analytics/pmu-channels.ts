import { positiveSequencePower, symmetricalComponents, threePhasePower } from '../features/phasor-math.js';
import type { StreamDescriptor } from './stream-descriptor.js';

// The statistics channels of a PMU stream and how one sample row becomes their values: the raw
// channels (frequency, ROCOF, phasor magnitudes, analogs; angles only feed the derived ones) and
// the derived ones, computed per frame so that a window's statistics of them are exact:
//
//   freq.deviation          f − fnom, Hz
//   timing.arrivalDelayMs   ingest − event time, ms
//   seq.V0 V1 V2, seq.I0 I1 I2   symmetrical component magnitudes (three phases present)
//   seq.V1.angle            positive-sequence voltage angle, rad (angle pairs; no statistics)
//   seq.VUF, seq.V0F, seq.IUF    unbalance 100·|X2|/|X1| and zero-sequence 100·|X0|/|X1|, %
//   pu.V1 pu.Vmin pu.Vmax   per-unit voltages (voltageBaseKv); pu.Imax (currentBaseA)
//   power.P power.Q power.S three-phase power S = Σ Vφ·Iφ*, or 3·V1·I1* from the reported V1 I1
//
// The map is resolved once per stream shape; per sample it is a loop over index tables.

const SQRT3 = Math.sqrt(3);

export class PmuChannels {
  /** Names and units of the statistics channels, in the order of `values`. */
  readonly names: string[] = [];
  readonly units: string[] = [];
  /** Values of the statistics channels for the last sample computed. */
  values: Float64Array;
  /** Statistics channels 0 … rawCount − 1 are the device's own values; the rest are derived. */
  readonly rawCount: number;
  /** Index of the frequency channel (−1: not available for this stream). */
  readonly freq: number;
  /** Positive-sequence voltage angle of the last sample (NaN when unknown). */
  lastV1AngleRad = NaN;

  readonly #raw: number[] = [];
  readonly #freqRaw: number;
  readonly #fnom: number;
  readonly #vPhase: number[] | undefined; // row indexes of [mag, angle] × phases A B C
  readonly #iPhase: number[] | undefined;
  readonly #v1: number[] | undefined; // row indexes of the reported positive-sequence phasors
  readonly #i1: number[] | undefined;
  readonly #vBase: number | undefined; // volts per unit, line-to-neutral: V_LL,base / √3
  readonly #iBase: number | undefined;
  readonly #re = new Float64Array(3);
  readonly #im = new Float64Array(3);
  readonly #ire = new Float64Array(3);
  readonly #iim = new Float64Array(3);
  readonly #seq = new Float64Array(6);
  readonly #iseq = new Float64Array(6);
  readonly #power = new Float64Array(4);
  readonly #derived: { start: number; deviation: number; delay: number; seqV: number; seqI: number; pu: number; imax: number; power: number };

  constructor(d: StreamDescriptor) {
    const at = (name: string): number => d.channels.indexOf(name);
    const phasor = (name: string): number[] | undefined => {
      const m = at(`${name}.magnitude`);
      const a = at(`${name}.angle`);
      return m >= 0 && a >= 0 ? [m, a] : undefined;
    };
    const phases = (names: string[]): number[] | undefined => {
      const all = names.map(phasor);
      return all.length === 3 && all.every((x) => x !== undefined) ? all.flat() : undefined;
    };
    const s = d.settings;
    this.#fnom = d.fnom;
    this.#freqRaw = at('freq');
    this.#vPhase = phases(s.voltagePhasors);
    this.#iPhase = phases(s.currentPhasors);
    this.#v1 = phasor(s.positiveSequence.voltage);
    this.#i1 = phasor(s.positiveSequence.current);
    this.#vBase = s.voltageBaseKv === undefined ? undefined : (s.voltageBaseKv * 1000) / SQRT3;
    this.#iBase = s.currentBaseA;

    const add = (name: string, unit: string): number => {
      this.names.push(name);
      this.units.push(unit);
      return this.names.length - 1;
    };
    // Raw channels: everything but angles.
    d.channels.forEach((name, i) => {
      if (d.units[i] === 'rad') return;
      this.#raw.push(i);
      add(name, d.units[i]!);
    });
    this.freq = this.names.indexOf('freq');
    this.rawCount = this.names.length;
    const start = this.names.length;
    const deviation = this.#freqRaw >= 0 ? add('freq.deviation', 'Hz') : -1;
    const delay = add('timing.arrivalDelayMs', 'ms');
    let seqV = -1;
    let seqI = -1;
    if (this.#vPhase || this.#v1) {
      seqV = add('seq.V1', 'V');
      if (this.#vPhase) {
        add('seq.V2', 'V');
        add('seq.V0', 'V');
        add('seq.VUF', '%');
        add('seq.V0F', '%');
      }
    }
    if (this.#iPhase || this.#i1) {
      seqI = add('seq.I1', 'A');
      if (this.#iPhase) {
        add('seq.I2', 'A');
        add('seq.I0', 'A');
        add('seq.IUF', '%');
      }
    }
    let pu = -1;
    if (this.#vBase !== undefined && seqV >= 0) {
      pu = add('pu.V1', 'pu');
      add('pu.Vmin', 'pu');
      add('pu.Vmax', 'pu');
    }
    const imax = this.#iBase !== undefined && this.#iPhase ? add('pu.Imax', 'pu') : -1;
    const power = (this.#vPhase && this.#iPhase) || (this.#v1 && this.#i1) ? add('power.P', 'W') : -1;
    if (power >= 0) {
      add('power.Q', 'var');
      add('power.S', 'VA');
    }
    this.#derived = { start, deviation, delay, seqV, seqI, pu, imax, power };
    this.values = new Float64Array(this.names.length);
  }

  /** Statistics channel index by name, −1 when absent. */
  indexOf(name: string): number {
    return this.names.indexOf(name);
  }

  /** Compute `values` for one sample: row[base + k] is channel k of the descriptor. */
  compute(row: Float64Array, base: number, eventUs: number, ingestUs: number): Float64Array {
    const v = this.values;
    const raw = this.#raw;
    for (let k = 0; k < raw.length; k++) v[k] = row[base + raw[k]!]!;
    const d = this.#derived;
    if (d.deviation >= 0) v[d.deviation] = row[base + this.#freqRaw]! - this.#fnom;
    v[d.delay] = (ingestUs - eventUs) / 1000;

    let v1 = NaN;
    let v1Angle = NaN;
    let vmin = NaN;
    let vmax = NaN;
    if (this.#vPhase) {
      this.#rect(row, base, this.#vPhase, this.#re, this.#im);
      symmetricalComponents(this.#re, this.#im, this.#seq);
      const q = this.#seq;
      v1 = Math.hypot(q[2]!, q[3]!);
      v1Angle = Math.atan2(q[3]!, q[2]!);
      const v2 = Math.hypot(q[4]!, q[5]!);
      const v0 = Math.hypot(q[0]!, q[1]!);
      v[d.seqV] = v1;
      v[d.seqV + 1] = v2;
      v[d.seqV + 2] = v0;
      v[d.seqV + 3] = (100 * v2) / v1;
      v[d.seqV + 4] = (100 * v0) / v1;
      const a = row[base + this.#vPhase[0]!]!;
      const b = row[base + this.#vPhase[2]!]!;
      const c = row[base + this.#vPhase[4]!]!;
      vmin = Math.min(a, b, c);
      vmax = Math.max(a, b, c);
    } else if (this.#v1) {
      v1 = row[base + this.#v1[0]!]!;
      v1Angle = row[base + this.#v1[1]!]!;
      v[d.seqV] = v1;
      vmin = v1;
      vmax = v1;
    }
    this.lastV1AngleRad = v1Angle;
    if (this.#iPhase) {
      this.#rect(row, base, this.#iPhase, this.#ire, this.#iim);
      symmetricalComponents(this.#ire, this.#iim, this.#iseq);
      const q = this.#iseq;
      const i1 = Math.hypot(q[2]!, q[3]!);
      const i2 = Math.hypot(q[4]!, q[5]!);
      v[d.seqI] = i1;
      v[d.seqI + 1] = i2;
      v[d.seqI + 2] = Math.hypot(q[0]!, q[1]!);
      v[d.seqI + 3] = (100 * i2) / i1;
    } else if (this.#i1) {
      v[d.seqI] = row[base + this.#i1[0]!]!;
    }
    if (d.pu >= 0) {
      const b = this.#vBase!;
      v[d.pu] = v1 / b;
      v[d.pu + 1] = vmin / b;
      v[d.pu + 2] = vmax / b;
    }
    if (d.imax >= 0) {
      const p = this.#iPhase!;
      v[d.imax] = Math.max(row[base + p[0]!]!, row[base + p[2]!]!, row[base + p[4]!]!) / this.#iBase!;
    }
    if (d.power >= 0) {
      if (this.#vPhase && this.#iPhase) {
        threePhasePower(this.#re, this.#im, this.#ire, this.#iim, this.#power);
      } else {
        const vm = row[base + this.#v1![0]!]!;
        const va = row[base + this.#v1![1]!]!;
        const im = row[base + this.#i1![0]!]!;
        const ia = row[base + this.#i1![1]!]!;
        positiveSequencePower(vm * Math.cos(va), vm * Math.sin(va), im * Math.cos(ia), im * Math.sin(ia), this.#power);
      }
      v[d.power] = this.#power[0]!;
      v[d.power + 1] = this.#power[1]!;
      v[d.power + 2] = this.#power[2]!;
    }
    return v;
  }

  /** Polar [mag, angle] × 3 at the row indexes → rectangular. */
  #rect(row: Float64Array, base: number, idx: number[], re: Float64Array, im: Float64Array): void {
    for (let ph = 0; ph < 3; ph++) {
      const m = row[base + idx[2 * ph]!]!;
      const a = row[base + idx[2 * ph + 1]!]!;
      re[ph] = m * Math.cos(a);
      im[ph] = m * Math.sin(a);
    }
  }
}
