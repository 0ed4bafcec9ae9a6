import type { ConfigFrame, ConfigKind } from '../cfg-frame.js';
import { Format } from '../constants.js';
import { DataColumns } from '../data-frame.js';
import { encodeData } from '../encoder.js';
import { StreamLayout } from '../layout.js';
import { buildConfig, digitalNormal, phasorSpecs, type DeviceDescription, type PhasorSpec, type PmuShape } from './channels.js';
import { DeviceState } from './device-state.js';
import { symmetric } from './noise.js';
import type { EventOf, Scenario } from './scenario-schema.js';
import { newSample, SignalModel } from './signal.js';

// The simulated device: N PMU blocks in one stream. It knows its configuration at any scenario
// time (a config-change event makes a new version: CFGCNT + 1 for the PMUs it names, channels
// added) and fills a data frame's columns for any frame from the signal model, the device state
// and seeded noise. Each version's layout and columns are built once and reused for every frame.

export interface ModelOptions extends DeviceDescription {
  pmuCount: number;
  phasors: number;
  analogs: number;
  digitals: number;
  seed: number;
}

export interface ConfigVersion {
  /** Scenario time from which this configuration is in force. */
  fromS: number;
  configs: Record<ConfigKind, ConfigFrame>;
  layout: StreamLayout;
  columns: DataColumns;
  specs: PhasorSpec[][];
}

const TWO_PI = 2 * Math.PI;
const PHASE_SHIFT = [0, -TWO_PI / 3, TWO_PI / 3];
const wrap = (x: number): number => x - TWO_PI * Math.round(x / TWO_PI);

export class PmuModel {
  readonly versions: readonly ConfigVersion[];
  readonly state: DeviceState;
  readonly signal: SignalModel;
  readonly #options: ModelOptions;
  readonly #scenario: Scenario;
  readonly #sample = newSample();
  /** Noiseless phase values, [re, im] × (VA VB VC IA IB IC), reused. */
  readonly #phase = new Float64Array(12);

  constructor(options: ModelOptions, scenario: Scenario, framePeriodS: number) {
    this.#options = options;
    this.#scenario = scenario;
    this.signal = new SignalModel(scenario, options.fnom, options.pmuCount);
    this.state = new DeviceState(scenario, options.seed, framePeriodS);
    this.versions = this.#buildVersions();
  }

  versionAt(t: number): ConfigVersion {
    let version = this.versions[0]!;
    for (const v of this.versions) if (v.fromS <= t) version = v;
    return version;
  }

  /** The configuration frame of `kind` in force at t, stamped with soc and fracsec. */
  config(kind: ConfigKind, t: number, soc: number, fracsec: number): ConfigFrame {
    return { ...this.versionAt(t).configs[kind], soc, fracsec };
  }

  /** Fill the columns of the version in force at t for frame n; valid until the next call. */
  fill(n: number, t: number): DataColumns {
    const version = this.versionAt(t);
    const { columns, layout } = version;
    const { seed } = this.#options;
    const noise = this.#scenario.noise;
    const s = this.#sample;
    for (let p = 0; p < layout.pmuCount; p++) {
      this.signal.sample(t, p, s);
      this.#phases(s.angleRad, s.magnitudeFactor, s.voltagePu);
      const ch = p * 4096;
      columns.stat[p] = this.state.stat(t, p);
      columns.freq[p] = s.freqHz + noise.frequencyHz * symmetric(seed, n, ch + 4000);
      columns.rocof[p] = s.rocofHzPerS + noise.rocofHzPerS * symmetric(seed, n, ch + 4001);
      const polar = (layout.format[p]! & Format.POLAR) !== 0;
      const specs = version.specs[p]!;
      for (let k = 0, i = layout.phasorStart[p]!; k < specs.length; k++, i++) {
        const spec = specs[k]!;
        const base = spec.unit === 'V' ? 0 : 6;
        let re: number;
        let im: number;
        if (spec.phase === 'positive') {
          // X1 = (Xa + a·Xb + a²·Xc) / 3, a = e^(j2π/3)
          re = 0;
          im = 0;
          for (let ph = 0; ph < 3; ph++) {
            const rot = (ph * TWO_PI) / 3;
            const xr = this.#phase[base + 2 * ph]!;
            const xi = this.#phase[base + 2 * ph + 1]!;
            re += (xr * Math.cos(rot) - xi * Math.sin(rot)) / 3;
            im += (xr * Math.sin(rot) + xi * Math.cos(rot)) / 3;
          }
        } else {
          re = this.#phase[base + 2 * spec.phase]!;
          im = this.#phase[base + 2 * spec.phase + 1]!;
        }
        const magnitude = Math.hypot(re, im) * (1 + (noise.magnitudePct / 100) * symmetric(seed, n, ch + 2 * k));
        const angle = wrap(Math.atan2(im, re) + ((noise.angleDeg * Math.PI) / 180) * symmetric(seed, n, ch + 2 * k + 1));
        columns.phasorA[i] = polar ? magnitude : magnitude * Math.cos(angle);
        columns.phasorB[i] = polar ? angle : magnitude * Math.sin(angle);
      }
      for (let k = 0, i = layout.analogStart[p]!; i < layout.analogStart[p + 1]!; k++, i++) {
        // Transducer noise like the phasors' magnitude noise: a live analog is never exactly constant.
        columns.analog[i] = this.#analog(k, t) * (1 + (noise.magnitudePct / 100) * symmetric(seed, n, ch + 3000 + k));
      }
      for (let w = 0, i = layout.digitalStart[p]!; i < layout.digitalStart[p + 1]!; w++, i++) {
        columns.digital[i] = this.state.digital(t, p, w, digitalNormal(w));
      }
    }
    return columns;
  }

