// Frame time (SOC, FRACSEC, TIME_BASE, the time quality byte) and the STAT word
// (notes/c37118.md 8–11, 18).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameType } from '../../../../src/protocols/c37118/constants.js';
import { decodeAll } from '../../../../src/protocols/c37118/decode-stream.js';
import { encodeCfg12, encodeCfg3, encodeFrame } from '../../../../src/protocols/c37118/encoder.js';
import { timeJson, type FrameTimeJson, type PmuDataJson } from '../../../../src/protocols/c37118/json.js';
import { statJson, statQuality } from '../../../../src/protocols/c37118/stat.js';
import { eventTimeNs, eventTimeSeconds, eventTimeUs, isoTime, timeQuality } from '../../../../src/protocols/c37118/time.js';
import { Quality, qualityJson, qualityLevel } from '../../../../src/protocols/shared/quality.js';
import { configFrame, i16, pmuConfig, pmuConfig3, u16 } from '../../../helpers/c37118.js';

/** decodeAll of a CFG-2 (TIME_BASE `timeBase`, one PMU with no channels) then data frames. */
function decodeStream(timeBase: number, data: { soc: number; fracsec: number; stat?: number }[]) {
  const config = configFrame({ idcode: 9, timeBase, pmus: [pmuConfig({ idcode: 9, format: 0 })] });
  const frames = data.map(({ soc, fracsec, stat = 0 }) =>
    encodeFrame(FrameType.DATA, { idcode: 9, soc, fracsec }, Buffer.concat([u16(stat), i16(0), i16(0)])),
  );
  const lines = decodeAll(Buffer.concat([encodeCfg12(config), ...frames])).slice(1);
  for (const line of lines) assert.equal(line.type, 'data', JSON.stringify(line));
  return lines.map((l) => ({ time: l['time'] as FrameTimeJson, pmu: (l['pmus'] as PmuDataJson[])[0]! }));
}

