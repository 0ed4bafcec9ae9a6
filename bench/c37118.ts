// bench/c37118: C37.118 data-frame decode throughput on one core, beside tshark decoding the same
// capture in the same run:
// - (a) 1 PMU, 8 float phasors (float FREQ, 1 digital word) and (b) 10 PMUs, all integer
//   (8 phasors, 2 analogs, 1 digital word each); a capture = CFG-2 then N data frames, values
//   and time stamps varying, every CRC valid;
// - the real path: the whole capture through Framer (SYNC, size, CRC) + StreamDecoder in 64 KiB
//   chunks, as TCP reads would deliver it; and decodeData alone over pre-framed frames (the hot
//   function); heap allocated and retained per frame around each;
// - tshark (-V to /dev/null, and -T fields) on a pcap of the first M frames of the same capture,
//   its start-up time (a pcap holding only the CFG-2) subtracted, per frame;
// - Buffer.readFloatBE / readInt16BE against DataView.getFloat32 / getInt16 (STYLE.md: choose by
//   a benchmark).
// Heap: the process re-executes itself with --expose-gc and a 256 MiB young generation, so no GC
// runs inside a measured round and heapUsed after − before is what the round allocated; a full gc
// before and after all rounds of a path gives what it retained. Measured rounds are NOT preceded
// by a forced gc: a full GC that collects an earlier round's decoder objects deoptimises
// decodeData ("weak objects"), which is not what a running gateway does every second. The full
// path also runs with 1 MiB chunks: allocation that shrinks with the chunk count is per chunk
// (the chunk's Buffer view, ChunkBuffer's compaction copy), not per frame.
// One core: the re-executed process runs under `taskset -c 0` when taskset exists (tshark, its
// child, inherits the mask). Target (the C37.118 issue): ≥ 2,000,000 1-PMU frames/s on one core
// with no garbage per frame; printed, never asserted.
//   npm run bench:c37118 [-- --frames N --tshark-frames M --rounds R]
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import vm from 'node:vm';
import { NO_CFG3_FIELDS, type ConfigFrame, type PhasorChannel, type PmuConfig } from '../src/protocols/c37118/cfg-frame.js';
import { crcCcitt } from '../src/protocols/c37118/crc-ccitt.js';
import { DataColumns, decodeData } from '../src/protocols/c37118/data-frame.js';
import { encodeCfg12, encodeData } from '../src/protocols/c37118/encoder.js';
import { Framer } from '../src/protocols/c37118/framer.js';
import { StreamLayout } from '../src/protocols/c37118/layout.js';
import { StreamDecoder } from '../src/protocols/c37118/stream-decoder.js';
import { splitFrames, writePcap } from '../test/peers/helpers/tshark.js';
import { fmt, machine, writeResults } from './lib/report.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    'tshark-frames': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
  },
});
const FRAMES = Number(values.frames);
const TSHARK_FRAMES = Math.min(FRAMES, Number(values['tshark-frames']));
const ROUNDS = Number(values.rounds);
const TARGET_FPS = 2_000_000;
const PORT = 14_712; // not the default 4712: tshark is told with -d

// Re-execute with the heap flags, pinned to CPU 0 when taskset exists (see the head comment).
const HEAP_FLAGS = ['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256'];
const pinned = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
if (process.env.GRIDGATE_BENCH_CHILD !== '1') {
  const node = [process.execPath, ...HEAP_FLAGS, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawnSync(pinned ? 'taskset' : node[0]!, pinned ? ['-c', '0', ...node] : node.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, GRIDGATE_BENCH_CHILD: '1' },
  });
  process.exit(child.status ?? 1);
}
const gc = (globalThis as { gc?: () => void }).gc ?? (vm.runInNewContext('gc') as () => void);

// ---------------------------------------------------------------------------------------------
// Captures

