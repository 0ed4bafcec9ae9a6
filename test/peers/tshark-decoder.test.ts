// The peer test of our C37.118 decoder: frames built by our encoder are decoded by Wireshark's
// tshark (an implementation we did not write) and by our Framer + StreamDecoder, and every field
// tshark shows is compared with ours. One tshark run per TCP stream (non-default ports):
//
//   A  CFG-2, 16 PMUs in one stream (stream IDCODE ≠ PMU IDCODEs), FORMAT 0–15 one per PMU,
//      50/60 Hz, PHUNIT V and A, ANUNIT types 0/1/2/65–255 with negative scales, DIGUNIT masks,
//      TIME_BASE 10^6; 16 data frames (every time quality code, every leap bit combination,
//      STAT words covering every bit field, absent values)
//   B  version 1 (2005): header frames, CFG-1, a data frame before any CFG-2, CFG-2 with
//      TIME_BASE 0xFFFFFF and DATA_RATE −5, data frames at SOC 0 and 0xFFFFFFFF, every command
//   C  CFG-3 (one frame, CONT_IDX 0) with PHSCALE Y ≠ 1 and θ ≠ 0, ANSCALE, lat/lon/elev (+Inf
//      included), service class, window, group delay; data frames under it
//   D  the PMU simulator's device model (scenario events: STAT bits, GPS loss, a digital input,
//      a phase jump, a swell) under CFG-2 int polar, CFG-2 float rectangular, CFG-3 int rectangular
//
// What tshark prints, its units and rounding are documented in helpers/tshark.ts. Comparisons are
// bit-exact wherever tshark shows the wire value (`value` bytes, "unscaled" integers, raw mHz);
// its 3-decimal display is compared with 0.0005 absolute + 1e-6 relative, its 6-digit floats with
// 5e-6 relative. Where tshark and we legitimately differ, the test says so beside the assertion
// and asserts both sides exactly:
//   - int16 0x8000 (absent): we give NaN for that value only; tshark prints the raw -32768 for
//     FREQ/DFREQ/analogs, and NAN for the WHOLE phasor (both components, and the magnitude of a
//     polar phasor whose angle is absent, which we keep).
//   - CFG-3 PHSCALE/ANSCALE: we apply them to integer and float values (notes/c37118.md 24);
//     tshark only to integers and shows float phasors and float analogs as sent.
//   - CFG-3 angle offset θ: both subtract it in radians (tshark's field label says degrees); for
//     rectangular data tshark's angle is atan2(raw) − θ, unwrapped, ours is atan2 of the rotated
//     value in (−180°, 180°], so those angles are compared modulo 360°.
//   - CFG-3 GRP_DLY (and WINDOW) are signed int32 µs; tshark shows them unsigned.
//   - FRACSEC bit 6: we call 1 "delete" (C37.118.2-2011 Table 3); tshark's label says "Add".
//   - CFG-2 integer analogs: tshark shows the raw integer, we scale it by the signed ANUNIT.
//   - CFG-3 names are UTF-8; tshark's CFG-3 tree reads them as ASCII (each byte >= 0x80 shows as
//     U+FFFD), though its data frames show the station name as UTF-8.
//   - Frame time: tshark shows the exact FRACSEC/TIME_BASE in ms (6 digits), our JSON time is
//     rounded to the nanosecond.
//   - A 16-byte header frame (no text) is not dissected by tshark at all; we decode it.
// One disagreement was a bug of ours, found by this test and fixed: a rectangular phasor with
// θ = 0 beside a rotated one lost its present component when the other was absent (see the
// CFG-3 test).
//
// The streams are built in helpers/synphasor-streams.ts. The comparison, which states each of
// these differences beside its assertion, is in helpers/synphasor-compare.ts (data frames and
// phasors: helpers/synphasor-compare-data.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareStream, newSeen } from './helpers/synphasor-compare.js';
import { simulatorStream, streamA, streamB, streamC } from './helpers/synphasor-streams.js';

describe('tshark and our decoder agree on every field of frames from our encoder', () => {
  it('agrees on a 16-PMU CFG-2 stream with every FORMAT combination, PHUNIT/ANUNIT/DIGUNIT and STAT field', async () => {
    const { stream, config } = streamA();
    const seen = newSeen();
    await compareStream(stream, seen);
    // The data exercised what the test claims to cover.
    assert.deepEqual([...seen.formats].sort((x, y) => x - y), Array.from({ length: 16 }, (_, f) => f));
    assert.ok(!config.pmus.some((pmu) => pmu.idcode === config.idcode), 'stream IDCODE differs from every PMU IDCODE');
    assert.equal(seen.timeQuality.size, 16, 'every time quality code');
    assert.equal(seen.leapBits.size, 8, 'every combination of the three leap-second bits');
    const counts = Object.fromEntries([...seen.stat].map(([key, values]) => [key, values.size]));
    assert.deepEqual(counts, {
      dataError: 4,
      pmuSync: 2,
      sortedByArrival: 2,
      trigger: 2,
      triggerReason: 16,
      configChange: 2,
      dataModified: 2,
      pmuTimeQuality: 8,
      unlockedTime: 4,
    });
    assert.deepEqual([...seen.absent].sort(), ['float analog', 'float phasor', 'int analog', 'int freq', 'int polar angle', 'int rectangular component', 'int rocof']);
  });

  it('agrees on a version-1 stream with TIME_BASE 0xFFFFFF, DATA_RATE −5, header, CFG-1 and every command frame', async () => {
    const seen = newSeen();
    await compareStream(streamB(), seen);
    assert.deepEqual([...seen.frameTypes].sort(), [0, 1, 2, 3, 4]);
  });

  it('agrees on frames of the PMU simulator under CFG-2 (int polar, float rectangular) and CFG-3 (int rectangular)', async () => {
    for (const [kind, format, port] of [['cfg2', 1, 47_123], ['cfg2', 14, 47_124], ['cfg3', 0, 47_125]] as const) {
      const seen = newSeen();
      await compareStream(simulatorStream(kind, format, port), seen);
      assert.deepEqual([...seen.formats], [format]);
    }
  });

  it('agrees on a CFG-3 stream with PHSCALE, ANSCALE and geodetic fields, stating where the two differ', async (t) => {
    const seen = newSeen();
    const deferred: (() => void)[] = [];
    await compareStream(streamC(), seen, deferred);
    assert.deepEqual([...seen.formats].sort((x, y) => x - y), [0, 1, 7, 10, 13]);
    for (const kind of ['int rectangular component', 'int polar angle', 'int analog', 'float phasor', 'float phasor beside a rotated one']) {
      assert.ok(seen.absent.has(kind), `the data has an absent ${kind}`);
    }
    await t.test('keeps the present component of a θ = 0 phasor beside an absent one, as tshark does', () => {
      assert.ok(deferred.length > 0);
      for (const assertion of deferred) assertion();
    });
  });
});
