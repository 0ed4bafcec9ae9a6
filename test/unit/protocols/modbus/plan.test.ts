import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModbusTagConfig } from '../../../../src/protocols/modbus/config.js';
import { addressKey, planReads, splitRejected, summarisePlan, type ReadLimits, type ReadPlan } from '../../../../src/protocols/modbus/plan.js';
import { resolveDevice, type ResolvedTag } from '../../../../src/protocols/modbus/resolve.js';
import { mulberry32 } from '../../../helpers/wait.js';
import { device } from './tags.js';

const LIMITS: ReadLimits = { maxGap: 8, maxRegistersPerRead: 125, maxBitsPerRead: 2000 };

type Spec = Partial<ModbusTagConfig> & { address: number };

/** Resolved tags named t0, t1 … (holding registers, uint16, unless a spec says otherwise). */
function tags(specs: Spec[], pollGroups: Record<string, number> = { default: 1000, fast: 100 }): ResolvedTag[] {
  const config = device({ pollGroups, tags: specs.map((s, i) => ({ name: `t${i}`, area: 'holding-register', ...s })) });
  const { tags, problems } = resolveDevice(config);
  assert.deepEqual(problems, []);
  return tags;
}

const run = (from: number, n: number, spec: Partial<ModbusTagConfig> = {}, width = 1): Spec[] =>
  Array.from({ length: n }, (_, i) => ({ address: from + i * width, ...spec }));

/** Reads as 'FC address+count [tag@offset …]'. */
const shape = (plans: readonly ReadPlan[]) => plans.map((p) => `${p.functionCode} ${p.address}+${p.count} [${p.tags.map((t) => `${t.tag.name}@${t.offset}`).join(' ')}]`);

describe('planReads', () => {
  it('coalesces neighbours across a hole of at most maxGap registers and splits at a wider one', () => {
    assert.deepEqual(shape(planReads(tags([{ address: 0 }, { address: 9 }]), LIMITS)), ['3 0+10 [t0@0 t1@9]']);
    assert.deepEqual(shape(planReads(tags([{ address: 0 }, { address: 10 }]), LIMITS)), ['3 0+1 [t0@0]', '3 10+1 [t1@0]']);
    assert.deepEqual(shape(planReads(tags([{ address: 0 }, { address: 1 }, { address: 3 }]), { ...LIMITS, maxGap: 0 })), [
      '3 0+2 [t0@0 t1@1]',
      '3 3+1 [t2@0]',
    ]);
  });

  it('sorts tags by address whatever their order in the config', () => {
    assert.deepEqual(shape(planReads(tags([{ address: 5, type: 'float32' }, { address: 0 }, { address: 2 }]), LIMITS)), ['3 0+7 [t1@0 t2@2 t0@5]']);
  });

  it('fills a read to exactly maxRegistersPerRead and starts another at the next register', () => {
    assert.deepEqual(shape(planReads(tags(run(0, 125)), LIMITS)).map((s) => s.split(' [')[0]), ['3 0+125']);
    assert.deepEqual(shape(planReads(tags(run(0, 126)), LIMITS)).map((s) => s.split(' [')[0]), ['3 0+125', '3 125+1']);
    assert.deepEqual(shape(planReads(tags(run(0, 25)), { ...LIMITS, maxRegistersPerRead: 10 })).map((s) => s.split(' [')[0]), ['3 0+10', '3 10+10', '3 20+5']);
  });

  it('never splits a multi-register tag: 63 float32s are a read of 124 and one of 2', () => {
    const plans = planReads(tags(run(0, 63, { type: 'float32' }, 2)), LIMITS);
    assert.deepEqual(plans.map((p) => [p.address, p.count, p.tags.length]), [[0, 124, 62], [124, 2, 1]]);
  });

  it('reads up to 2000 coils at once and spans maxGap × 16 unmapped bits', () => {
    const coils = (specs: Spec[]) => tags(specs.map((s) => ({ area: 'coil', type: 'bool', ...s })));
    assert.deepEqual(planReads(coils(run(0, 2000)), LIMITS).map((p) => [p.functionCode, p.address, p.count]), [[1, 0, 2000]]);
    assert.deepEqual(planReads(coils(run(0, 2001)), LIMITS).map((p) => [p.address, p.count]), [[0, 2000], [2000, 1]]);
    assert.deepEqual(planReads(coils([{ address: 0 }, { address: 1 + 8 * 16 }]), LIMITS).map((p) => [p.address, p.count]), [[0, 130]]);
    assert.deepEqual(planReads(coils([{ address: 0 }, { address: 2 + 8 * 16 }]), LIMITS).map((p) => [p.address, p.count]), [[0, 1], [130, 1]]);
    assert.deepEqual(planReads(coils(run(0, 50)), { ...LIMITS, maxBitsPerRead: 20 }).map((p) => p.count), [20, 20, 10]);
  });

  it('covers overlapping tags (a float, its two halves and bits of one register) with one read', () => {
    const plans = planReads(
      tags([
        { address: 100, type: 'float32' },
        { address: 100 },
        { address: 101, type: 'int16' },
        { address: 101, type: 'bit', bit: 0 },
        { address: 101, type: 'bit', bit: 15 },
        { address: 104, type: 'uint32' },
      ]),
      LIMITS,
    );
    assert.deepEqual(shape(plans), ['3 100+6 [t0@0 t1@0 t2@1 t3@1 t4@1 t5@4]']);
  });

  it('never merges different poll groups or areas, and orders reads by group, area and address', () => {
    const plans = planReads(
      tags([
        { address: 0, group: 'fast' },
        { address: 1 },
        { address: 0, area: 'input-register' },
        { address: 1, area: 'input-register', group: 'fast' },
        { address: 0, area: 'coil', type: 'bool' },
        { address: 0, area: 'discrete-input', type: 'bool', group: 'fast' },
      ]),
      LIMITS,
    );
    assert.deepEqual(
      plans.map((p) => `${p.group} ${p.intervalMs} ${p.area} fc${p.functionCode} ${p.address}`),
      [
        'default 1000 coil fc1 0',
        'default 1000 holding-register fc3 1',
        'default 1000 input-register fc4 0',
        'fast 100 discrete-input fc2 0',
        'fast 100 holding-register fc3 0',
        'fast 100 input-register fc4 1',
      ],
    );
  });

  it('reads 2,000 consecutive float32s in 33 requests with coalescing and 2,000 without', () => {
    const map = tags(run(0, 2000, { type: 'float32' }, 2));
    const plans = planReads(map, LIMITS);
    assert.equal(plans.length, Math.ceil(2000 / 62));
    assert.ok(plans.every((p) => p.count <= 125 && p.count % 2 === 0));
    assert.deepEqual(
      plans.flatMap((p) => p.tags.map((t) => t.tag.index)),
      map.map((t) => t.index),
      'every tag in exactly one read',
    );
    assert.equal(planReads(map, { ...LIMITS, maxRegistersPerRead: 2 }).length, 2000);
    const summary = summarisePlan(plans);
    assert.deepEqual(summary.groups, [{ group: 'default', intervalMs: 1000, requests: 33, registers: 4000, bits: 0, tags: 2000 }]);
    assert.equal(summary.requests, 33);
    assert.equal(summary.requestsPerSecond, 33);
  });

  it('refuses to plan a tag longer than one read rather than produce an illegal read', () => {
    assert.throws(() => planReads(tags([{ address: 0, type: 'string', length: 100 }]), { ...LIMITS, maxRegistersPerRead: 50 }), RangeError);
    assert.deepEqual(planReads([], LIMITS), []);
  });
});

