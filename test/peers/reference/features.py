#!/usr/bin/env python3
"""Independent numpy reference for gridgate's windowed features (test/peers).

Written from the formulas in docs/notes, not from the TypeScript, so that a peer test can compare
the gateway's window results against it. numpy only.

Input (stdin, JSON):
  {"windows": [{"sizeUs": 100000, "slideUs": 100000}, ...],
   "samples": [{"t": <event time, integer µs>, "values": {"<channel>": <number or null>, ...}}, ...],
   "phases":  {"voltage": ["VA", "VB", "VC"], "current": ["IA", "IB", "IC"]}}
Phasor channels appear in "values" as "<name>.magnitude" (RMS) and "<name>.angle" (radians).

Output (stdout): a JSON array with one object per (window spec, window holding >= 1 sample),
sorted by (sizeUs, slideUs, start):
  {"sizeUs", "slideUs", "start", "end",
   "channels": {name: {"count", "mean", "min", "max", "std", "rms", "first", "last"}},
   "rocofDerived": <Hz/s or null>,
   "sequence": {"voltage": {"v0", "v1", "v1AngleRad", "v2", "unbalancePct", "zeroPct"},
                "current": {...same...}},
   "power": {"p", "q", "s", "pf"}}

Semantics:
- Windows are epoch-aligned and half-open: window k is [k*slide, k*slide + size); a sample belongs
  to every window that contains it (ceil(size/slide) of them when size is a multiple of slide).
  Times are integer µs throughout, so membership is exact.
- Samples are taken in event-time order (a stable sort on t: equal times keep input order), which
  defines "first" and "last".
- channels: every name present in "values" of any sample in the window. null and non-finite values
  are left out (the gateway counts them as missing); a channel with no value left has count 0 and
  null statistics. std is the population std (ddof=0, np.std's default); rms = sqrt(mean(x^2)).
- rocofDerived: slope of "freq" against time in seconds, np.polyfit(t, f, 1)[0], over the samples
  with a finite "freq"; null with fewer than 2 of them or when they all share one time. Time is
  taken as (t_us - start) / 1e6: a shift does not change the slope, and absolute seconds (~1.7e9)
  would both round the µs (a double's step there is 2.4e-7 s) and make the fit ill-conditioned.
- sequence: per sample whose three phases all have a finite magnitude and angle,
  V = mag * exp(j*angle), a = exp(j*2*pi/3),
  V0 = (Va+Vb+Vc)/3, V1 = (Va + a*Vb + a^2*Vc)/3, V2 = (Va + a^2*Vb + a*Vc)/3;
  v0 = |V0|, v1 = |V1|, v1AngleRad = angle(V1), v2 = |V2|, unbalancePct = 100*|V2|/|V1|,
  zeroPct = 100*|V0|/|V1|. Each quantity is then the arithmetic mean over the window's samples
  where it is finite (a ratio with |V1| = 0 is not). NOTE: v1AngleRad is a plain mean of wrapped
  angles, as specified; it is meaningless for a window whose angles straddle +-pi.
  A group ("voltage"/"current") appears only when "phases" names it; its values are null when no
  sample in the window has all six inputs.
- power: per sample with all twelve inputs finite, S = sum over phases of V * conj(I) (RMS phasors,
  no 1/2): P = Re S, Q = Im S (signs kept: lagging current gives Q > 0, reverse flow P < 0), |S|.
  p, q, s are the means of P, Q, |S| over those samples; pf = mean(P) / hypot(mean(P), mean(Q))
  (so pf != p/s in general, since mean|S| >= |mean S|); null when that hypot is 0. Present only when
  "phases" names both voltage and current.
Every non-finite result is written as null; floats use Python's shortest round-trip repr.
"""

import json
import math
import sys

import numpy as np

A = np.exp(2j * np.pi / 3)
STAT_KEYS = ("count", "mean", "min", "max", "std", "rms", "first", "last")
SEQ_KEYS = ("v0", "v1", "v1AngleRad", "v2", "unbalancePct", "zeroPct")


def finite_or_none(x):
    """A JSON number for a finite value, else None (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def value(sample, name):
    """The sample's value of a channel as a float, NaN when absent, null or not a number."""
    v = sample["values"].get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


