// Test helper for ../tshark-decoder.test.ts: compares a data frame as tshark shows it with our
// decoded columns, every field of every PMU block, phasors included. Where the two legitimately
// differ is listed in the test's head comment and stated beside each assertion here.
import assert from 'node:assert/strict';
import type { PhasorChannel } from '../../../src/protocols/c37118/cfg-frame.js';
import { DATA_ERROR_NAMES, PMU_TIME_QUALITY_NAMES, TRIGGER_REASON_NAMES, UNLOCKED_NAMES } from '../../../src/protocols/c37118/constants.js';
import type { DataColumns } from '../../../src/protocols/c37118/data-frame.js';
import { dataJson } from '../../../src/protocols/c37118/json.js';
import { statJson } from '../../../src/protocols/c37118/stat.js';
import { asAscii, heads, hex, int, one, oneField, padTrim, quoted, see, type Seen } from './synphasor-compare-common.js';
import type { TsharkDecoded } from './tshark.js';

// ---------------------------------------------------------------------------------------------
// Comparing numbers and reading tshark's phasor lines

/** Same number, or both NaN. */
function sameNumber(x: number, y: number, what: string): void {
  assert.ok(x === y || (Number.isNaN(x) && Number.isNaN(y)), `${what}: ${x} ≠ ${y}`);
}

/** tshark's %.3f display against ours: 0.0005 absolute + 1e-6 relative; NaN only with NaN. */
function near(tshark: number, ours: number, what: string, rel = 1e-6): void {
  if (Number.isNaN(tshark) || Number.isNaN(ours)) {
    assert.ok(Number.isNaN(tshark) && Number.isNaN(ours), `${what}: tshark ${tshark}, ours ${ours}`);
    return;
  }
  const tol = 0.0005 + 1e-12 + rel * Math.abs(ours);
  assert.ok(Math.abs(tshark - ours) <= tol, `${what}: tshark ${tshark}, ours ${ours} (±${tol})`);
}

/** tshark's FT_FLOAT display (6 significant digits) against ours. */
function near6(tshark: string, ours: number, what: string): void {
  const t = Number(tshark);
  if (Number.isNaN(t) || Number.isNaN(ours)) {
    assert.ok(Number.isNaN(t) && Number.isNaN(ours), `${what}: tshark ${tshark}, ours ${ours}`);
    return;
  }
  assert.ok(Math.abs(t - ours) <= 5e-6 * Math.abs(ours) + 1e-9, `${what}: tshark ${tshark}, ours ${ours}`);
}

/** Degrees modulo 360 (for rectangular CFG-3 phasors, see the head comment of the test). */
function nearAngle(tshark: number, ours: number, what: string): void {
  if (Number.isNaN(tshark) || Number.isNaN(ours)) return near(tshark, ours, what);
  const diff = ((((tshark - ours) % 360) + 540) % 360) - 180;
  assert.ok(Math.abs(diff) <= 0.0005 + 1e-6 * Math.abs(ours), `${what}: tshark ${tshark}°, ours ${ours}°`);
}

interface TsharkPhasor {
  name: string;
  magnitude: number;
  unit: string;
  angleDeg: number;
  re: number;
  im: number;
  unscaled: [number, number] | undefined;
}

/** 'Phasor #2: "VB", 134003.289V ∠-119.998° alt -66998.266+j-116052.203V; unscaled: -7318, -12676' */
function parsePhasor(showname: string): TsharkPhasor {
  const m = /^Phasor #\d+: "(.*)", *(\S+?)([VA]) ∠ *(\S+?)° alt *(\S+?)\+j *(\S+?)([VA])(?:; unscaled: *(\S+), *(\S+))?$/su.exec(showname);
  assert.ok(m, `unexpected phasor line: ${showname}`);
  assert.equal(m[7], m[3], 'one unit per phasor line');
  return {
    name: m[1]!,
    magnitude: Number(m[2]),
    unit: m[3]!,
    angleDeg: Number(m[4]),
    re: Number(m[5]),
    im: Number(m[6]),
    unscaled: m[8] === undefined ? undefined : [Number(m[8]), Number(m[9])],
  };
}