  /** Frame n at t as bytes (one allocation: the encoder's). */
  dataFrame(n: number, t: number, soc: number, fracsec: number): Buffer {
    return encodeData(this.fill(n, t), { idcode: this.#options.idcode, soc, fracsec });
  }

  /** Phase voltages and currents of the first three-phase set, without noise. */
  #phases(angle: number, magnitudeFactor: number, voltagePu: Float64Array): void {
    const { voltageV, currentA } = this.#options;
    const lag = Math.acos(this.#scenario.signal.powerFactor);
    for (let ph = 0; ph < 3; ph++) {
      const a = angle + PHASE_SHIFT[ph]!;
      const v = voltageV * voltagePu[ph]! * magnitudeFactor;
      const i = currentA * magnitudeFactor;
      this.#phase[2 * ph] = v * Math.cos(a);
      this.#phase[2 * ph + 1] = v * Math.sin(a);
      this.#phase[6 + 2 * ph] = i * Math.cos(a - lag);
      this.#phase[6 + 2 * ph + 1] = i * Math.sin(a - lag);
    }
  }

  /** P (MW) and Q (MVAr) of the first set, then slow generic signals. */
  #analog(k: number, t: number): number {
    if (k > 1) return 100 + 5 * Math.sin((TWO_PI * t) / 60 + k);
    let sum = 0;
    for (let ph = 0; ph < 3; ph++) {
      const [vr, vi, ir, ii] = [this.#phase[2 * ph]!, this.#phase[2 * ph + 1]!, this.#phase[6 + 2 * ph]!, this.#phase[7 + 2 * ph]!];
      // S = V · conj(I): P = vr·ir + vi·ii, Q = vi·ir − vr·ii
      sum += k === 0 ? vr * ir + vi * ii : vi * ir - vr * ii;
    }
    return sum / 1e6;
  }

  #buildVersions(): ConfigVersion[] {
    const o = this.#options;
    const changes = this.#scenario.events
      .filter((e): e is EventOf<'config-change'> => e.type === 'config-change')
      .map((e) => ({ e, fromS: e.at + e.warnS }))
      .sort((a, b) => a.fromS - b.fromS);
    let shapes: PmuShape[] = Array.from({ length: o.pmuCount }, () => ({ phasors: o.phasors, analogs: o.analogs, digitals: o.digitals, cfgcnt: 0 }));
    const versions = [this.#version(0, shapes)];
    for (const { e, fromS } of changes) {
      shapes = shapes.map((s, p) =>
        e.pmus !== undefined && !e.pmus.includes(p)
          ? s
          : {
              phasors: s.phasors + (e.addPhasors ?? 0),
              analogs: s.analogs + (e.addAnalogs ?? 0),
              digitals: s.digitals + (e.addDigitals ?? 0),
              cfgcnt: (s.cfgcnt + 1) & 0xffff,
            },
      );
      versions.push(this.#version(fromS, shapes));
    }
    return versions;
  }

  #version(fromS: number, shapes: PmuShape[]): ConfigVersion {
    const configs = {
      cfg1: buildConfig(this.#options, shapes, 'cfg1'),
      cfg2: buildConfig(this.#options, shapes, 'cfg2'),
      cfg3: buildConfig(this.#options, shapes, 'cfg3'),
    };
    const layout = new StreamLayout(configs.cfg2);
    return { fromS, configs, layout, columns: new DataColumns(layout), specs: shapes.map((s) => phasorSpecs(s.phasors)) };
  }
}