def window_indexes(t, size, slide):
    """k such that k*slide <= t < k*slide + size, in integer arithmetic."""
    return range((t - size) // slide + 1, t // slide + 1)


def channel_stats(xs):
    a = np.asarray(xs, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {k: (0 if k == "count" else None) for k in STAT_KEYS}
    return {
        "count": int(a.size),
        "mean": finite_or_none(np.mean(a)),
        "min": finite_or_none(np.min(a)),
        "max": finite_or_none(np.max(a)),
        "std": finite_or_none(np.std(a)),  # ddof=0
        "rms": finite_or_none(np.sqrt(np.mean(a * a))),
        "first": finite_or_none(a[0]),
        "last": finite_or_none(a[-1]),
    }


def rocof(samples, start):
    t = np.array([(s["t"] - start) / 1e6 for s in samples], dtype=np.float64)
    f = np.array([value(s, "freq") for s in samples], dtype=np.float64)
    keep = np.isfinite(f)
    t, f = t[keep], f[keep]
    if t.size < 2 or np.ptp(t) == 0:
        return None
    return finite_or_none(np.polyfit(t, f, 1)[0])


def phasors(samples, names):
    """Complex (n_samples, 3) array of the phases, and a mask of samples with all six inputs finite."""
    mag = np.array([[value(s, f"{n}.magnitude") for n in names] for s in samples], dtype=np.float64)
    ang = np.array([[value(s, f"{n}.angle") for n in names] for s in samples], dtype=np.float64)
    ok = np.all(np.isfinite(mag) & np.isfinite(ang), axis=1)
    with np.errstate(invalid="ignore"):
        return mag * np.exp(1j * ang), ok


def finite_mean(x):
    x = x[np.isfinite(x)]
    return finite_or_none(np.mean(x)) if x.size else None


def sequence(samples, names):
    ph, ok = phasors(samples, names)
    ph = ph[ok]
    if ph.shape[0] == 0:
        return {k: None for k in SEQ_KEYS}
    va, vb, vc = ph[:, 0], ph[:, 1], ph[:, 2]
    v0 = (va + vb + vc) / 3
    v1 = (va + A * vb + A**2 * vc) / 3
    v2 = (va + A**2 * vb + A * vc) / 3
    m0, m1, m2 = np.abs(v0), np.abs(v1), np.abs(v2)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_sample = {
            "v0": m0,
            "v1": m1,
            "v1AngleRad": np.angle(v1),
            "v2": m2,
            "unbalancePct": 100 * m2 / m1,
            "zeroPct": 100 * m0 / m1,
        }
    return {k: finite_mean(per_sample[k]) for k in SEQ_KEYS}


def power(samples, v_names, i_names):
    v, v_ok = phasors(samples, v_names)
    i, i_ok = phasors(samples, i_names)
    ok = v_ok & i_ok
    if not np.any(ok):
        return {"p": None, "q": None, "s": None, "pf": None}
    s = np.sum(v[ok] * np.conj(i[ok]), axis=1)
    p, q = float(np.mean(s.real)), float(np.mean(s.imag))
    h = math.hypot(p, q)
    return {
        "p": finite_or_none(p),
        "q": finite_or_none(q),
        "s": finite_or_none(np.mean(np.abs(s))),
        "pf": finite_or_none(p / h) if h > 0 else None,
    }


def window_result(size, slide, start, samples, phases):
    names = sorted({name for s in samples for name in s["values"]})
    out = {
        "sizeUs": size,
        "slideUs": slide,
        "start": start,
        "end": start + size,
        "channels": {n: channel_stats([value(s, n) for s in samples]) for n in names},
        "rocofDerived": rocof(samples, start),
        "sequence": {g: sequence(samples, phases[g]) for g in ("voltage", "current") if g in phases},
    }
    if "voltage" in phases and "current" in phases:
        out["power"] = power(samples, phases["voltage"], phases["current"])
    return out


def compute(doc):
    samples = sorted(doc["samples"], key=lambda s: s["t"])  # stable: equal times keep input order
    for s in samples:
        if s["t"] != int(s["t"]):
            raise ValueError(f"event time {s['t']} is not an integer number of µs")
        s["t"] = int(s["t"])
    phases = doc.get("phases", {})
    for g, names in phases.items():
        if len(names) != 3:
            raise ValueError(f"phases.{g} must name exactly three phases (A, B, C)")
    results = []
    for spec in doc["windows"]:
        size, slide = int(spec["sizeUs"]), int(spec["slideUs"])
        if size <= 0 or slide <= 0:
            raise ValueError(f"window sizeUs and slideUs must be positive: {spec}")
        members = {}  # window index k -> samples in event-time order
        for s in samples:
            for k in window_indexes(s["t"], size, slide):
                members.setdefault(k, []).append(s)
        for k, ws in members.items():
            results.append(window_result(size, slide, k * slide, ws, phases))
    results.sort(key=lambda r: (r["sizeUs"], r["slideUs"], r["start"]))
    return results


def main():
    json.dump(compute(json.load(sys.stdin)), sys.stdout, allow_nan=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