const phasor = (name: string, unit: 'V' | 'A', factor24: number): PhasorChannel => ({
  name,
  unit,
  raw: ((unit === 'A' ? 1 : 0) << 24) | factor24,
  factor: factor24 / 1e5,
  magnitudeScale: 1,
  angleOffsetRad: 0,
  modificationFlags: 0,
  component: null,
});
const NAMES = ['VA', 'VB', 'VC', 'IA', 'IB', 'IC', 'V1', 'I1'];

function pmu(p: number, format: number, analogs: number): PmuConfig {
  return {
    station: `BENCH PMU ${p + 1}`,
    idcode: 101 + p,
    format,
    // Integer scales leave room for twice 132.8 kV and 500 A in an int16.
    phasors: NAMES.map((name) => phasor(name, name[0] === 'I' ? 'A' : 'V', name[0] === 'I' ? 3052 : 810_570)),
    analogs: Array.from({ length: analogs }, (_, k) => ({ name: k ? 'Q MVAR' : 'P MW', type: 65, raw: (65 << 24) | 1, factor: 1, scale: 1, offset: 0 })),
    digitals: [{ labels: ['BRK1 CLOSED', 'BRK2 CLOSED', 'TRIP', ...Array<string>(13).fill('')], normal: 3, valid: 7 }],
    fnom: 60,
    cfgcnt: 0,
    ...NO_CFG3_FIELDS,
  };
}

const config = (name: string, pmus: PmuConfig[]): ConfigFrame => ({
  kind: 'cfg2',
  version: 2,
  idcode: name === 'a' ? 1 : 2,
  soc: 1_700_000_000,
  fracsec: 0,
  timeBase: 1_000_000,
  dataRate: 60,
  pmus,
});

interface Case {
  name: string;
  label: string;
  config: ConfigFrame;
  frameSize: number;
  /** CFG-2 then FRAMES data frames. */
  capture: Buffer;
  cfgBytes: number;
}

/** A pool of 1024 frames with varying values (a 60 Hz system with noise), repeated with fresh time stamps and CRCs. */
function buildCase(name: string, label: string, cfg: ConfigFrame): Case {
  const cfgFrame = encodeCfg12(cfg);
  const layout = new StreamLayout(cfg);
  const columns = new DataColumns(layout);
  let x = 12345;
  const noise = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32 - 0.5;
  };
  const pool: Buffer[] = [];
  for (let n = 0; n < 1024; n++) {
    for (let p = 0; p < layout.pmuCount; p++) {
      columns.stat[p] = n % 97 === 0 ? 0x0800 : 0;
      columns.freq[p] = 60 + 0.01 * Math.sin(n / 50) + 0.0005 * noise();
      columns.rocof[p] = 0.05 * Math.cos(n / 50) + 0.002 * noise();
      const polar = (layout.format[p]! & 1) !== 0;
      for (let k = 0, i = layout.phasorStart[p]!; i < layout.phasorStart[p + 1]!; k++, i++) {
        const magnitude = (k % 8 < 3 || k === 6 ? 132_790 : 500) * (1 + 0.0001 * noise());
        const angle = ((n * 0.01 + (k % 3) * (2 / 3) * Math.PI + p * 0.03 + Math.PI) % (2 * Math.PI)) - Math.PI;
        columns.phasorA[i] = polar ? magnitude : magnitude * Math.cos(angle);
        columns.phasorB[i] = polar ? angle : magnitude * Math.sin(angle);
      }
      for (let i = layout.analogStart[p]!; i < layout.analogStart[p + 1]!; i++) columns.analog[i] = Math.round(180 + 20 * noise());
      for (let i = layout.digitalStart[p]!; i < layout.digitalStart[p + 1]!; i++) columns.digital[i] = n % 300 < 5 ? 0x0004 : 0x0003;
    }
    pool.push(encodeData(columns, { idcode: cfg.idcode, soc: 0, fracsec: 0 }));
  }
  const size = layout.frameSize;
  const capture = Buffer.allocUnsafe(cfgFrame.length + FRAMES * size);
  cfgFrame.copy(capture, 0);
  for (let n = 0, at = cfgFrame.length; n < FRAMES; n++, at += size) {
    pool[n % pool.length]!.copy(capture, at);
    capture.writeUInt32BE(cfg.soc + Math.floor(n / cfg.dataRate), at + 6);
    capture.writeUInt32BE(Math.round(((n % cfg.dataRate) * cfg.timeBase) / cfg.dataRate), at + 10);
    capture.writeUInt16BE(crcCcitt(capture, at, at + size - 2), at + size - 2);
  }
  return { name, label, config: cfg, frameSize: size, capture, cfgBytes: cfgFrame.length };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Run {
  seconds: number;
  frames: number;
  /** heapUsed after the round minus before, per frame: what it allocated (exact when gcs = 0). */
  allocatedBytesPerFrame: number;
  /** GCs during the round. */
  gcs: number;
}

