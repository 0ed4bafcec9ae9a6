import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modicon, resolveDevice, scaleDivisor } from '../../../../src/protocols/modbus/resolve.js';
import { device } from './tags.js';

const one = (tag: Parameters<typeof device>[0]['tags'][number], rest: Partial<Parameters<typeof device>[0]> = {}) =>
  resolveDevice(device({ ...rest, tags: [tag] }));

/** The problem paths of a one-tag device, as 'key: message' strings. */
const problemsOf = (result: ReturnType<typeof resolveDevice>) => result.problems.map((p) => `${p.path.join('.')}: ${p.message}`);

describe('scale', () => {
  it('divides by 10, 100, 1000 … for decimal scales, so −950 × 0.001 reads −0.95 exactly', () => {
    assert.deepEqual([0.1, 0.01, 0.001, 0.5, 2, 1, 0.3].map(scaleDivisor), [10, 100, 1000, 2, 0, 0, 0]);
  });
});

describe('resolveDevice', () => {
  it('resolves a zero-based tag to its protocol address, register count, order and poll interval', () => {
    const { tags, problems } = resolveDevice(
      device({
        order: 'CDAB',
        pollGroups: { fast: 200, default: 1000 },
        tags: [
          { name: 'p', area: 'holding-register', address: 100, type: 'float32', group: 'fast', scale: 2, offset: 1, unit: 'kW', deadband: 0.5 },
          { name: 'e', area: 'input-register', address: 7, type: 'uint64', order: 'ABCD' },
        ],
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(tags[0], {
      index: 0,
      name: 'p',
      area: 'holding-register',
      address: 100,
      count: 2,
      type: 'float32',
      bit: -1,
      length: 0,
      order: 'CDAB',
      wordSwap: true,
      byteSwap: false,
      scale: 2,
      scaleDivisor: 0,
      offset: 1,
      unit: 'kW',
      deadband: 0.5,
      group: 'fast',
      intervalMs: 200,
    });
    assert.equal(tags[1]!.order, 'ABCD', "the tag's own order wins over the device's");
    assert.equal(tags[1]!.count, 4);
    assert.equal(tags[1]!.intervalMs, 1000);
  });

  it('counts 1 bit for bool, 1 register for bit and 16-bit types, 2 for 32-bit, 4 for 64-bit and length for strings', () => {
    const counts = {
      bool: 1, bit: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4, string: 7,
    } as const;
    for (const [type, count] of Object.entries(counts)) {
      const area = type === 'bool' ? 'coil' : 'holding-register';
      const extra = type === 'bit' ? { bit: 3 } : type === 'string' ? { length: 7 } : {};
      const { tags, problems } = one({ name: 't', area, address: 0, type: type as keyof typeof counts, ...extra });
      assert.deepEqual(problems, [], type);
      assert.equal(tags[0]!.count, count, type);
    }
  });

  it('subtracts one from one-based addresses and reports address 0', () => {
    assert.equal(one({ name: 't', area: 'input-register', address: 1 }, { addressing: 'one-based' }).tags[0]!.address, 0);
    assert.equal(one({ name: 't', area: 'input-register', address: 65_536 }, { addressing: 'one-based' }).tags[0]!.address, 65_535);
    assert.deepEqual(problemsOf(one({ name: 't', area: 'input-register', address: 0 }, { addressing: 'one-based' })), [
      'tags.0.address: one-based addresses start at 1 (1 is protocol address 0)',
    ]);
    assert.equal(one({ name: 't', area: 'input-register', address: 65_537 }, { addressing: 'one-based' }).problems.length, 1);
  });

  it('reports a zero-based address past 65535', () => {
    assert.equal(one({ name: 't', area: 'coil', type: 'bool', address: 65_535 }).tags[0]!.address, 65_535);
    assert.deepEqual(one({ name: 't', area: 'coil', type: 'bool', address: 65_536 }).problems[0]!.path, ['tags', 0, 'address']);
  });

  it('reads the area and one-based number from 5- and 6-digit modicon references', () => {
    const cases: [number, string, number][] = [
      [1, 'coil', 0],
      [9999, 'coil', 9998],
      [10001, 'discrete-input', 0],
      [30010, 'input-register', 9],
      [40001, 'holding-register', 0],
      [49999, 'holding-register', 9998],
      [100001, 'discrete-input', 0],
      [300001, 'input-register', 0],
      [400001, 'holding-register', 0],
      [465536, 'holding-register', 65_535],
    ];
    for (const [ref, area, address] of cases) assert.deepEqual(modicon(ref), { area, address }, String(ref));
    const { tags } = one({ name: 't', address: 40_101, type: 'float32' }, { addressing: 'modicon' });
    assert.equal(tags[0]!.area, 'holding-register');
    assert.equal(tags[0]!.address, 100);
  });

  it('reports modicon references with no area digit or a register number of 0 or past the range', () => {
    for (const ref of [0, 20001, 200001, 40000, 400000, 50001, 365537]) {
      const { tags, problems } = one({ name: 't', address: ref }, { addressing: 'modicon' });
      assert.equal(tags.length, 0, String(ref));
      assert.deepEqual(problems.map((p) => p.path), [['tags', 0, 'address']], String(ref));
    }
    assert.match(String(modicon(20001)), /starts with 2, which is no area/);
    assert.match(String(modicon(40000)), /must be 1–9999/);
  });

  it('accepts a modicon tag whose explicit area agrees and reports one that contradicts it', () => {
    assert.deepEqual(one({ name: 't', area: 'input-register', address: 30001 }, { addressing: 'modicon' }).problems, []);
    assert.deepEqual(problemsOf(one({ name: 't', area: 'holding-register', address: 30001 }, { addressing: 'modicon' })), [
      'tags.0.area: area holding-register contradicts modicon reference 30001 (input-register)',
    ]);
  });

  it('reports a tag without an area when addressing is not modicon', () => {
    assert.deepEqual(one({ name: 't', address: 3 }).problems.map((p) => p.path), [['tags', 0, 'area']]);
  });

  it('reports bool on a register area and register types on a bit area', () => {
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 0, type: 'bool' }).problems.map((p) => p.path), [['tags', 0, 'type']]);
    assert.deepEqual(one({ name: 't', area: 'discrete-input', address: 0, type: 'int16' }).problems.map((p) => p.path), [['tags', 0, 'type']]);
    assert.deepEqual(one({ name: 't', area: 'coil', address: 0, type: 'bit', bit: 1 }).problems.map((p) => p.path), [['tags', 0, 'type']]);
  });

  it('reports a bit tag without `bit`, and `bit` on another type', () => {
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 0, type: 'bit' }).problems.map((p) => p.path), [['tags', 0, 'bit']]);
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 0, type: 'uint16', bit: 2 }).problems.map((p) => p.path), [['tags', 0, 'bit']]);
    assert.equal(one({ name: 't', area: 'holding-register', address: 0, type: 'bit', bit: 15 }).tags[0]!.bit, 15);
  });

  it('reports a string tag without `length`, and `length` on another type', () => {
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 0, type: 'string' }).problems.map((p) => p.path), [['tags', 0, 'length']]);
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 0, type: 'int32', length: 2 }).problems.map((p) => p.path), [['tags', 0, 'length']]);
  });

  it('reports a tag whose registers run past 65535 and accepts one that ends exactly there', () => {
    assert.deepEqual(one({ name: 't', area: 'holding-register', address: 65_532, type: 'float64' }).problems, []);
    assert.deepEqual(problemsOf(one({ name: 't', area: 'holding-register', address: 65_533, type: 'float64' })), [
      'tags.0.address: the tag spans protocol addresses 65533–65536, past 65535',
    ]);
    assert.equal(one({ name: 't', area: 'holding-register', address: 65_535, type: 'string', length: 2 }).problems.length, 1);
  });

  it('reports a poll group that the device does not define', () => {
    assert.deepEqual(problemsOf(one({ name: 't', area: 'coil', type: 'bool', address: 0, group: 'fast' })), [
      'tags.0.group: poll group "fast" is not in the device\'s pollGroups (default)',
    ]);
    assert.equal(one({ name: 't', area: 'coil', type: 'bool', address: 0, group: 'toString' }).problems.length, 1, 'not an inherited key');
  });

  it('reports the second tag of a duplicated name and keeps the first', () => {
    const { tags, problems } = resolveDevice(
      device({
        tags: [
          { name: 'a', area: 'coil', type: 'bool', address: 0 },
          { name: 'b', area: 'coil', type: 'bool', address: 1 },
          { name: 'a', area: 'coil', type: 'bool', address: 2 },
        ],
      }),
    );
    assert.deepEqual(problemsOf({ tags, problems }), ['tags.2.name: tag name "a" is already used by tags[0]']);
    assert.deepEqual(tags.map((t) => [t.index, t.name, t.address]), [[0, 'a', 0], [1, 'b', 1]]);
  });

  it('reports a tag longer than one read may carry when given the read limits', () => {
    const tag = { name: 't', area: 'holding-register', address: 0, type: 'string', length: 100 } as const;
    assert.deepEqual(one(tag).problems, []);
    const limited = resolveDevice(device({ tags: [tag] }), { maxRegistersPerRead: 64, maxBitsPerRead: 2000 });
    assert.deepEqual(limited.problems.map((p) => p.path), [['tags', 0, 'length']]);
    const float = resolveDevice(device({ tags: [{ name: 'f', area: 'input-register', address: 0, type: 'float64' }] }), { maxRegistersPerRead: 3, maxBitsPerRead: 1 });
    assert.deepEqual(float.problems.map((p) => p.path), [['tags', 0, 'type']]);
  });

  it('keeps the good tags beside the bad ones, with their config index', () => {
    const { tags, problems } = resolveDevice(
      device({
        tags: [
          { name: 'bad', area: 'coil', address: 0, type: 'uint16' },
          { name: 'good', area: 'input-register', address: 5 },
        ],
      }),
    );
    assert.equal(problems.length, 1);
    assert.deepEqual(tags.map((t) => [t.index, t.name]), [[1, 'good']]);
  });
});