const deg = (rad: number): number => (rad * 180) / Math.PI;
const INT16_ABSENT = -0x8000;
const absentToNaN = (raw: number): number => (raw === INT16_ABSENT ? NaN : raw);

// ---------------------------------------------------------------------------------------------
// Data frames

export function compareData(t: TsharkDecoded, columns: DataColumns, seen: Seen, deferred: (() => void)[], what: string): void {
  const layout = columns.layout;
  const config = layout.config;
  const cfg3 = config.kind === 'cfg3';
  const json = dataJson(columns);
  const blocks = heads(t, /^Station: /u);
  assert.equal(blocks.length, layout.pmuCount, `${what}: PMU blocks`);
  config.pmus.forEach((pmu, p) => {
    const block = blocks[p]!.frame;
    const at = `${what} PMU ${pmu.idcode} (#${p + 1})`;
    const mine = json[p]!;
    const format = layout.format[p]!;
    seen.formats.add(format);
    const polar = (format & 1) !== 0;
    // The block is PMU #p by configuration order (tshark shows no IDCODE in data blocks).
    const name = quoted(blocks[p]!.head.show);
    // (In data blocks tshark shows a CFG-3 station name as UTF-8, unlike in the CFG-3 itself.)
    assert.equal(cfg3 ? name : padTrim(name), pmu.station, `${at}: station`);

    // STAT, every field.
    const flags = heads(block, /^Flags$/u)[0]!;
    const stat = parseInt(flags.head.value!, 16);
    assert.equal(stat, columns.stat[p], `${at}: STAT word`);
    const st = statJson(stat);
    assert.deepEqual(st, mine.stat);
    const bit = (name: string): boolean => one(flags.frame, name) === '1';
    const field = (name: string): number => parseInt(one(flags.frame, name), 16);
    assert.equal(DATA_ERROR_NAMES[field('synphasor.data.status')], st.dataError, `${at}: STAT data error`);
    assert.equal(bit('synphasor.data.sync'), !st.pmuSync, `${at}: STAT sync`);
    assert.equal(bit('synphasor.data.sorting'), st.sortedByArrival, `${at}: STAT sorting`);
    assert.equal(bit('synphasor.data.trigger'), st.trigger, `${at}: STAT trigger`);
    assert.equal(bit('synphasor.data.CFGchange'), st.configChange, `${at}: STAT config change`);
    assert.equal(bit('synphasor.data.data_modified'), st.dataModified, `${at}: STAT data modified`);
    assert.equal(PMU_TIME_QUALITY_NAMES[field('synphasor.data.pmu_tq')], st.pmuTimeQuality, `${at}: STAT PMU time quality`);
    assert.equal(UNLOCKED_NAMES[field('synphasor.data.t_unlock')], st.unlockedTime, `${at}: STAT unlocked time`);
    assert.equal(TRIGGER_REASON_NAMES[field('synphasor.data.trigger_reason')], st.triggerReason, `${at}: STAT trigger reason`);
    for (const [key, value] of Object.entries(st)) if (key !== 'raw') see(seen, key, value);

    // Phasors
    const phasors = block.all('synphasor.phasor');
    assert.equal(phasors.length, pmu.phasors.length);
    pmu.phasors.forEach((ph, k) => {
      const i = layout.phasorStart[p]! + k;
      comparePhasor(phasors[k]!, parsePhasor(phasors[k]!.showname), ph, mine.phasors[k]!, {
        a: columns.phasorA[i]!,
        b: columns.phasorB[i]!,
        format,
        cfg3,
        rotates: layout.rotates,
        deferred,
        seen,
        at: `${at} phasor #${k + 1} ${ph.name}`,
      });
    });

    // FREQ / DFREQ
    if (format & 8) {
      const freq = oneField(block, 'synphasor.actual_frequency_value');
      sameNumber(hex(freq.value).readFloatBE(0), columns.freq[p]!, `${at}: FREQ bytes`);
      near6(freq.show, columns.freq[p]!, `${at}: FREQ`);
      const rocof = oneField(block, 'synphasor.rate_change_frequency');
      sameNumber(hex(rocof.value).readFloatBE(0), columns.rocof[p]!, `${at}: DFREQ bytes`);
      near6(rocof.show, columns.rocof[p]!, `${at}: DFREQ`);
      assert.equal(mine.freq, Number.isNaN(columns.freq[p]!) ? null : columns.freq[p]);
    } else {
      const dev = oneField(block, 'synphasor.frequency_deviation_from_nominal');
      const raw = hex(dev.value).readInt16BE(0);
      assert.equal(int(dev.show), raw, `${at}: FREQ mHz`);
      const actual = Number(/actual frequency: (\S+)Hz\)$/u.exec(dev.showname)?.[1]);
      near(actual, pmu.fnom + raw / 1000, `${at}: FNOM + FREQ`);
      const rocofField = oneField(block, 'synphasor.rate_change_frequency');
      const rawRocof = hex(rocofField.value).readInt16BE(0);
      near6(rocofField.show, rawRocof / 100, `${at}: DFREQ`);
      if (raw === INT16_ABSENT) {
        // Absent: tshark shows -32768 mHz (and FNOM − 32.768 Hz), we give NaN / null.
        seen.absent.add('int freq');
        assert.ok(Number.isNaN(columns.freq[p]!) && mine.freq === null, `${at}: absent FREQ`);
      } else {
        assert.equal(columns.freq[p], pmu.fnom + raw / 1000, `${at}: FREQ`);
        near(actual, columns.freq[p]!, `${at}: FREQ (Hz)`);
      }
      if (rawRocof === INT16_ABSENT) {
        // Absent: tshark shows -327.68 Hz/s, we give NaN.
        seen.absent.add('int rocof');
        assert.equal(rocofField.show, '-327.68');
        assert.ok(Number.isNaN(columns.rocof[p]!), `${at}: absent DFREQ`);
      } else assert.equal(columns.rocof[p], rawRocof / 100, `${at}: DFREQ`);
    }

    // Analogs
    const analogs = block.all('synphasor.analog_value');
    assert.equal(analogs.length, pmu.analogs.length);
    pmu.analogs.forEach((an, k) => {
      const i = layout.analogStart[p]! + k;
      const f = analogs[k]!;
      const w = `${at} analog #${k + 1}`;
      assert.equal(cfg3 ? f.show : padTrim(f.show), cfg3 ? asAscii(an.name) : an.name, `${w} name`);
      const m = /", (\S+)(?: \(conversion factor: (0x[0-9a-f]+)\))?$/u.exec(f.showname);
      assert.ok(m, f.showname);
      const shown = Number(m[1]);
      const ours = columns.analog[i]!;
      assert.equal(mine.analogs[k]!.value, Number.isNaN(ours) ? null : ours);
      if (format & 4) {
        const raw = hex(f.value).readFloatBE(0);
        // Float analogs: tshark shows them as sent. We apply CFG-3's ANSCALE to them too (notes 24),
        // so under CFG-3 tshark's number is the raw float and ours is M × raw + B.
        near(shown, raw, `${w}: tshark shows the float as sent`);
        sameNumber(ours, cfg3 ? raw * an.scale + an.offset : raw, `${w}: ours`);
        if (Number.isNaN(raw)) seen.absent.add('float analog');
      } else {
        const raw = hex(f.value).readInt16BE(0);
        if (cfg3) {
          // CFG-3 integer analogs: both M × X + B; an absent 0x8000 is still scaled by tshark.
          near(shown, raw * an.scale + an.offset, `${w}: tshark scales`);
          sameNumber(ours, raw === INT16_ABSENT ? NaN : raw * an.scale + an.offset, `${w}: ours`);
          if (raw !== INT16_ABSENT) near(shown, ours, `${w}: tshark vs ours`);
        } else {
          // CFG-2 integer analogs: tshark prints the raw integer (and the ANUNIT word), we scale by
          // ANUNIT's signed 24-bit factor; an absent 0x8000 is -32768 to tshark, NaN to us.
          assert.equal(shown, raw, `${w}: tshark shows the raw integer`);
          assert.equal(parseInt(m[2]!, 16), an.raw, `${w}: ANUNIT word`);
          sameNumber(ours, raw === INT16_ABSENT ? NaN : raw * an.factor, `${w}: ours = raw × ANUNIT`);
        }
        if (raw === INT16_ABSENT) seen.absent.add('int analog');
      }
    });

    // Digital words
    const digitals = block.get('synphasor.digital_status_word').map((s) => parseInt(s, 16));
    const ourWords = Array.from(columns.digital.subarray(layout.digitalStart[p]!, layout.digitalStart[p + 1]!));
    assert.deepEqual(digitals, ourWords, `${at}: digital words`);
    assert.deepEqual(mine.digitals.map((d) => d.word), ourWords);
  });
}