describe('C37.118 time and status', () => {
  describe('frame time', () => {
    it('computes exact nanoseconds with TIME_BASE 0xFFFFFF, against a hand computation', () => {
      // 16777214 / 16777215 s = 1 s − 59.604648… ns = 999 999 940.395… ns
      // 8388608 / 16777215 s = 500 000 029.802… ns;  1 / 16777215 s = 59.604… ns
      const base = 0xffffff;
      assert.equal(eventTimeNs(1_217_606_730, 0x00ff_fffe, base), 1_217_606_730_999_999_940n);
      assert.equal(eventTimeNs(1_217_606_730, 8_388_608, base), 1_217_606_730_500_000_030n);
      assert.equal(eventTimeNs(0, 1, base), 60n);
      // The last SOC there is: beyond 2^53 ns, still exact.
      assert.equal(eventTimeNs(0xffff_ffff, 0x00ff_fffe, base), 4_294_967_295_999_999_940n);
      const [line] = decodeStream(base, [{ soc: 1_217_606_730, fracsec: 8_388_608 }]);
      assert.equal(line!.time.epochNs, '1217606730500000030');
      assert.equal(line!.time.iso, '2008-08-01T16:05:30.500000030Z');
      assert.equal(line!.time.timeBase, base);
    });

    it('rounds the fraction to the nearest microsecond in eventTimeUs', () => {
      assert.equal(eventTimeUs(1_217_606_730, 2_013_266, 0xffffff), 1_217_606_730_120_000);
      assert.equal(eventTimeUs(1_149_580_800, 16_817, 1_000_000), 1_149_580_800_016_817);
      assert.equal(eventTimeUs(100, 1, 3), 100_333_333);
    });

    it('takes SOC = 0 and FRACSEC = 0 as a real time, 1970-01-01T00:00:00Z', () => {
      const [line] = decodeStream(1_000_000, [{ soc: 0, fracsec: 0 }]);
      assert.equal(line!.time.epoch, 0);
      assert.equal(line!.time.epochNs, '0');
      assert.equal(line!.time.iso, '1970-01-01T00:00:00.000000000Z');
      assert.equal(eventTimeUs(0, 0, 1_000_000), 0);
      assert.deepEqual(line!.pmu.quality, { level: 'good', reasons: [] });
    });

    it('leaves the time quality byte out of the fraction', () => {
      const [line] = decodeStream(1_000_000, [{ soc: 1000, fracsec: (0x7f << 24) | 250_000 }]);
      assert.equal(line!.time.fracsec, 250_000);
      assert.equal(line!.time.epoch, 1000.25);
      assert.equal(eventTimeNs(1000, 0xff00_0000 | 250_000, 1_000_000), 1_000_250_000_000n);
      assert.equal(eventTimeSeconds(1000, 0xff00_0000 | 250_000, 1_000_000), 1000.25);
    });

    it('does not divide by a TIME_BASE of zero', () => {
      assert.equal(eventTimeUs(10, 5, 0), 10_000_005);
      assert.equal(eventTimeNs(10, 5, 0xff00_0000), 10_000_005_000n);
    });

    it("prints a CFG-1's time in its own TIME_BASE, not the active configuration's", () => {
      // Regression: decode-stream.ts used the active layout's TIME_BASE (or 10^6) for every frame,
      // so a CFG-1 with TIME_BASE 0xFFFFFF and FRACSEC 2^23 printed 8.39 s past its SOC.
      const cfg1 = configFrame({ kind: 'cfg1', idcode: 3, soc: 1000, fracsec: 8_388_608, timeBase: 0xffffff });
      const [line] = decodeAll(encodeCfg12(cfg1));
      assert.equal(line!.type, 'cfg1');
      assert.equal((line!['time'] as FrameTimeJson).epochNs, '1000500000030');
      assert.equal((line!['time'] as FrameTimeJson).timeBase, 0xffffff);
    });

    it(
      'prints the time of CFG-3 fragments in the TIME_BASE the first fragment carries',
      () => {
        const cfg3 = configFrame({
          kind: 'cfg3',
          idcode: 3,
          soc: 1000,
          fracsec: 8_388_608,
          timeBase: 0xffffff,
          pmus: [pmuConfig3({ station: 'x'.repeat(100) })],
        });
        const lines = decodeAll(Buffer.concat(encodeCfg3(cfg3, 60)));
        assert.ok(lines.length > 1);
        for (const line of lines) assert.equal((line['time'] as FrameTimeJson).epochNs, '1000500000030', line.type);
      },
    );

    it('prints nanoseconds in ISO-8601', () => {
      assert.equal(isoTime(1_149_580_800_016_817_000n), '2006-06-06T08:00:00.016817000Z');
      assert.equal(isoTime(1n), '1970-01-01T00:00:00.000000001Z');
    });
  });

  describe('the time quality byte (FRACSEC bits 31–24)', () => {
    it('exposes leap direction, leap occurred, leap pending and the quality code separately', () => {
      assert.deepEqual(timeQuality(0x7f), {
        code: 0xf,
        maxErrorS: null,
        clockFailure: true,
        leapSecondPending: true,
        leapSecondOccurred: true,
        leapSecondDirection: 'delete',
      });
      assert.deepEqual(timeQuality(0x00), {
        code: 0,
        maxErrorS: 0,
        clockFailure: false,
        leapSecondPending: false,
        leapSecondOccurred: false,
        leapSecondDirection: 'add',
      });
      assert.equal(timeQuality(0x40).leapSecondDirection, 'delete');
      assert.equal(timeQuality(0x20).leapSecondOccurred, true);
      assert.equal(timeQuality(0x20).leapSecondPending, false);
      assert.equal(timeQuality(0x10).leapSecondPending, true);
      assert.equal(timeQuality(0x10).leapSecondOccurred, false);
    });

    it('maps the Table 4 codes to worst-case clock errors, 0xF to a clock failure and 12–14 to unknown', () => {
      const errors = Array.from({ length: 16 }, (_, code) => timeQuality(code).maxErrorS);
      assert.deepEqual(errors, [0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, null, null, null, null]);
      assert.deepEqual(
        Array.from({ length: 16 }, (_, code) => timeQuality(code).clockFailure),
        [...Array<boolean>(15).fill(false), true],
      );
    });

    it('turns a clock failure into quality CLOCK_FAILURE (bad) and a pending leap second into LEAP_SECOND_PENDING', () => {
      const [failed, pending, fine] = decodeStream(1_000_000, [
        { soc: 1, fracsec: 0x0f00_0000 },
        { soc: 1, fracsec: 0x1000_0000 },
        { soc: 1, fracsec: 0x0b00_0000 },
      ]);
      assert.deepEqual(failed!.pmu.quality, { level: 'bad', reasons: ['clock_failure'] });
      assert.equal(failed!.time.quality.clockFailure, true);
      assert.deepEqual(pending!.pmu.quality, { level: 'good', reasons: ['leap_second_pending'] });
      assert.deepEqual(fine!.pmu.quality, { level: 'good', reasons: [] });
      assert.equal(fine!.time.quality.maxErrorS, 10);
      assert.equal(statQuality(0, 0x0f) & Quality.CLOCK_FAILURE, Quality.CLOCK_FAILURE);
    });

    it('reports the time quality of config frames too', () => {
      const json = timeJson(1_149_577_200, 0x5607_1098, 1_000_000);
      assert.equal(json.quality.code, 6);
      assert.equal(json.quality.maxErrorS, 1e-4);
      assert.equal(json.quality.leapSecondDirection, 'delete');
      assert.equal(json.quality.leapSecondPending, true);
      assert.equal(json.fracsec, 0x071098);
    });
  });

  describe('STAT', () => {
    it('decodes every bit field of STAT', () => {
      assert.deepEqual(statJson(0x0000), {
        raw: 0,
        dataError: 'good',
        pmuSync: true,
        sortedByArrival: false,
        trigger: false,
        triggerReason: 'manual',
        configChange: false,
        dataModified: false,
        pmuTimeQuality: 'not-used',
        unlockedTime: 'locked-or-lt-10s',
      });
      assert.deepEqual(
        [0x0000, 0x4000, 0x8000, 0xc000].map((s) => statJson(s).dataError),
        ['good', 'pmu-error', 'test-mode', 'pmu-error-invalid'],
      );
      assert.equal(statJson(0x2000).pmuSync, false);
      assert.equal(statJson(0x1000).sortedByArrival, true);
      assert.equal(statJson(0x0800).trigger, true);
      assert.equal(statJson(0x0400).configChange, true);
      assert.equal(statJson(0x0200).dataModified, true);
      assert.deepEqual(
        Array.from({ length: 8 }, (_, q) => statJson(q << 6).pmuTimeQuality),
        ['not-used', 'lt-100ns', 'lt-1us', 'lt-10us', 'lt-100us', 'lt-1ms', 'lt-10ms', 'gt-10ms-or-unknown'],
      );
      assert.deepEqual(
        Array.from({ length: 4 }, (_, u) => statJson(u << 4).unlockedTime),
        ['locked-or-lt-10s', 'lt-100s', 'lt-1000s', 'gt-1000s'],
      );
      assert.deepEqual(
        Array.from({ length: 16 }, (_, r) => statJson(r).triggerReason).slice(0, 8),
        ['manual', 'magnitude-low', 'magnitude-high', 'phase-angle-diff', 'frequency-high-or-low', 'df-dt-high', 'reserved', 'digital'],
      );
      assert.equal(statJson(0x000f).triggerReason, 'user-15');
      // Each field reads only its own bits.
      const all = statJson(0xffff);
      assert.deepEqual(
        [all.dataError, all.pmuSync, all.sortedByArrival, all.trigger, all.configChange, all.dataModified, all.pmuTimeQuality, all.unlockedTime, all.triggerReason],
        ['pmu-error-invalid', false, true, true, true, true, 'gt-10ms-or-unknown', 'gt-1000s', 'user-15'],
      );
    });

    it('maps each STAT condition to its quality flag and level', () => {
      const cases: [number, number, string | undefined][] = [
        [0x4000, Quality.DEVICE_ERROR, 'uncertain'],
        [0x8000, Quality.TEST_MODE, undefined], // its level: see the todo below
        [0xc000, Quality.DATA_INVALID, 'bad'],
        [0x2000, Quality.SYNC_LOST, 'uncertain'],
        [0x1000, Quality.SORTED_BY_ARRIVAL, 'good'],
        [0x0800, Quality.TRIGGER, 'good'],
        [0x0400, Quality.CONFIG_CHANGED, 'uncertain'],
        [0x0200, Quality.DATA_MODIFIED, 'uncertain'],
        [0x0010, Quality.TIME_UNLOCKED, 'uncertain'],
        [0x0030, Quality.TIME_UNLOCKED, 'uncertain'],
        [0x01c0, 0, 'good'],
        [0x0007, 0, 'good'],
      ];
      for (const [stat, flag, level] of cases) {
        assert.equal(statQuality(stat, 0), flag, `STAT 0x${stat.toString(16)}`);
        if (level) assert.equal(qualityLevel(statQuality(stat, 0)), level, `STAT 0x${stat.toString(16)}`);
      }
    });

    it("rates test-mode data (STAT 15–14 = 10) bad: Table 7 says 'do not use values'", () => {
      assert.equal(qualityLevel(statQuality(0x8000, 0)), 'bad');
    });

    it('treats STAT 0xFFFF as a block with no data (absent), not as every flag at once', () => {
      assert.equal(statQuality(0xffff, 0), Quality.ABSENT | Quality.DATA_INVALID);
      assert.deepEqual(qualityJson(statQuality(0xffff, 0)), { level: 'bad', reasons: ['data_invalid', 'absent'] });
      const [line] = decodeStream(1_000_000, [{ soc: 1, fracsec: 0, stat: 0xffff }]);
      assert.deepEqual(line!.pmu.quality, { level: 'bad', reasons: ['data_invalid', 'absent'] });
      assert.equal(line!.pmu.stat.raw, 0xffff);
    });

    it('puts STAT sync, PMU time quality and unlocked time beside the frame time quality, separately', () => {
      const [line] = decodeStream(1_000_000, [{ soc: 1, fracsec: 0x0400_0000, stat: 0x2000 | (5 << 6) | (2 << 4) }]);
      assert.equal(line!.pmu.stat.pmuSync, false);
      assert.equal(line!.pmu.stat.pmuTimeQuality, 'lt-1ms');
      assert.equal(line!.pmu.stat.unlockedTime, 'lt-1000s');
      assert.equal(line!.time.quality.code, 4);
      assert.deepEqual(line!.pmu.quality, { level: 'uncertain', reasons: ['sync_lost', 'time_unlocked'] });
    });
  });
});