let gcCount = 0;
new PerformanceObserver((list) => void (gcCount += list.getEntries().length)).observe({ entryTypes: ['gc'] });
/** GC entries reach the observer asynchronously: let them arrive. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

async function measure(frames: number, body: () => number): Promise<Run> {
  await settle();
  const gcsBefore = gcCount;
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const decoded = body();
  const seconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage().heapUsed;
  await settle();
  if (decoded !== frames) throw new Error(`decoded ${decoded} data frames of ${frames}`);
  return { seconds, frames, allocatedBytesPerFrame: (after - before) / frames, gcs: gcCount - gcsBefore };
}

// The decode loops below touch no doubles themselves: decodeData's stores into the columns (typed
// arrays) cannot be optimised away, and a harness that boxes a double per frame (a module-level
// `let`, or any double while the loop runs in baseline code after a deopt) would show its own
// HeapNumbers as garbage per frame. `sink` keeps the micro-benchmarks' sums alive.
let sink = 0;

/** The real path: the capture in chunks (64 KiB, as TCP reads) through a new Framer + StreamDecoder (a new connection). */
function decodeCapture(capture: Buffer, chunk = 64 * 1024): number {
  const framer = new Framer({ maxBytes: Math.max(4 * 1024 * 1024, 2 * chunk) });
  const decoder = new StreamDecoder();
  let data = 0;
  for (let at = 0; at < capture.length; at += chunk) {
    if (!framer.push(capture.subarray(at, at + chunk))) throw new Error('framer full');
    for (;;) {
      const out = framer.next();
      if (out.kind === 'none') break;
      if (out.kind !== 'frame') throw new Error(`framer: ${out.reason}`);
      const decoded = decoder.decode(out.buf, out.offset, out.length);
      if (decoded.kind === 'data') data++;
      else if (decoded.kind !== 'config') throw new Error(`decoder: ${decoded.kind}`);
    }
  }
  return data;
}

/** The hot function alone: decodeData over 1024 pre-framed frames, cycled, into the case's columns (one per stream, as StreamDecoder keeps them). */
function decodeFramed(c: Case, columns: DataColumns, count: number): number {
  const frames = c.capture.subarray(c.cfgBytes, c.cfgBytes + 1024 * c.frameSize);
  const size = c.frameSize;
  let data = 0;
  for (let n = 0; n < count; n++) if (decodeData(frames, (n & 1023) * size, columns) === null) data++;
  return data;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Rounds {
  best: Run;
  medianFramesPerSecond: number;
  /** Allocated per frame, median over the rounds (a round that re-optimises after a deopt runs partly in baseline code, which boxes doubles), and GCs in all rounds. */
  allocatedBytesPerFrame: number;
  gcs: number;
  /** heapUsed after a full gc, after all rounds minus before the warm-up, per frame. */
  retainedBytesPerFrame: number;
}

/**
 * Warm-up: `warm` runs the same code on small inputs many times, so that every branch, the code
 * after the loops included, has type feedback before TurboFan compiles it. One big warm-up call
 * is not enough: the OSR-compiled loop deoptimises at its exit, and a function that deoptimises
 * twice may stay in baseline code, where every double is boxed (measured here: 32 B/frame).
 */
async function rounds(frames: number, body: () => number, warm: () => void): Promise<Rounds> {
  gc();
  gc();
  const start = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20; i++) warm();
  body();
  const all: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) all.push(await measure(frames, body));
  gc();
  gc();
  const retained = (process.memoryUsage().heapUsed - start) / (frames * (ROUNDS + 1));
  const best = all.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    best,
    medianFramesPerSecond: median(all.map((r) => r.frames / r.seconds)),
    allocatedBytesPerFrame: median(all.map((r) => r.allocatedBytesPerFrame)),
    gcs: all.reduce((n, r) => n + r.gcs, 0),
    retainedBytesPerFrame: retained,
  };
}

