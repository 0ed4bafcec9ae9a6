// "Allocation-free except the returned string" (tag-codec.ts), measured as in the C37.118
// allocation test: bytes ALLOCATED during a decode loop (heap growth plus what each GC reclaimed,
// from v8.GCProfiler), which a loop allocating per value cannot hide by being collected young.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WORD_ORDERS, type TagType } from '../../../../src/protocols/modbus/config.js';
import { decodeInto, decodeTag, encodeTag } from '../../../../src/protocols/modbus/tag-codec.js';
import { tagOf } from './tags.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bytes allocated on the JS heap while `run` runs (the least of `tries` measurements). */
function bytesAllocated(run: () => void, tries = 3): number {
  let least = Infinity;
  for (let t = 0; t < tries; t++) {
    gc();
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = v8.getHeapStatistics().used_heap_size;
    run();
    const after = v8.getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    let reclaimed = 0;
    for (const event of statistics) reclaimed += event.beforeGC.heapStatistics.usedHeapSize - event.afterGC.heapStatistics.usedHeapSize;
    least = Math.min(least, after - before + reclaimed);
  }
  return least;
}

describe('tag codec allocation', () => {
  const types: TagType[] = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64', 'bit', 'bool'];
  const tags = types.flatMap((type) =>
    WORD_ORDERS.map((order) => tagOf(type, order, type === 'bit' ? { bit: 3 } : type === 'bool' ? {} : { scale: 0.5, offset: 1 })),
  );
  const registers = new Uint16Array(4 * tags.length);
  tags.forEach((tag, i) => encodeTag(tag, tag.type === 'bit' || tag.type === 'bool' ? true : 12.5 + i, registers, 4 * i));
  const out = new Float64Array(tags.length);
  const rounds = 10_000;

  /** Bytes allocated per decoded value, after warming `decodeAll` up so that it is optimised. */
  const perValue = (decodeAll: () => void): number => {
    for (let i = 0; i < 20_000; i++) decodeAll();
    const bytes = bytesAllocated(() => {
      for (let r = 0; r < rounds; r++) decodeAll();
    });
    return bytes / (rounds * tags.length);
  };

  it('decodes every number type, bit and bool into a Float64Array without allocating', () => {
    const allocated = perValue(() => {
      for (let i = 0; i < tags.length; i++) decodeInto(tags[i]!, registers, 4 * i, out, i);
    });
    assert.deepEqual([out[0], out[4 * 4], out[tags.length - 1]], [12.5, 28.5, 1], "int16, float32 and bool decoded");
    assert.ok(allocated < 0.5, `${allocated.toFixed(2)} bytes allocated per decoded value`);
  });

  it('decodes with decodeTag at no more than one boxed double per value', () => {
    const allocated = perValue(() => {
      for (let i = 0; i < tags.length; i++) {
        const v = decodeTag(tags[i]!, registers, 4 * i);
        out[i] = typeof v === 'number' ? v : v === true ? 1 : 0;
      }
    });
    assert.ok(allocated <= 16, `${allocated.toFixed(2)} bytes allocated per decoded value (a boxed double is 16)`);
  });
});