interface PhasorContext {
  /** Our columns' phasorA/B for this phasor. */
  a: number;
  b: number;
  format: number;
  cfg3: boolean;
  rotates: boolean;
  /** Assertions about a θ = 0 phasor with one absent component, counted by the CFG-3 test. */
  deferred: (() => void)[];
  seen: Seen;
  at: string;
}

function comparePhasor(
  field: { show: string; value?: string },
  t: TsharkPhasor,
  ph: PhasorChannel,
  mine: { magnitude: number | null; angleRad: number | null; re: number | null; im: number | null; unit: string },
  c: PhasorContext,
): void {
  const { at } = c;
  const polar = (c.format & 1) !== 0;
  const float = (c.format & 2) !== 0;
  assert.equal(c.cfg3 ? field.show : padTrim(field.show), c.cfg3 ? asAscii(ph.name) : ph.name, `${at}: name`);
  assert.equal(t.unit, ph.unit, `${at}: unit`);
  assert.equal(mine.unit, ph.unit);
  const bytes = hex(field.value);
  assert.equal(bytes.length, float ? 8 : 4, `${at}: size`);
  const rawA = float ? bytes.readFloatBE(0) : polar ? bytes.readUInt16BE(0) : bytes.readInt16BE(0);
  const rawB = float ? bytes.readFloatBE(4) : bytes.readInt16BE(2);

  // 1. The wire values. tshark's "unscaled" integers are the raw ones; 0x8000 prints NAN.
  if (float) assert.equal(t.unscaled, undefined);
  else {
    assert.ok(t.unscaled, `${at}: tshark printed no unscaled integers`);
    // Polar: an absent angle makes tshark print NAN for the (unsigned, never absent) magnitude too.
    sameNumber(t.unscaled[0], polar ? (rawB === INT16_ABSENT ? NaN : rawA) : absentToNaN(rawA), `${at}: unscaled first`);
    sameNumber(t.unscaled[1], absentToNaN(rawB), `${at}: unscaled second`);
  }

  // 2. Our columns against the wire values (bit-exact under CFG-2; under CFG-3 the same
  //    arithmetic: magnitude × Y, then e^(−jθ)).
  let a = float ? rawA : polar ? rawA : absentToNaN(rawA);
  let b = float ? rawB : polar ? absentToNaN(rawB) / 10_000 : absentToNaN(rawB);
  const y = c.cfg3 ? ph.magnitudeScale : float ? 1 : ph.factor;
  a *= y;
  if (!polar) b *= y;
  const theta = c.cfg3 ? ph.angleOffsetRad : 0;
  // Once a bug of ours: with any phasor of the stream at θ ≠ 0, every phasor was rotated, θ = 0
  // included, and (x, NaN) × (cos 0, −sin 0) = (NaN, NaN) lost the present component. These
  // assertions run in their own subtest, which also checks the data exercised the case.
  const nanSpread = c.rotates && theta === 0 && !polar && Number.isNaN(a) !== Number.isNaN(b);
  const check = (assertion: () => void): void => (nanSpread ? void c.deferred.push(assertion) : assertion());
  if (theta !== 0) {
    if (polar) b -= theta;
    else [a, b] = [a * Math.cos(theta) + b * Math.sin(theta), b * Math.cos(theta) - a * Math.sin(theta)];
    const tol = (x: number) => 1e-12 * Math.max(1, Math.abs(x));
    for (const [ours, want, w] of [[c.a, a, 'first'], [c.b, b, 'second']] as const) {
      if (Number.isNaN(want)) assert.ok(Number.isNaN(ours), `${at}: ours ${w} ${ours}, want NaN`);
      else assert.ok(Math.abs(ours - want) <= tol(want), `${at}: ours ${w} ${ours}, want ${want}`);
    }
  } else {
    const [wantA, wantB] = [a, b];
    check(() => sameNumber(c.a, wantA, `${at}: ours first component`));
    check(() => sameNumber(c.b, wantB, `${at}: ours second component`));
  }

  // 3. tshark's display against ours.
  const num = (x: number | null): number => (x === null ? NaN : x);
  const intAbsent = !float && (rawB === INT16_ABSENT || (!polar && rawA === INT16_ABSENT));
  if (intAbsent) {
    // tshark: an int16 0x8000 in either word makes the whole phasor NAN. Ours: only what depends
    // on the absent word is NaN; a polar magnitude and (unrotated) the other rectangular
    // component stay.
    c.seen.absent.add(polar ? 'int polar angle' : 'int rectangular component');
    for (const x of [t.magnitude, t.angleDeg, t.re, t.im]) assert.ok(Number.isNaN(x), `${at}: tshark ${JSON.stringify(t)}`);
    assert.equal(mine.angleRad, null, `${at}: our angle`);
    if (polar) {
      assert.equal(mine.magnitude, a, `${at}: we keep the magnitude`);
      assert.ok(mine.re === null && mine.im === null);
    } else {
      assert.equal(mine.magnitude, null, `${at}: our magnitude`);
      const [wantA, wantB] = [a, b];
      check(() => sameNumber(num(mine.re), wantA, `${at}: our re`));
      check(() => sameNumber(num(mine.im), wantB, `${at}: our im`));
    }
    return;
  }
  if (c.cfg3 && float) {
    // tshark ignores PHSCALE for float phasors: it shows the float as sent. Ours is Y·X·e^(−jθ)
    // (checked in step 2); tshark's numbers are checked against the raw float here.
    const [re, im, magnitude, angle] = polar
      ? [rawA * Math.cos(rawB), rawA * Math.sin(rawB), rawA, rawB]
      : [rawA, rawB, Math.hypot(rawA, rawB), Math.atan2(rawB, rawA)];
    near(t.magnitude, magnitude, `${at}: tshark magnitude (as sent)`);
    near(t.angleDeg, deg(angle), `${at}: tshark angle (as sent)`);
    near(t.re, re, `${at}: tshark re (as sent)`);
    near(t.im, im, `${at}: tshark im (as sent)`);
    if (ph.magnitudeScale === 1 && ph.angleOffsetRad === 0) {
      // With Y = 1 and θ = 0 the two agree again.
      if (nanSpread) c.seen.absent.add('float phasor beside a rotated one');
      near(t.magnitude, num(mine.magnitude), `${at}: magnitude (neutral PHSCALE)`);
      check(() => near(t.re, num(mine.re), `${at}: re (neutral PHSCALE)`));
      check(() => near(t.im, num(mine.im), `${at}: im (neutral PHSCALE)`));
    }
    if (Number.isNaN(rawA) || Number.isNaN(rawB)) c.seen.absent.add('float phasor');
    return;
  }
  if (float && (Number.isNaN(rawA) || Number.isNaN(rawB))) c.seen.absent.add('float phasor');
  near(t.magnitude, num(mine.magnitude), `${at}: magnitude`);
  near(t.re, num(mine.re), `${at}: re`);
  near(t.im, num(mine.im), `${at}: im`);
  if (c.cfg3 && !polar) nearAngle(t.angleDeg, deg(num(mine.angleRad)), `${at}: angle`);
  else near(t.angleDeg, deg(num(mine.angleRad)), `${at}: angle (degrees)`);
}
