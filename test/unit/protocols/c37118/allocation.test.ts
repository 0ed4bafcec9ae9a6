// "No per-field allocation in the hot path" (STYLE.md), measured. Heap growth alone proves
// little: the young generation is collected as it fills, so a loop that allocates per field can
// end with the heap no larger than it began. Instead the meter counts bytes ALLOCATED: the growth
// of heapUsed plus everything each GC during the run reclaimed (v8.GCProfiler reports the heap
// before and after every collection). The meter is checked on a loop known to allocate.
//
// Two bounds. Per field: under half a boxed double (8 bytes) per field per frame, which fails when
// decoding allocates per field wholesale (an object or array per phasor, a boxed number for every
// value). Per frame: under 24 bytes, at most one boxed double, whatever the frame's size; that
// one is slack for V8 declining to inline a helper that returns a double (eventTimeUs), which
// cost 16–48 bytes per frame while the data path read through Buffer#readFloatBE. Through the
// cached DataView it measures 0 bytes per frame.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ConfigFrame } from '../../../../src/protocols/c37118/cfg-frame.js';
import { DataColumns } from '../../../../src/protocols/c37118/data-frame.js';
import { encodeCfg12, encodeData } from '../../../../src/protocols/c37118/encoder.js';
import { Framer } from '../../../../src/protocols/c37118/framer.js';
import { StreamDecoder } from '../../../../src/protocols/c37118/stream-decoder.js';
import { analog12, configFrame, digitalWord, framesOf, loadVector, phasor12, pmuConfig } from '../../../helpers/c37118.js';

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

/** Fields one data frame of `config` carries: 2 per phasor, FREQ, DFREQ, analogs, digital words. */
const fieldsOf = (config: ConfigFrame): number =>
  config.pmus.reduce((n, p) => n + 2 * p.phasors.length + 2 + p.analogs.length + p.digitals.length, 0);

/** Four PMUs, one per phasor representation, 8 phasors, 4 analogs and 2 digital words each. */
const wide = configFrame({
  idcode: 77,
  pmus: [0x0, 0x1, 0xe, 0xf].map((format, p) =>
    pmuConfig({
      idcode: 100 + p,
      format,
      phasors: Array.from({ length: 8 }, (_, i) => phasor12(`PH${i}`, 915527)),
      analogs: Array.from({ length: 4 }, (_, i) => analog12(`AN${i}`, 0x0100_0000 | 10)),
      digitals: [digitalWord(['a']), digitalWord(['b'])],
    }),
  ),
});

function wideDataFrame(): Buffer {
  const decoder = new StreamDecoder();
  const columns = new DataColumns(decoder.activate(wide));
  columns.phasorA.forEach((_, i) => {
    columns.phasorA[i] = 1000 + i;
    columns.phasorB[i] = (i % 7) / 10;
  });
  columns.freq.fill(60.01);
  columns.rocof.fill(0.02);
  columns.analog.fill(120);
  return encodeData(columns, { idcode: 77, soc: 1_700_000_000, fracsec: 123_456 });
}

const DECODES = 200_000;
/** Allowed bytes per field per frame: half of one boxed double. */
const BYTES_PER_FIELD = 8;

describe('C37.118 hot-path allocation', () => {
  it('has a meter that sees allocation: 200k small objects are counted', () => {
    const holder: { last: unknown } = { last: null };
    const bytes = bytesAllocated(() => {
      for (let i = 0; i < DECODES; i++) holder.last = { i };
    });
    assert.ok(bytes >= DECODES * 16, `the meter saw only ${bytes} bytes for ${DECODES} objects`);
  });

  it('decodes the same wide data frame 200k times with no per-field allocation', (t) => {
    const decoder = new StreamDecoder();
    const cfg = encodeCfg12(wide);
    assert.equal(decoder.decode(cfg, 0, cfg.length).kind, 'config');
    const frame = wideDataFrame();
    const run = () => {
      for (let i = 0; i < DECODES; i++) decoder.decode(frame, 0, frame.length);
    };
    run(); // warm up: let the JIT settle before measuring
    assert.equal(decoder.decode(frame, 0, frame.length).kind, 'data');
    const perFrame = bytesAllocated(run) / DECODES;
    const fields = fieldsOf(wide);
    t.diagnostic(`${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
    assert.ok(perFrame < BYTES_PER_FIELD * fields, `${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
  });

  it('decodes the four-PMU capture 200k times with no per-field allocation', (t) => {
    const frames = framesOf(loadVector('four_pmu_tcp').bytes);
    const [cfg, data] = frames as [Buffer, Buffer];
    const decoder = new StreamDecoder();
    const decoded = decoder.decode(cfg, 0, cfg.length);
    assert.equal(decoded.kind, 'config');
    const run = () => {
      for (let i = 0; i < DECODES; i++) decoder.decode(data, 0, data.length);
    };
    run();
    const perFrame = bytesAllocated(run) / DECODES;
    const fields = fieldsOf(decoder.layout(60)!.config);
    t.diagnostic(`${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
    assert.ok(perFrame < BYTES_PER_FIELD * fields, `${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
  });

  it('frames and decodes a stream of data frames pushed in chunks with no per-field allocation', (t) => {
    const decoder = new StreamDecoder();
    const cfg = encodeCfg12(wide);
    decoder.decode(cfg, 0, cfg.length);
    const frame = wideDataFrame();
    const copies = 64;
    const stream = Buffer.concat(Array.from({ length: copies }, () => frame));
    const framer = new Framer();
    const rounds = 1500;
    let decoded = 0;
    const run = () => {
      for (let r = 0; r < rounds; r++) {
        for (let at = 0; at < stream.length; at += 4096) {
          framer.push(stream.subarray(at, at + 4096));
          for (let out = framer.next(); out.kind !== 'none'; out = framer.next()) {
            if (out.kind === 'frame' && decoder.decode(out.buf, out.offset, out.length).kind === 'data') decoded++;
          }
        }
      }
    };
    run();
    assert.equal(decoded, rounds * copies);
    // Subarray views are allocated per chunk here by the test itself; they count against the bound.
    const perFrame = bytesAllocated(run) / (rounds * copies);
    const fields = fieldsOf(wide);
    t.diagnostic(`${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
    assert.ok(perFrame < BYTES_PER_FIELD * fields, `${perFrame.toFixed(1)} bytes allocated per frame of ${fields} fields`);
  });

  it('decodes a data frame with at most one boxed number per frame, whatever its size', (t) => {
    const decoder = new StreamDecoder();
    const cfg = encodeCfg12(wide);
    decoder.decode(cfg, 0, cfg.length);
    const frame = wideDataFrame();
    const run = () => {
      for (let i = 0; i < DECODES; i++) decoder.decode(frame, 0, frame.length);
    };
    run();
    const perFrame = bytesAllocated(run) / DECODES;
    t.diagnostic(`${perFrame.toFixed(1)} bytes allocated per frame`);
    assert.ok(perFrame < 24, `${perFrame.toFixed(1)} bytes allocated per frame`);
  });
});