describe('summarisePlan', () => {
  it('counts requests, registers, bits and tags per group and requests per second at their intervals', () => {
    const plans = planReads(
      tags([
        { address: 0, group: 'fast' },
        { address: 100, group: 'fast' },
        { address: 0, area: 'coil', type: 'bool', group: 'fast' },
        { address: 0, type: 'float64' },
      ]),
      LIMITS,
    );
    assert.deepEqual(summarisePlan(plans), {
      groups: [
        { group: 'fast', intervalMs: 100, requests: 3, registers: 2, bits: 1, tags: 3 },
        { group: 'default', intervalMs: 1000, requests: 1, registers: 4, bits: 0, tags: 1 },
      ],
      requests: 4,
      requestsPerSecond: 31,
    });
  });
});

/**
 * A device that implements only `implemented` holding registers: a read touching any other address
 * is answered with exception 2. Runs one poll cycle the way the source does, splitting refused
 * reads at once; returns what it asked and which tags were read or refused.
 */
function pollCycle(plans: readonly ReadPlan[], implemented: (address: number) => boolean, rejected: Set<number>) {
  const asked: string[] = [];
  const read = new Set<string>();
  const refused = new Set<string>();
  const queue = [...plans];
  for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) {
    asked.push(`${plan.address}+${plan.count}`);
    let ok = true;
    for (let a = plan.address; a < plan.address + plan.count; a++) ok &&= implemented(a);
    if (ok) for (const { tag } of plan.tags) read.add(tag.name);
    else {
      const pieces = splitRejected(plan, rejected);
      if (pieces.length === 0) for (const { tag } of plan.tags) refused.add(tag.name);
      queue.unshift(...pieces);
    }
  }
  return { asked, read: [...read].sort(), refused: [...refused].sort() };
}

const keys = (...addresses: number[]) => new Set(addresses.map((a) => addressKey('holding-register', a)));

