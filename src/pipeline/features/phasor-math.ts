// Phasor arithmetic on RMS phasors (angles relative to a cosine at nominal frequency aligned to UTC):
// angle wrapping, symmetrical components, three-phase and positive-sequence power, per unit.
// Pure functions that write into caller-owned arrays: no allocation per sample, no state.
// Angles are radians unless the name says Deg. Signs are kept: an inductive load (current lagging
// voltage) gives Q > 0, reverse flow gives P < 0 (GSF's PowerCalculator folds the angle into
// 0–180° so Q is never negative; we do not).

const TWO_PI = 2 * Math.PI;
const SQRT3 = Math.sqrt(3);
const HALF_SQRT3 = SQRT3 / 2;

/**
 * x wrapped into (−π, π]. The notes' wrap(x) = x − 2π·floor((x + π)/2π) lands in [−π, π); the
 * ceiling form x − 2π·ceil((x − π)/2π) is the same map but sends −π to +π. The final checks absorb
 * the rounding of the division for inputs many turns away.
 */
export function wrapRad(x: number): number {
  let y = x - TWO_PI * Math.ceil((x - Math.PI) / TWO_PI);
  if (y <= -Math.PI) y += TWO_PI;
  else if (y > Math.PI) y -= TWO_PI;
  return y;
}

/** x wrapped into (−180, 180]: x − 360·ceil((x − 180)/360), so 180 stays 180 and −180 becomes 180. */
export function wrapDeg(x: number): number {
  let y = x - 360 * Math.ceil((x - 180) / 360);
  if (y <= -180) y += 360;
  else if (y > 180) y -= 360;
  return y;
}

/** re[index] = mag·cos(ang), im[index] = mag·sin(ang). */
export function polarToRect(mag: number, angRad: number, re: Float64Array, im: Float64Array, index: number): void {
  re[index] = mag * Math.cos(angRad);
  im[index] = mag * Math.sin(angRad);
}

/**
 * Symmetrical components of phases A, B, C (re/im at indexes 0, 1, 2), a = e^{j2π/3} = −½ + j√3/2:
 *   V0 = (Va + Vb + Vc)/3,  V1 = (Va + a·Vb + a²·Vc)/3,  V2 = (Va + a²·Vb + a·Vc)/3
 * out[0..5] = V0re, V0im, V1re, V1im, V2re, V2im; all NaN unless all six inputs are finite.
 */
export function symmetricalComponents(
  re: Float64Array | readonly number[],
  im: Float64Array | readonly number[],
  out: Float64Array,
): void {
  const ar = re[0] ?? NaN;
  const br = re[1] ?? NaN;
  const cr = re[2] ?? NaN;
  const ai = im[0] ?? NaN;
  const bi = im[1] ?? NaN;
  const ci = im[2] ?? NaN;
  if (
    !Number.isFinite(ar) ||
    !Number.isFinite(br) ||
    !Number.isFinite(cr) ||
    !Number.isFinite(ai) ||
    !Number.isFinite(bi) ||
    !Number.isFinite(ci)
  ) {
    out.fill(NaN, 0, 6);
    return;
  }
  // a·(x + jy) = (−½x − (√3/2)y) + j(−½y + (√3/2)x);  a²·(x + jy) = (−½x + (√3/2)y) + j(−½y − (√3/2)x)
  const sumBCr = br + cr;
  const sumBCi = bi + ci;
  // a·Vb + a²·Vc = −½(Vb + Vc) + rot, and a²·Vb + a·Vc = −½(Vb + Vc) − rot, with
  // rot = (√3/2)·((Vc,im − Vb,im) + j(Vb,re − Vc,re)).
  const rotR = HALF_SQRT3 * (ci - bi);
  const rotI = HALF_SQRT3 * (br - cr);
  out[0] = (ar + sumBCr) / 3;
  out[1] = (ai + sumBCi) / 3;
  out[2] = (ar - 0.5 * sumBCr + rotR) / 3;
  out[3] = (ai - 0.5 * sumBCi + rotI) / 3;
  out[4] = (ar - 0.5 * sumBCr - rotR) / 3;
  out[5] = (ai - 0.5 * sumBCi - rotI) / 3;
}

/**
 * Three-phase complex power from RMS phasors (index 0, 1, 2 = A, B, C), so no factor ½:
 *   S = Σ_φ V_φ·conj(I_φ);  P = Re S = Σ(Vre·Ire + Vim·Iim);  Q = Im S = Σ(Vim·Ire − Vre·Iim)
 * out[0] = P, out[1] = Q, out[2] = |S|, out[3] = PF = P/|S| (NaN when |S| = 0); all NaN unless all
 * inputs are finite.
 */
export function threePhasePower(
  vRe: Float64Array | readonly number[],
  vIm: Float64Array | readonly number[],
  iRe: Float64Array | readonly number[],
  iIm: Float64Array | readonly number[],
  out: Float64Array,
): void {
  let p = 0;
  let q = 0;
  for (let k = 0; k < 3; k++) {
    const vr = vRe[k] ?? NaN;
    const vi = vIm[k] ?? NaN;
    const ir = iRe[k] ?? NaN;
    const ii = iIm[k] ?? NaN;
    p += vr * ir + vi * ii;
    q += vi * ir - vr * ii;
  }
  writePower(p, q, out);
}

/** S = 3·V1·conj(I1), for a PMU that reports only positive sequence; out as in threePhasePower. */
export function positiveSequencePower(v1Re: number, v1Im: number, i1Re: number, i1Im: number, out: Float64Array): void {
  writePower(3 * (v1Re * i1Re + v1Im * i1Im), 3 * (v1Im * i1Re - v1Re * i1Im), out);
}

/** V_pu = |V_LN| / (V_LL,base·1000/√3); NaN unless the base is finite and positive. */
export function perUnitLineToNeutral(vLnVolts: number, baseLineToLineKv: number): number {
  if (!(baseLineToLineKv > 0) || !Number.isFinite(baseLineToLineKv)) return NaN;
  return (Math.abs(vLnVolts) * SQRT3) / (baseLineToLineKv * 1000);
}

function writePower(p: number, q: number, out: Float64Array): void {
  // A NaN or ±Infinity input leaves p or q non-finite (∞ − ∞ = NaN; Math.hypot(∞, NaN) = ∞).
  if (!Number.isFinite(p) || !Number.isFinite(q)) {
    out.fill(NaN, 0, 4);
    return;
  }
  const s = Math.hypot(p, q);
  out[0] = p;
  out[1] = q;
  out[2] = s;
  out[3] = s === 0 ? NaN : p / s;
}