// ---------------------------------------------------------------------------------------------
// tshark

interface TsharkRun {
  mode: string;
  frames: number;
  seconds: number;
  startupSeconds: number;
  framesPerSecond: number;
  /** Data frames with a decoded frequency in the -T fields output (null for -V, not read). */
  decodedFrames: number | null;
}

async function tshark(c: Case): Promise<TsharkRun[]> {
  const dir = await mkdtemp(join(tmpdir(), 'gridgate-bench-c37118-'));
  const configDir = join(dir, 'config'); // no personal Wireshark preferences
  await mkdir(configDir);
  try {
    const frames = splitFrames(c.capture.subarray(0, c.cfgBytes + TSHARK_FRAMES * c.frameSize));
    const packets = (list: Buffer[]) => list.map((payload) => ({ payload, transport: 'tcp' as const, srcPort: PORT, dstPort: 50_000 }));
    const full = join(dir, `${c.name}.pcap`);
    const empty = join(dir, `${c.name}-cfg-only.pcap`);
    await writePcap(full, packets(frames));
    await writePcap(empty, packets(frames.slice(0, 1)));
    const env = { ...process.env, WIRESHARK_CONFIG_DIR: configDir, LC_ALL: 'C.UTF-8', TZ: 'UTC' };
    const base = ['-n', '-d', `tcp.port==${PORT},synphasor`];
    const modes: [string, string[]][] = [
      ['tshark -V (full tree, text to /dev/null)', ['-V']],
      ['tshark -T fields (frequency, phasors)', ['-T', 'fields', '-e', 'synphasor.actual_frequency_value', '-e', 'synphasor.frequency_deviation_from_nominal', '-e', 'synphasor.phasor']],
    ];
    const out: TsharkRun[] = [];
    for (const [mode, args] of modes) {
      const time = (file: string, toNull: boolean): { seconds: number; stdout: string } => {
        const devNull = openSync('/dev/null', 'w');
        const t0 = performance.now();
        const r = spawnSync('tshark', [...base, '-r', file, ...args], { env, stdio: ['ignore', toNull ? devNull : 'pipe', 'pipe'], maxBuffer: 1 << 30, encoding: 'utf8' });
        const seconds = (performance.now() - t0) / 1000;
        closeSync(devNull);
        if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr || r.error}`);
        return { seconds, stdout: r.stdout ?? '' };
      };
      const best = (file: string, toNull: boolean) => {
        const runs = Array.from({ length: 3 }, () => time(file, toNull));
        return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      };
      const startup = best(empty, true).seconds;
      const fields = mode.includes('fields');
      const run = best(full, !fields);
      // With -T fields, check that tshark really decoded the data frames (it needs the CFG-2 first);
      // -V output goes to /dev/null unread.
      const decodedFrames = fields ? run.stdout.split('\n').filter((line) => /\d/.test(line.split('\t')[0]! + line.split('\t')[1]!)).length : null;
      out.push({ mode, frames: TSHARK_FRAMES, seconds: run.seconds, startupSeconds: startup, framesPerSecond: TSHARK_FRAMES / (run.seconds - startup), decodedFrames });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Buffer vs DataView

interface Micro {
  name: string;
  nsPerRead: number;
}

function readers(): Micro[] {
  const buf = Buffer.alloc(64 * 1024);
  for (let at = 0; at < buf.length; at += 4) buf.writeFloatBE(Math.sin(at) * 1000, at);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const N = 20_000_000;
  const MASK = buf.length - 1;
  const cases: [string, () => number][] = [
    ['Buffer.readFloatBE', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 4) & MASK) s += buf.readFloatBE(at); return s; }],
    ['DataView.getFloat32 (big-endian)', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 4) & MASK) s += view.getFloat32(at, false); return s; }],
    ['Buffer.readInt16BE', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 2) & MASK) s += buf.readInt16BE(at); return s; }],
    ['DataView.getInt16 (big-endian)', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 2) & MASK) s += view.getInt16(at, false); return s; }],
    ['Buffer.readUInt16BE', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 2) & MASK) s += buf.readUInt16BE(at); return s; }],
    ['DataView.getUint16 (big-endian)', () => { let s = 0; for (let i = 0, at = 0; i < N; i++, at = (at + 2) & MASK) s += view.getUint16(at, false); return s; }],
  ];
  for (const [, f] of cases) sink += f(); // warm-up
  return cases.map(([name, f]) => {
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      sink += f();
      times.push(((performance.now() - t0) * 1e6) / N);
    }
    return { name, nsPerRead: median(times) };
  });
}

// ---------------------------------------------------------------------------------------------

const cases = [
  buildCase('a', '1 PMU, 8 float phasors (float FREQ, 1 digital)', config('a', [pmu(0, 2 | 8, 0)])),
  buildCase('b', '10 PMUs, integer (8 phasors, 2 analogs, 1 digital each)', config('b', Array.from({ length: 10 }, (_, p) => pmu(p, 0, 2)))),
];

interface PathResult {
  framesPerSecond: number;
  medianFramesPerSecond: number;
  nsPerFrame: number;
  mbPerSecond: number;
  allocatedBytesPerFrame: number;
  retainedBytesPerFrame: number;
  gcs: number;
}

interface CaseResult {
  name: string;
  label: string;
  frameBytes: number;
  capture: PathResult & { allocatedBytesPerFrameWith1MiBChunks: number; gcsWith1MiBChunks: number };
  decodeData: PathResult;
  tshark: TsharkRun[];
}

const pathResult = (r: Rounds, frameBytes: number): PathResult => ({
  framesPerSecond: r.best.frames / r.best.seconds,
  medianFramesPerSecond: r.medianFramesPerSecond,
  nsPerFrame: (r.best.seconds * 1e9) / r.best.frames,
  mbPerSecond: (r.best.frames * frameBytes) / r.best.seconds / 1e6,
  allocatedBytesPerFrame: r.allocatedBytesPerFrame,
  retainedBytesPerFrame: r.retainedBytesPerFrame,
  gcs: r.gcs,
});

const results: CaseResult[] = [];
for (const c of cases) {
  const prefix = c.capture.subarray(0, c.cfgBytes + Math.min(FRAMES, 20_000) * c.frameSize);
  let warmups = 0;
  const warmPath = (): void => void decodeCapture(prefix, warmups++ % 2 ? 1024 * 1024 : 64 * 1024); // both chunk sizes
  const path = await rounds(FRAMES, () => decodeCapture(c.capture), warmPath);
  const bigChunks = await rounds(FRAMES, () => decodeCapture(c.capture, 1024 * 1024), warmPath);
  const columns = new DataColumns(new StreamLayout(c.config));
  const hot = await rounds(FRAMES, () => decodeFramed(c, columns, FRAMES), () => void decodeFramed(c, columns, 20_000));
  const ts = await tshark(c);
  const r: CaseResult = {
    name: c.name,
    label: c.label,
    frameBytes: c.frameSize,
    capture: { ...pathResult(path, c.frameSize), allocatedBytesPerFrameWith1MiBChunks: bigChunks.allocatedBytesPerFrame, gcsWith1MiBChunks: bigChunks.gcs },
    decodeData: pathResult(hot, c.frameSize),
    tshark: ts,
  };
  results.push(r);
  console.log(`(${c.name}) ${c.label}, ${c.frameSize}-byte frames, ${fmt(FRAMES)} frames`);
  console.log(
    `  Framer + StreamDecoder: ${fmt(r.capture.framesPerSecond)} frames/s (median ${fmt(r.capture.medianFramesPerSecond)}), ${fmt(r.capture.nsPerFrame, 1)} ns/frame, ` +
      `${fmt(r.capture.mbPerSecond, 1)} MB/s; allocated ${fmt(r.capture.allocatedBytesPerFrame, 3)} B/frame with 64 KiB chunks ` +
      `(${fmt(r.capture.allocatedBytesPerFrame * ((64 * 1024) / c.frameSize))} B per chunk), ${fmt(r.capture.allocatedBytesPerFrameWith1MiBChunks, 3)} B/frame with 1 MiB chunks; ` +
      `retained ${fmt(r.capture.retainedBytesPerFrame, 4)} B/frame; ${r.capture.gcs + r.capture.gcsWith1MiBChunks} GCs in the measured rounds`,
  );
  console.log(
    `  decodeData alone:       ${fmt(r.decodeData.framesPerSecond)} frames/s (median ${fmt(r.decodeData.medianFramesPerSecond)}), ${fmt(r.decodeData.nsPerFrame, 1)} ns/frame; ` +
      `allocated ${fmt(r.decodeData.allocatedBytesPerFrame, 3)} B/frame, retained ${fmt(r.decodeData.retainedBytesPerFrame, 4)} B/frame; ${r.decodeData.gcs} GCs`,
  );
  for (const t of ts) {
    console.log(
      `  ${t.mode}: ${fmt(t.framesPerSecond)} frames/s (${fmt(t.frames)} frames in ${fmt(t.seconds, 2)} s, start-up ${fmt(t.startupSeconds, 2)} s subtracted${t.decodedFrames === null ? '' : `; ${fmt(t.decodedFrames)} data frames decoded`})` +
        `; ours (full path) ÷ tshark = ${fmt(r.capture.framesPerSecond / t.framesPerSecond, 0)}×`,
    );
  }
}

const micro = readers();
console.log('\nBuffer vs DataView (20M reads, median of 7):');
for (const m of micro) console.log(`  ${m.name.padEnd(34)} ${fmt(m.nsPerRead, 2)} ns/read`);

const a = results[0]!;
// No garbage per frame: decodeData allocates nothing, and what the full path allocates is per
// chunk (it shrinks with 16× fewer chunks), none of it retained.
const garbagePerFrame = Math.max(a.decodeData.allocatedBytesPerFrame, a.capture.allocatedBytesPerFrameWith1MiBChunks);
// Retained: a leak of even one HeapNumber per frame would be 16 B/frame; what is left after a
// full gc here is compiled code and the last decoder, a constant spread over all frames.
const noGarbage = garbagePerFrame < 0.1 && a.capture.retainedBytesPerFrame < 1 && a.decodeData.retainedBytesPerFrame < 1;
const met = a.capture.framesPerSecond >= TARGET_FPS && noGarbage;
console.log(
  `\nTarget: ≥ ${fmt(TARGET_FPS)} 1-PMU frames/s on one core with no garbage per frame: ${met ? 'MET' : 'NOT MET'} ` +
    `(${fmt(a.capture.framesPerSecond)} frames/s through Framer + StreamDecoder; decodeData allocates ${fmt(a.decodeData.allocatedBytesPerFrame, 3)} B/frame, ` +
    `the full path ${fmt(a.capture.allocatedBytesPerFrame, 3)} B/frame with 64 KiB chunks and ${fmt(a.capture.allocatedBytesPerFrameWith1MiBChunks, 3)} with 1 MiB chunks)`,
);
if (sink === 42) console.log(''); // use the sink

// machine() counts the CPUs this process may use: 1 under taskset. Name the machine's own.
const host = machine().replace(/^\d+ cores/u, `${os.cpus().length} cores`);
const tsharkVersion = /^TShark \(Wireshark\) (\S+)/mu.exec(spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown';
const table = [
  '## C37.118 decode (bench/c37118.ts)',
  '',
  `${fmt(FRAMES)} data frames per capture (after one CFG-2), 1024 distinct value sets with fresh time stamps and CRCs, best of ${ROUNDS} rounds after a warm-up (allocation: heapUsed around each round with a 256 MiB young generation, so no GC inside a round; retained: after a full gc), ` +
    `${pinned ? 'pinned to one core (taskset -c 0)' : 'not pinned (no taskset)'}, on ${host}, ${new Date().toISOString().slice(0, 10)}. ` +
    `tshark ${tsharkVersion} on a pcap of the first ${fmt(TSHARK_FRAMES)} frames of the same capture (one frame per TCP segment, -d tcp.port==${PORT},synphasor), best of 3, its start-up (the CFG-2 alone) subtracted.`,
  '',
  '| capture | path | frames/s | ns/frame | allocated per frame (retained) | GCs in the measured rounds |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) => [
    `| (${r.name}) ${r.label}, ${r.frameBytes} B | Framer + StreamDecoder (64 KiB chunks, CRC) | ${fmt(r.capture.framesPerSecond)} | ${fmt(r.capture.nsPerFrame, 1)} | ` +
      `${fmt(r.capture.allocatedBytesPerFrame, 3)} B (${fmt(r.capture.retainedBytesPerFrame, 3)} B); ${fmt(r.capture.allocatedBytesPerFrameWith1MiBChunks, 3)} B with 1 MiB chunks | ${r.capture.gcs + r.capture.gcsWith1MiBChunks} |`,
    `| | decodeData alone (pre-framed) | ${fmt(r.decodeData.framesPerSecond)} | ${fmt(r.decodeData.nsPerFrame, 1)} | ${fmt(r.decodeData.allocatedBytesPerFrame, 3)} B (${fmt(r.decodeData.retainedBytesPerFrame, 3)} B) | ${r.decodeData.gcs} |`,
    ...r.tshark.map((t) => `| | ${t.mode} | ${fmt(t.framesPerSecond)} | ${fmt(1e9 / t.framesPerSecond, 0)} | | |`),
  ]),
  '',
  'Ours ÷ tshark (full path vs `-T fields`): ' + results.map((r) => `(${r.name}) ${fmt(r.capture.framesPerSecond / r.tshark[1]!.framesPerSecond, 0)}×`).join(', ') + '.',
  '',
  '| reader (20M big-endian reads, median of 7) | ns/read |',
  '| --- | --- |',
  ...micro.map((m) => `| ${m.name} | ${fmt(m.nsPerRead, 2)} |`),
  '',
  `Target (the C37.118 issue): ≥ 2,000,000 1-PMU frames/s on one core with no garbage per frame: **${met ? 'met' : 'not met'}** (${fmt(a.capture.framesPerSecond)} frames/s).`,
].join('\n');
await writeResults('c37118', { frames: FRAMES, tsharkFrames: TSHARK_FRAMES, rounds: ROUNDS, pinned, machine: host, tsharkVersion, targetFramesPerSecond: TARGET_FPS, targetMet: met, results, readers: micro }, table);
console.log('\nwrote bench/results/c37118.json and the c37118 section of bench/RESULTS.md');