describe('splitRejected', () => {
  it('splits a refused read at its holes, remembers them, and the next plan keeps the runs apart', () => {
    const map = tags([{ address: 100, type: 'float32' }, { address: 102 }, { address: 106, type: 'float32' }]);
    const implemented = (a: number) => (a >= 100 && a <= 102) || (a >= 106 && a <= 107);
    const rejected = new Set<number>();
    const first = pollCycle(planReads(map, LIMITS, rejected), implemented, rejected);
    assert.deepEqual(first, { asked: ['100+8', '100+3', '106+2'], read: ['t0', 't1', 't2'], refused: [] });
    assert.deepEqual(rejected, keys(103, 104, 105));
    const next = pollCycle(planReads(map, LIMITS, rejected), implemented, rejected);
    assert.deepEqual(next, { asked: ['100+3', '106+2'], read: ['t0', 't1', 't2'], refused: [] });
  });

  it('halves a refused hole-free run until the refused tag is alone, and keeps it alone', () => {
    const map = tags([{ address: 0 }, { address: 1 }, { address: 2, type: 'float32' }, { address: 4 }]);
    const implemented = (a: number) => a !== 1;
    const rejected = new Set<number>();
    const first = pollCycle(planReads(map, LIMITS, rejected), implemented, rejected);
    assert.deepEqual(first, { asked: ['0+5', '0+2', '0+1', '1+1', '2+3'], read: ['t0', 't2', 't3'], refused: ['t1'] });
    const next = pollCycle(planReads(map, LIMITS, rejected), implemented, rejected);
    assert.deepEqual(next.asked, ['0+1', '1+1', '2+3'], 'the refused tag alone; its right neighbours merge again');
    assert.deepEqual(next.refused, ['t1']);
  });

  it('returns nothing for a read of one tag span, and marks its start and end', () => {
    const plan = planReads(tags([{ address: 10, type: 'float32' }, { address: 10, type: 'uint16' }, { address: 10, type: 'int16' }]), LIMITS);
    const rejected = new Set<number>();
    assert.equal(plan.length, 1);
    assert.deepEqual(splitRejected(plan[0]!, rejected).map((p) => `${p.address}+${p.count}`), ['10+2', '10+1']);
    const alone = planReads(tags([{ address: 10, type: 'float32' }]), LIMITS)[0]!;
    assert.deepEqual(splitRejected(alone, rejected), []);
    assert.ok(rejected.has(addressKey('holding-register', 10)) && rejected.has(addressKey('holding-register', 12)));
    const last = planReads(tags([{ address: 65_535 }]), LIMITS)[0]!;
    assert.deepEqual(splitRejected(last, rejected), []);
  });

  it('keeps rejected addresses per area', () => {
    const rejected = new Set([addressKey('input-register', 5)]);
    const map = tags([{ address: 0 }, { address: 8 }, { address: 0, area: 'input-register' }, { address: 8, area: 'input-register' }]);
    assert.deepEqual(planReads(map, LIMITS, rejected).map((p) => `${p.area} ${p.address}+${p.count}`), [
      'holding-register 0+9',
      'input-register 0+1',
      'input-register 8+1',
    ]);
    assert.notEqual(addressKey('coil', 0), addressKey('discrete-input', 0));
  });

  it('reads every good tag and refuses every bad one in every cycle, and settles within a few cycles on any map and device', () => {
    const random = mulberry32(502);
    const types = ['uint16', 'float32', 'float64', 'uint32', 'bit'] as const;
    let slowest = 0;
    for (let trial = 0; trial < 300; trial++) {
      const specs: Spec[] = [];
      for (let a = int(random, 0, 5); a < 300 && specs.length < 60; a += int(random, 0, 12)) {
        const type = types[int(random, 0, types.length - 1)]!;
        specs.push({ address: a, type, ...(type === 'bit' ? { bit: 1 } : {}) });
      }
      const map = tags(specs);
      const holes = new Set<number>();
      for (let i = 0; i < 6; i++) holes.add(int(random, 0, 310));
      const implemented = (a: number) => !holes.has(a);
      const good = map.filter((t) => Array.from({ length: t.count }, (_, k) => t.address + k).every(implemented)).map((t) => t.name).sort();
      const bad = map.map((t) => t.name).filter((n) => !good.includes(n)).sort();
      const limits = { ...LIMITS, maxGap: int(random, 0, 20), maxRegistersPerRead: int(random, 4, 125) };
      const rejected = new Set<number>();
      let cycles = 0;
      for (let settled = false; !settled; ) {
        cycles++;
        assert.ok(cycles <= 10, `trial ${trial}: still splitting after 10 cycles`);
        const plans = planReads(map, limits, rejected);
        const cycle = pollCycle(plans, implemented, rejected);
        assert.deepEqual([cycle.read, cycle.refused], [good, bad], `trial ${trial}, cycle ${cycles}`);
        settled = cycle.asked.length === plans.length;
        if (!settled) continue;
        for (const plan of plans) {
          const touchesHole = Array.from({ length: plan.count }, (_, k) => plan.address + k).some((a) => holes.has(a));
          if (touchesHole) assert.ok(plan.tags.every((t) => bad.includes(t.tag.name)), `trial ${trial}: a refused read holds refused tags only`);
        }
      }
      slowest = Math.max(slowest, cycles);
    }
    assert.ok(slowest <= 4, `settled in ${slowest} cycles at worst (the last one without a refused split)`);
  });
});

function int(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
