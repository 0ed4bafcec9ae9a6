import { Stat, TIME_QUALITY_CLOCK_FAILURE, TIME_QUALITY_ERROR_S } from '../constants.js';
import { unit } from './noise.js';
import type { EventOf, Scenario, ScenarioEvent } from './scenario-schema.js';
import { appliesTo } from './signal.js';

// What the scripted events do to the device rather than to the power system: the STAT word, the
// message time quality byte, dropped frames and digital words. Pure functions of scenario time.
//
// GPS loss (C37.118.2-2011 Table 7 and Table 4), with u = seconds unlocked (t − at + unlockedForS)
// and the estimated time error e = max(50 ns, u × driftPpm × 10^-6):
//   STAT bit 13        1 (not synchronised)
//   STAT bits 5–4      unlocked time: 00 < 10 s, 01 < 100 s, 10 < 1000 s, 11 ≥ 1000 s
//   STAT bits 8–6      PMU time quality from e: 001 < 100 ns … 110 < 10 ms, 111 worse or unknown
//   FRACSEC bits 27–24 message time quality: the smallest Table 4 code whose bound holds e,
//                      0xF past 10 s or with clock: failed
// Locked: STAT bits 8–6 = 001 (< 100 ns) and time quality 0. The frame's time quality byte is the
// worst over the PMUs of the stream (one clock stamps the frame).

const PMU_TIME_QUALITY_SHIFT = Stat.TIME_QUALITY_SHIFT;
const LOCKED_PMU_TIME_QUALITY = 1 << PMU_TIME_QUALITY_SHIFT;

interface Span {
  at: number;
  end: number;
}
const span = (e: { at: number; durationS?: number }): Span => ({ at: e.at, end: e.durationS === undefined ? Infinity : e.at + e.durationS });
const within = (s: Span, t: number): boolean => t >= s.at && t < s.end;

export class DeviceState {
  readonly #seed: number;
  readonly #gps: (Span & { e: EventOf<'gps-loss'>; pmus: ScenarioEvent['pmus'] })[];
  readonly #warnings: (Span & { pmus: ScenarioEvent['pmus'] })[];
  readonly #stats: (Span & { e: EventOf<'stat'> })[];
  readonly #drops: (Span & { probability: number })[];
  readonly #digitals: (Span & { e: EventOf<'digital'> })[];

  constructor(scenario: Scenario, seed: number, framePeriodS: number) {
    this.#seed = seed;
    const of = <K extends ScenarioEvent['type']>(type: K) => scenario.events.filter((e): e is EventOf<K> => e.type === type);
    this.#gps = of('gps-loss').map((e) => ({ ...span(e), e, pmus: e.pmus }));
    // STAT bit 10 from `at` until the new configuration applies.
    this.#warnings = of('config-change').map((e) => ({ at: e.at, end: e.at + e.warnS, pmus: e.pmus }));
    this.#stats = of('stat').map((e) => ({ ...span(e), e }));
    // A drop without a duration drops one frame: the span is one period, less a little so that
    // a drop at a frame's exact time does not take the next one too.
    this.#drops = of('drop').map((e) => ({ at: e.at, end: e.at + (e.durationS ?? framePeriodS * 0.999), probability: e.probability }));
    this.#digitals = of('digital').map((e) => ({ ...span(e), e }));
  }

  /** PMU p's STAT word at t. */
  stat(t: number, p: number): number {
    let stat = LOCKED_PMU_TIME_QUALITY;
    const error = this.#timeError(t, p);
    if (error !== null) {
      stat = Stat.SYNC_ERROR | (pmuTimeQuality(error.seconds) << PMU_TIME_QUALITY_SHIFT) | (unlockedBits(error.unlockedS) << Stat.UNLOCKED_SHIFT);
    }
    for (const w of this.#warnings) if (within(w, t) && (w.pmus === undefined || w.pmus.includes(p))) stat |= Stat.CONFIG_CHANGE;
    for (const s of this.#stats) if (within(s, t) && appliesTo(s.e, p)) stat |= s.e.set;
    return stat;
  }

  /** The message time quality byte (FRACSEC bits 31–24) at t, the worst over `pmuCount` PMUs. */
  timeQuality(t: number, pmuCount: number): number {
    let worst = 0;
    for (let p = 0; p < pmuCount; p++) {
      const error = this.#timeError(t, p);
      if (error !== null) worst = Math.max(worst, messageTimeQuality(error.seconds));
    }
    return worst;
  }

  /** Is frame n (at t) dropped? Seeded, so the same frames go missing on every run. */
  dropped(t: number, n: number): boolean {
    for (const d of this.#drops) {
      if (within(d, t) && (d.probability >= 1 || unit(this.#seed, n, -1) < d.probability)) return true;
    }
    return false;
  }

  /** Digital word `word` of PMU p at t, `normal` unless an event sets it. */
  digital(t: number, p: number, word: number, normal: number): number {
    let value = normal;
    for (const d of this.#digitals) if (d.e.word === word && within(d, t) && appliesTo(d.e, p)) value = d.e.value;
    return value;
  }

  /** Estimated clock error of PMU p at t, or null while locked; Infinity for a failed clock. */
  #timeError(t: number, p: number): { seconds: number; unlockedS: number } | null {
    let worst: { seconds: number; unlockedS: number } | null = null;
    for (const g of this.#gps) {
      if (!within(g, t) || !(g.pmus === undefined || g.pmus.includes(p))) continue;
      const unlockedS = t - g.at + g.e.unlockedForS;
      const seconds = g.e.clock === 'failed' ? Infinity : Math.max(5e-8, unlockedS * g.e.driftPpm * 1e-6);
      if (worst === null || seconds > worst.seconds) worst = { seconds, unlockedS };
    }
    return worst;
  }
}

/** STAT bits 5–4 (Table 7). */
export function unlockedBits(unlockedS: number): number {
  return unlockedS < 10 ? 0 : unlockedS < 100 ? 1 : unlockedS < 1000 ? 2 : 3;
}

/** STAT bits 8–6 (2011, Table 7): 1 < 100 ns, 2 < 1 µs, … 6 < 10 ms, 7 worse or unknown. */
export function pmuTimeQuality(errorS: number): number {
  for (let code = 1, bound = 1e-7; code < 7; code++, bound *= 10) if (errorS < bound) return code;
  return 7;
}

/** Table 4: the smallest code whose bound covers the error; 0xF (clock failure) beyond 10 s. */
export function messageTimeQuality(errorS: number): number {
  for (let code = 1; code <= 0xb; code++) if (errorS <= TIME_QUALITY_ERROR_S[code]!) return code;
  return TIME_QUALITY_CLOCK_FAILURE;
}
