import type { EventOf, Scenario, ScenarioEvent } from './scenario-schema.js';

// The power system seen by each PMU, without noise: a pure function of the scenario time t
// (seconds after the scenario start). Angles are relative to a frame rotating at the nominal
// frequency, so the angle is the integral of the frequency deviation, and frequency and ROCOF are
// its first and second derivatives, computed in closed form:
//
//   θ(t)  = θ_pmu + 2π ∫ Δf dt + Σ jumps + A e^(−σu) sin ωu          u = t − t_osc
//   f(t)  = f_nom + Δf(t) + A e^(−σu) (ω cos ωu − σ sin ωu) / 2π
//   f'(t) = Σ ramp rates + A e^(−σu) ((σ² − ω²) sin ωu − 2σω cos ωu) / 2π
//
// Δf is the steady offset plus steps (f jumps, ROCOF stays 0: an ideal step) plus ramps (constant
// ROCOF for their duration, then the frequency holds). Phase jumps are ideal too: no frequency spike.

export interface PmuSample {
  freqHz: number;
  rocofHzPerS: number;
  /** Angle of the phase A voltage, rad, unwrapped. */
  angleRad: number;
  /** Multiplier of every magnitude (oscillation). */
  magnitudeFactor: number;
  /** Voltage per unit of nominal, phases A, B, C (sag, swell). */
  readonly voltagePu: Float64Array;
}

export const newSample = (): PmuSample => ({
  freqHz: 0,
  rocofHzPerS: 0,
  angleRad: 0,
  magnitudeFactor: 1,
  voltagePu: new Float64Array(3),
});

interface PmuEvents {
  steps: EventOf<'frequency-step'>[];
  ramps: EventOf<'frequency-ramp'>[];
  oscillations: { at: number; end: number; amplitude: number; magnitude: number; omega: number; sigma: number }[];
  voltages: { at: number; end: number; pu: number; phases: boolean[] }[];
  jumps: EventOf<'phase-jump'>[];
}

const DEG = Math.PI / 180;
const endOf = (e: { at: number; durationS?: number }): number => (e.durationS === undefined ? Infinity : e.at + e.durationS);

/** Does `event` apply to PMU index p? */
export const appliesTo = (event: ScenarioEvent, p: number): boolean => event.pmus === undefined || event.pmus.includes(p);

export class SignalModel {
  readonly #fnom: number;
  readonly #offsetHz: number;
  readonly #pmuStepRad: number;
  readonly #pmus: PmuEvents[];

  constructor(scenario: Scenario, fnom: number, pmuCount: number) {
    this.#fnom = fnom;
    this.#offsetHz = scenario.signal.frequencyOffsetHz;
    this.#pmuStepRad = scenario.signal.pmuAngleStepDeg * DEG;
    this.#pmus = Array.from({ length: pmuCount }, (_, p) => {
      const mine = scenario.events.filter((e) => appliesTo(e, p));
      const of = <K extends ScenarioEvent['type']>(type: K) => mine.filter((e): e is EventOf<K> => e.type === type);
      return {
        steps: of('frequency-step'),
        ramps: of('frequency-ramp'),
        jumps: of('phase-jump'),
        oscillations: of('oscillation').map((e) => {
          // Damping ratio ζ of a mode observed at ω_d: σ = ζ ω_d / √(1 − ζ²).
          const omega = 2 * Math.PI * e.modeHz;
          const sigma = (e.dampingRatio * omega) / Math.sqrt(1 - e.dampingRatio ** 2);
          return { at: e.at, end: endOf(e), amplitude: e.angleDeg * DEG, magnitude: e.magnitudePct / 100, omega, sigma };
        }),
        voltages: of('voltage').map((e) => ({
          at: e.at,
          end: endOf(e),
          pu: e.pu,
          phases: ['A', 'B', 'C'].map((ph) => e.phases === undefined || (e.phases as string[]).includes(ph)),
        })),
      };
    });
  }

  /** Fill `out` with PMU p's state at scenario time t. */
  sample(t: number, p: number, out: PmuSample): void {
    const ev = this.#pmus[p]!;
    let df = this.#offsetHz;
    let integral = this.#offsetHz * t; // ∫ Δf dt from 0 to t
    let rocof = 0;
    for (const s of ev.steps) {
      if (t >= s.at) {
        df += s.deltaHz;
        integral += s.deltaHz * (t - s.at);
      }
    }
    for (const r of ev.ramps) {
      const u = t - r.at;
      if (u <= 0) continue;
      const d = r.durationS;
      if (u < d) {
        df += r.rocofHzPerS * u;
        integral += (r.rocofHzPerS * u * u) / 2;
        rocof += r.rocofHzPerS;
      } else {
        df += r.rocofHzPerS * d;
        integral += r.rocofHzPerS * ((d * d) / 2 + d * (u - d));
      }
    }
    let angle = p * this.#pmuStepRad + 2 * Math.PI * integral;
    for (const j of ev.jumps) if (t >= j.at) angle += j.deg * DEG;
    let magnitude = 1;
    for (const o of ev.oscillations) {
      if (t < o.at || t >= o.end) continue;
      const u = t - o.at;
      const env = Math.exp(-o.sigma * u);
      const s = Math.sin(o.omega * u);
      const c = Math.cos(o.omega * u);
      angle += o.amplitude * env * s;
      df += (o.amplitude * env * (o.omega * c - o.sigma * s)) / (2 * Math.PI);
      rocof += (o.amplitude * env * ((o.sigma ** 2 - o.omega ** 2) * s - 2 * o.sigma * o.omega * c)) / (2 * Math.PI);
      magnitude *= 1 + o.magnitude * env * s;
    }
    out.voltagePu.fill(1);
    for (const v of ev.voltages) {
      if (t < v.at || t >= v.end) continue;
      for (let ph = 0; ph < 3; ph++) if (v.phases[ph]) out.voltagePu[ph] = v.pu;
    }
    out.freqHz = this.#fnom + df;
    out.rocofHzPerS = rocof;
    out.angleRad = angle;
    out.magnitudeFactor = magnitude;
  }
}
