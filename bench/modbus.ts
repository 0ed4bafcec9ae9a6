// bench/modbus: the Modbus source on a 2,000-tag register map, coalesced reads against one read per
// tag, beside a bare modbus-serial client issuing the same reads (the reference) in the same run.
// - the map (one device, unit 1): 1,200 float32 holding registers in 24 blocks of 50 (sub-blocks
//   of 10 with 2–6 reserved registers between them, blocks 200 registers apart), 196 int32/uint32
//   holding registers (14 runs of 14, gaps alternating 4 and 10), 400 input registers (200 uint16,
//   200 int16, runs of 16 with 1–3 reserved between), 100 coils and 100 discrete inputs (runs of 8,
//   8 unused bits between), 4 strings of 8 registers: 2,000 tags;
// - part 1, planning (no I/O): resolveDevice + planReads with maxGap 8 / 125 registers / 2000 bits
//   (the defaults), with maxGap 0 (only touching tags merge), and one read per tag (each tag planned
//   alone, maxRegistersPerRead = its size): requests per poll cycle, registers and bits read (the
//   unmapped ones inside coalesced reads are the overhead), bytes on the wire (Modbus TCP ADUs), and
//   the planning time (median of 200 runs);
// - part 2, sustained: the real ModbusSource (its connection, schedule, decoding and records) polls
//   the map over loopback TCP from `gridgate simulate modbus` in a child process (dist/, so the
//   simulator has its own event loop), at 1 s, 500 ms and 100 ms with coalescing, and at 1 s with
//   one read per tag (the source's plans replaced after construction by per-tag plans: the config
//   cannot express it, a tag longer than maxRegistersPerRead being a config error). Values are
//   sines (a counter for the uint32s, toggles for the bits), so records flow. Per configuration,
//   after a warm-up, for --seconds:
//     tags/s read with good quality, requests/s and request latency, exact per request (a probe on
//     ModbusConnection.prototype.read: the same sent → received span the source's histogram gets),
//     the first read of each poll apart (the connection idle since the previous poll);
//     poll duration (a probe on DevicePoller.prototype.poll: the reads, decoding, records), and the
//     part of it outside the requests' time on the wire;
//     poll jitter, exact (the source's histogram is bucketed and Tick.jitterMs is whole ms of
//     Date.now): a probe on PollSchedule.prototype.start wraps each schedule's onTick and takes
//     performance.now() calibrated to Date.now's millisecond edge, minus the tick's deadline; ticks
//     that fired before their deadline and ticks for a deadline already ticked are counted;
//     skipped polls by reason (gridgate_modbus_skipped_polls_total), records emitted (and how many
//     had good quality), the main thread's event-loop delay (monitorEventLoopDelay at 1 ms, the
//     1 ms interval subtracted) and utilisation, and CPU of the gateway process and of the
//     simulator child (/proc/<pid>/stat), as a share of one core;
// - the references, right after the runs they compare with: a bare modbus-serial client (callback
//   API, as the source uses it; no decoding, no records) on its own connection issues the same
//   reads one at a time, paced on the same k·interval grid (--paced-seconds) and back to back
//   (--reference-seconds): requests/s, latency, and the time of one pass over the reads, beside
//   the source's poll duration: the gateway's overhead.
// Not pinned; the core count is printed. Nothing is asserted. About 85 s.
//   npm run bench:modbus [-- --seconds N --warmup N --intervals 1000,500,100 --reference-seconds N --paced-seconds N]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Deadline } from '../src/daemon/component.js';
import type { SourceRecord } from '../src/pipeline/record.js';
import { ModbusSourceSchema, type ModbusDeviceConfig, type ModbusSourceConfig, type ModbusTagConfig } from '../src/protocols/modbus/config.js';
import { ModbusConnection, type ReadFunction, type ReadResult } from '../src/protocols/modbus/connection.js';
import { DevicePoller, type PollOutcome } from '../src/protocols/modbus/device-poller.js';
import { planReads, summarisePlan, type ReadLimits, type ReadPlan } from '../src/protocols/modbus/plan.js';
import { isBitArea, resolveDevice, type ResolvedTag } from '../src/protocols/modbus/resolve.js';
import { PollSchedule, type Tick } from '../src/protocols/modbus/schedule.js';
import type { RegisterMapInput } from '../src/protocols/modbus/simulator/map-schema.js';
import { ModbusSource } from '../src/protocols/modbus/source.js';
import { fmt, machine, percentile, writeResults } from './lib/report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '2' },
    intervals: { type: 'string', default: '1000,500,100' },
    'reference-seconds': { type: 'string', default: '3' },
    'paced-seconds': { type: 'string', default: '6' },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const INTERVALS = values.intervals.split(',').map(Number);
const REFERENCE_SECONDS = Number(values['reference-seconds']);
const PACED_SECONDS = Number(values['paced-seconds']);
const UNCOALESCED_INTERVAL = 1000;
const UNIT = 1;
const SEED = 7;
const GROUP = 'poll';
const COALESCED: ReadLimits = { maxGap: 8, maxRegistersPerRead: 125, maxBitsPerRead: 2000 };
const SIMULATOR = 'dist/src/main.js';

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]): number => percentile(sorted(xs), 50);
interface Quantiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}
const quantiles = (xs: readonly number[]): Quantiles => {
  const s = sorted(xs);
  return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN };
};

// ---------------------------------------------------------------------------------------------
// The map: the gateway's tags and the simulator's registers, built from the same runs

type Area = NonNullable<ModbusTagConfig['area']>;
type TagType = ModbusTagConfig['type'];
type SimRegister = NonNullable<RegisterMapInput['units'][number]['registers']>[number];

const tags: ModbusTagConfig[] = [];
const simRegisters: SimRegister[] = [];
const width = (type: TagType, length = 0): number => (type === 'string' ? length : type === 'bool' ? 1 : type.endsWith('32') ? 2 : 1);

/** `n` consecutive tags of one type at `address`, served by one repeated simulator register. */
function run(area: Area, address: number, type: TagType, n: number, value: unknown, unit = ''): number {
  for (let k = 0; k < n; k++) {
    tags.push({ name: `${area.replace(/-.*/u, '')}-${type}-${address + k * width(type)}`, area, address: address + k * width(type), type, unit, group: GROUP } as ModbusTagConfig);
  }
  simRegisters.push({ area, address, type, repeat: n, value } as SimRegister);
  return address + n * width(type);
}

// Strings (device name, serial, firmware, model): 4 × 8 registers from 0.
['GRIDGATE-BENCH', 'SN-0042-7731', 'FW 3.14.1', 'MTR-9000'].forEach((text, k) => {
  tags.push({ name: `string-${k}`, area: 'holding-register', address: 8 * k, type: 'string', length: 8, group: GROUP } as ModbusTagConfig);
  simRegisters.push({ area: 'holding-register', address: 8 * k, type: 'string', length: 8, value: text } as SimRegister);
});
// 1,200 float32: 24 meters × 50 values, sub-blocks of 10 with 2–6 reserved registers between.
for (let b = 0; b < 24; b++) {
  let a = 1000 + 200 * b;
  for (let s = 0; s < 5; s++) {
    a = run('holding-register', a, 'float32', 10, { sine: { offset: 230, amplitude: 10, periodS: 7 + (b % 5) } }, 'V');
    a += 2 + ((b + s) % 5);
  }
}
// 196 int32/uint32 energy and power values: 14 runs of 14, gaps alternating 4 and 10 (> maxGap).
{
  let a = 7000;
  for (let r = 0; r < 14; r++) {
    a = run('holding-register', a, r % 2 === 0 ? 'int32' : 'uint32', 14, r % 2 === 0 ? { sine: { amplitude: 50_000, periodS: 9 } } : { counter: { perS: 1000 } }, 'kWh');
    a += r % 2 === 0 ? 4 : 10;
  }
}
// 400 input registers: 200 uint16 from 0, 200 int16 from 1000, runs of 16 (the last 8), 1–3 reserved between.
for (const [base, type, value] of [
  [0, 'uint16', { sine: { offset: 30_000, amplitude: 20_000, periodS: 8 } }],
  [1000, 'int16', { sine: { amplitude: 20_000, periodS: 11 } }],
] as const) {
  let a = base;
  for (let r = 0; r < 13; r++) a = run('input-register', a, type, r < 12 ? 16 : 8, value, '°C') + 1 + (r % 3);
}
// 100 coils and 100 discrete inputs: runs of 8, 8 unused bits between.
for (const area of ['coil', 'discrete-input'] as const) {
  for (let r = 0; r < 13; r++) run(area, 100 + 16 * r, 'bool', r < 12 ? 8 : 4, { toggle: { periodS: 2 + (r % 3) } });
}
if (tags.length !== 2000) throw new Error(`the map has ${tags.length} tags, not 2,000`);
const SIM_MAP: RegisterMapInput = { units: [{ unitId: UNIT, registers: simRegisters }] };

const device = (intervalMs: number): ModbusDeviceConfig => Value.Default(ModbusSourceSchema.properties.devices.items, { name: 'meters', unitId: UNIT, pollGroups: { [GROUP]: intervalMs }, tags }) as ModbusDeviceConfig;

const sourceConfig = (port: number, intervalMs: number, limits: ReadLimits): ModbusSourceConfig =>
  Value.Default(ModbusSourceSchema, {
    name: 'bench',
    type: 'modbus',
    address: `127.0.0.1:${port}`,
    timeoutMs: 1000,
    ...limits,
    deviceBackoff: { initialMs: 100, maxMs: 500 },
    reconnect: { initialMs: 50, maxMs: 200 },
    devices: [device(intervalMs)],
  }) as ModbusSourceConfig;

/** One read per tag: each tag planned alone (maxGap 0, maxRegistersPerRead = its size). */
const perTag = (resolved: readonly ResolvedTag[]): ReadPlan[] =>
  resolved.map((tag) => planReads([tag], { maxGap: 0, maxRegistersPerRead: tag.count, maxBitsPerRead: 1 })[0]!);

// ---------------------------------------------------------------------------------------------
// Part 1: planning

interface PlanRow {
  label: string;
  limits: string;
  requests: number;
  registersRead: number;
  registersMapped: number;
  /** Unmapped registers read in gaps ÷ mapped registers. */
  registerOverhead: number;
  bitsRead: number;
  bitsMapped: number;
  bitOverhead: number;
  /** Modbus TCP request + response ADUs of one cycle. */
  wireBytes: number;
  /** resolveDevice + planning, median, µs; and planning alone. */
  resolveAndPlanUs: number;
  planUs: number;
}

const wireBytes = (plans: readonly ReadPlan[]): number =>
  plans.reduce((n, p) => n + 12 + 9 + (isBitArea(p.area) ? Math.ceil(p.count / 8) : 2 * p.count), 0);

function timeUs(f: () => unknown, runs: number): number {
  for (let i = 0; i < Math.min(20, runs); i++) f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    xs.push((performance.now() - t0) * 1000);
  }
  return median(xs);
}

function planning(): { rows: PlanRow[]; coalesced: ReadPlan[]; single: ReadPlan[] } {
  const dev = device(1000);
  const { tags: resolved, problems } = resolveDevice(dev, COALESCED);
  if (problems.length > 0 || resolved.length !== 2000) throw new Error(`resolve: ${problems.map((p) => p.message).join('; ')}`);
  const registersMapped = resolved.filter((t) => !isBitArea(t.area)).reduce((n, t) => n + t.count, 0);
  const bitsMapped = resolved.filter((t) => isBitArea(t.area)).length;
  const specs: { label: string; limits: string; plan: (tags: readonly ResolvedTag[]) => ReadPlan[] }[] = [
    { label: 'coalesced (the defaults)', limits: 'maxGap 8, 125 registers, 2000 bits', plan: (t) => planReads(t, COALESCED) },
    { label: 'touching tags only', limits: 'maxGap 0, 125 registers, 2000 bits', plan: (t) => planReads(t, { ...COALESCED, maxGap: 0 }) },
    { label: 'one read per tag', limits: 'maxGap 0, maxRegistersPerRead = the tag size, 1 bit', plan: (t) => perTag(t) },
  ];
  const rows = specs.map((s): PlanRow => {
    const plans = s.plan(resolved);
    const sum = summarisePlan(plans);
    const registersRead = sum.groups.reduce((n, g) => n + g.registers, 0);
    const bitsRead = sum.groups.reduce((n, g) => n + g.bits, 0);
    return {
      label: s.label,
      limits: s.limits,
      requests: sum.requests,
      registersRead,
      registersMapped,
      registerOverhead: (registersRead - registersMapped) / registersMapped,
      bitsRead,
      bitsMapped,
      bitOverhead: (bitsRead - bitsMapped) / bitsMapped,
      wireBytes: wireBytes(plans),
      resolveAndPlanUs: timeUs(() => s.plan(resolveDevice(dev, COALESCED).tags), 200),
      planUs: timeUs(() => s.plan(resolved), 200),
    };
  });
  return { rows, coalesced: planReads(resolved, COALESCED), single: perTag(resolved) };
}

// ---------------------------------------------------------------------------------------------
// The simulator, in a child process

interface Child {
  process: ChildProcess;
  port: number;
  close(): Promise<void>;
}

async function startSimulator(dir: string): Promise<Child> {
  const mapFile = path.join(dir, 'map.json');
  await writeFile(mapFile, JSON.stringify(SIM_MAP));
  const child = spawn(process.execPath, [SIMULATOR, 'simulate', 'modbus', '--map', mapFile, '--listen', '127.0.0.1:0', '--seed', String(SEED), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
    exited.then((code) => {
      throw new Error(`the simulator exited (${code}) before serving: ${stderr}`);
    }),
  ]);
  const status = JSON.parse(line) as { tcp: string; points: number };
  return {
    process: child,
    port: Number(status.tcp.slice(status.tcp.lastIndexOf(':') + 1)),
    async close() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the simulator exited with ${code}: ${stderr}`);
      if (stderr.trim() !== '') console.log(`simulator stderr: ${stderr.trim()}`);
    },
  };
}

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) of a process, from /proc (NaN elsewhere). */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Probes (bench only): exact per-request latency, poll durations, tick times

/** Wall clock in ms with sub-ms resolution, aligned to Date.now's millisecond edge. */
function calibratedClock(): () => number {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  const offset = now - performance.now();
  return () => performance.now() + offset;
}

interface Probe {
  measuring: boolean;
  clock: () => number;
  /** unit:fc:address:count → tags in that read. */
  tagsByRead: Map<string, number>;
  latencyMs: number[];
  /** Latency of the first read of each poll (after the connection sat idle since the last poll). */
  firstLatencyMs: number[];
  firstOfPoll: boolean;
  okReads: number;
  failedReads: number;
  goodTags: number;
  pollMs: number[];
  /** Poll duration − the time on the wire, per poll: the gateway's own work and queueing. */
  outsideWireMs: number[];
  jitterMs: number[];
  ticks: number;
  /** Ticks whose Date.now-based jitter was negative (fired before the deadline). */
  earlyTicks: number;
  /** Ticks for a deadline already ticked. */
  repeatedDeadlines: number;
  deadlines: Set<string>;
  missed: number;
}

let probe: Probe | undefined;
const newProbe = (tagsByRead: Map<string, number>): Probe => ({
  measuring: false,
  clock: calibratedClock(),
  tagsByRead,
  latencyMs: [],
  firstLatencyMs: [],
  firstOfPoll: false,
  okReads: 0,
  failedReads: 0,
  goodTags: 0,
  pollMs: [],
  outsideWireMs: [],
  jitterMs: [],
  ticks: 0,
  earlyTicks: 0,
  repeatedDeadlines: 0,
  deadlines: new Set(),
  missed: 0,
});

const read = ModbusConnection.prototype.read;
ModbusConnection.prototype.read = async function (this: ModbusConnection, unitId: number, fc: ReadFunction, address: number, count: number): Promise<ReadResult> {
  const r = await read.call(this, unitId, fc, address, count);
  const p = probe;
  if (p?.measuring) {
    p.latencyMs.push((r.receivedUs - r.sentUs) / 1000);
    if (p.firstOfPoll) p.firstLatencyMs.push((r.receivedUs - r.sentUs) / 1000);
    p.firstOfPoll = false;
    if (r.ok) {
      p.okReads++;
      p.goodTags += p.tagsByRead.get(`${unitId}:${fc}:${address}:${count}`) ?? 0;
    } else p.failedReads++;
  }
  return r;
};

const poll = DevicePoller.prototype.poll;
DevicePoller.prototype.poll = async function (this: DevicePoller, group: string, connection: ModbusConnection): Promise<PollOutcome> {
  const t0 = performance.now();
  if (probe) probe.firstOfPoll = true;
  const out = await poll.call(this, group, connection);
  const ms = performance.now() - t0;
  if (probe?.measuring) {
    probe.pollMs.push(ms);
    probe.outsideWireMs.push(ms - out.latenciesUs.reduce((a, us) => a + us, 0) / 1000);
  }
  return out;
};

const wrapped = new WeakSet<PollSchedule>();
const start = PollSchedule.prototype.start;
PollSchedule.prototype.start = function (this: PollSchedule): void {
  if (!wrapped.has(this)) {
    wrapped.add(this);
    const self = this as unknown as { onTick: (tick: Tick) => void };
    const onTick = self.onTick;
    const interval = this.intervalMs;
    self.onTick = (tick: Tick): void => {
      const p = probe;
      if (p?.measuring) {
        p.jitterMs.push(p.clock() - tick.deadlineMs);
        p.ticks++;
        p.missed += tick.missed;
        if (tick.jitterMs < 0) p.earlyTicks++;
        const key = `${interval}:${tick.deadlineMs}`;
        if (p.deadlines.has(key)) p.repeatedDeadlines++;
        p.deadlines.add(key);
      }
      onTick(tick);
    };
  }
  start.call(this);
};

// ---------------------------------------------------------------------------------------------
// Part 2: the source, sustained

interface RunResult {
  label: string;
  coalesced: boolean;
  intervalMs: number;
  requestsPerCycle: number;
  measuredSeconds: number;
  polls: number;
  goodTagsPerSecond: number;
  requestsPerSecond: number;
  failedRequests: number;
  requestLatencyMs: Quantiles;
  firstRequestLatencyMs: Quantiles;
  pollDurationMs: Quantiles;
  /** Poll duration − its requests' time on the wire. */
  outsideWireMs: Quantiles;
  /** Of the poll interval. */
  pollBusyFraction: number;
  pollJitterMs: Quantiles;
  earlyTicks: number;
  repeatedDeadlines: number;
  skippedPolls: Record<string, number>;
  recordsPerSecond: number;
  goodRecordFraction: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  eventLoopUtilization: number;
  /** CPU seconds per wall second (1 = one core). */
  gatewayCpu: number;
  simulatorCpu: number;
}

async function counter(registry: Registry, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await registry.getSingleMetric(name)!.get()).values) {
    const key = String(v.labels.reason ?? v.labels.result ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

const delta = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));

async function sustained(sim: Child, label: string, intervalMs: number, coalesced: boolean): Promise<RunResult> {
  const registry = new Registry();
  let records = 0;
  let goodRecords = 0;
  let measuring = false;
  const source = new ModbusSource(sourceConfig(sim.port, intervalMs, coalesced ? COALESCED : { ...COALESCED, maxGap: 0 }), {
    log: pino({ level: 'silent' }),
    registry,
    emit: (rs: SourceRecord[]) => {
      if (measuring) {
        records += rs.length;
        for (const r of rs) if (r.quality === 0) goodRecords++;
      }
      return true;
    },
    onResume: () => () => {},
  });
  // No coalescing: the device's plans replaced by one read per tag (the config cannot say so).
  if (!coalesced) for (const d of source.devices) for (const [group, plans] of d.plans) d.plans.set(group, perTag(plans.flatMap((p) => p.tags.map((t) => t.tag))));
  const tagsByRead = new Map<string, number>();
  let requestsPerCycle = 0;
  for (const d of source.devices) {
    for (const plans of d.plans.values()) {
      requestsPerCycle += plans.length;
      for (const p of plans) tagsByRead.set(`${d.unitId}:${p.functionCode}:${p.address}:${p.count}`, p.tags.length);
    }
  }
  probe = newProbe(tagsByRead);
  const p = probe;
  await source.start();
  await new Promise((r) => setTimeout(r, WARMUP * 1000));

  const eld = monitorEventLoopDelay({ resolution: 1 });
  const skipped0 = await counter(registry, 'gridgate_modbus_skipped_polls_total');
  const simCpu0 = await cpuSeconds(sim.process.pid!);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  eld.enable();
  measuring = true;
  p.measuring = true;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  p.measuring = false;
  measuring = false;
  const wall = (performance.now() - t0) / 1000;
  eld.disable();
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const simCpu = (await cpuSeconds(sim.process.pid!)) - simCpu0;
  const skipped = delta(await counter(registry, 'gridgate_modbus_skipped_polls_total'), skipped0);
  await source.stop(new Deadline(3000));
  const eldMs = (q: number): number => Math.max(0, eld.percentile(q) / 1e6 - 1);
  return {
    label,
    coalesced,
    intervalMs,
    requestsPerCycle,
    measuredSeconds: wall,
    polls: p.pollMs.length,
    goodTagsPerSecond: p.goodTags / wall,
    requestsPerSecond: (p.okReads + p.failedReads) / wall,
    failedRequests: p.failedReads,
    requestLatencyMs: quantiles(p.latencyMs),
    firstRequestLatencyMs: quantiles(p.firstLatencyMs),
    pollDurationMs: quantiles(p.pollMs),
    outsideWireMs: quantiles(p.outsideWireMs),
    pollBusyFraction: p.pollMs.reduce((a, b) => a + b, 0) / (wall * 1000),
    pollJitterMs: quantiles(p.jitterMs),
    earlyTicks: p.earlyTicks,
    repeatedDeadlines: p.repeatedDeadlines,
    skippedPolls: skipped,
    recordsPerSecond: records / wall,
    goodRecordFraction: records === 0 ? Number.NaN : goodRecords / records,
    eventLoopDelayMs: { p50: eldMs(50), p99: eldMs(99), max: Math.max(0, eld.max / 1e6 - 1) },
    eventLoopUtilization: elu.utilization,
    gatewayCpu: (cpu.user + cpu.system) / 1e6 / wall,
    simulatorCpu: simCpu / wall,
  };
}

// ---------------------------------------------------------------------------------------------
// Reference: a bare modbus-serial client loop, the same reads, no decoding, no records

interface BareResult {
  label: string;
  /** Back to back, or one pass every intervalMs on the k·interval grid (as the source polls). */
  intervalMs: number | null;
  requestsPerCycle: number;
  seconds: number;
  requestsPerSecond: number;
  /** Tags those reads cover, per second (read, not decoded). */
  tagsPerSecond: number;
  latencyMs: Quantiles;
  /** First read of each pass. */
  firstRequestLatencyMs: Quantiles;
  /** One pass over the plan. */
  cycleMs: Quantiles;
  /** Paced: how late each pass started after its deadline (setTimeout, the calibrated clock). */
  jitterMs: Quantiles | null;
  gatewayCpu: number;
  simulatorCpu: number;
}

const ModbusRTU = modbusSerial as unknown as new () => Client;

/** The same reads from a bare modbus-serial client on its own connection: back to back, or paced. */
async function bare(sim: Child, label: string, plans: readonly ReadPlan[], seconds: number, intervalMs: number | null = null): Promise<BareResult> {
  const client = new ModbusRTU();
  client.setTimeout(1000);
  await client.connectTCP('127.0.0.1', { port: sim.port, timeout: 1000 });
  const once = (p: ReadPlan): Promise<void> =>
    new Promise((resolve, reject) => {
      const done = (err: unknown): void => (err ? reject(err as Error) : resolve());
      if (p.functionCode === 1) client.writeFC1(UNIT, p.address, p.count, done);
      else if (p.functionCode === 2) client.writeFC2(UNIT, p.address, p.count, done);
      else if (p.functionCode === 3) client.writeFC3(UNIT, p.address, p.count, done);
      else client.writeFC4(UNIT, p.address, p.count, done);
    });
  // Warm-up: one second back to back.
  for (let end = performance.now() + 1000; performance.now() < end; ) for (const p of plans) await once(p);
  const clock = calibratedClock();
  const latency: number[] = [];
  const first: number[] = [];
  const cycles: number[] = [];
  const jitter: number[] = [];
  let tagsRead = 0;
  const simCpu0 = await cpuSeconds(sim.process.pid!);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let deadline = intervalMs === null ? 0 : (Math.floor(Date.now() / intervalMs) + 1) * intervalMs;
  while (performance.now() < end) {
    if (intervalMs !== null) {
      // Sleep to the deadline; a timer that fires early (by Date.now) sleeps again.
      while (Date.now() < deadline) await new Promise((r) => setTimeout(r, deadline - Date.now()));
      jitter.push(clock() - deadline);
      deadline = (Math.floor(Date.now() / intervalMs) + 1) * intervalMs;
    }
    const c0 = performance.now();
    for (let i = 0; i < plans.length; i++) {
      const r0 = performance.now();
      await once(plans[i]!);
      const ms = performance.now() - r0;
      latency.push(ms);
      if (i === 0) first.push(ms);
      tagsRead += plans[i]!.tags.length;
    }
    cycles.push(performance.now() - c0);
  }
  // Paced: the passes' share of the grid (the loop's last pass may start after `end`).
  const wall = intervalMs === null ? (performance.now() - t0) / 1000 : (cycles.length * intervalMs) / 1000;
  const cpuWall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const simCpu = (await cpuSeconds(sim.process.pid!)) - simCpu0;
  await new Promise<void>((resolve) => client.close(() => resolve()));
  return {
    label,
    intervalMs,
    requestsPerCycle: plans.length,
    seconds: wall,
    requestsPerSecond: latency.length / wall,
    tagsPerSecond: tagsRead / wall,
    latencyMs: quantiles(latency),
    firstRequestLatencyMs: quantiles(first),
    cycleMs: quantiles(cycles),
    jitterMs: intervalMs === null ? null : quantiles(jitter),
    gatewayCpu: (cpu.user + cpu.system) / 1e6 / cpuWall,
    simulatorCpu: simCpu / cpuWall,
  };
}

// ---------------------------------------------------------------------------------------------

const cores = os.availableParallelism();
const host = machine();
console.log(`2,000-tag map (one device): ${host}, not pinned; simulator: node ${SIMULATOR} simulate modbus in a child process, loopback TCP`);

const plan = planning();
console.log('\nPart 1: planning (no I/O)');
for (const r of plan.rows) {
  console.log(
    `  ${r.label.padEnd(26)} ${fmt(r.requests).padStart(5)} requests/cycle, registers read ${fmt(r.registersRead)} for ${fmt(r.registersMapped)} mapped (+${fmt(100 * r.registerOverhead, 1)}%), ` +
      `bits ${fmt(r.bitsRead)} for ${fmt(r.bitsMapped)} (+${fmt(100 * r.bitOverhead, 1)}%), ${fmt(r.wireBytes)} bytes on the wire; plan ${fmt(r.planUs)} µs, resolve + plan ${fmt(r.resolveAndPlanUs)} µs`,
  );
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gridgate-bench-modbus-'));
const sim = await startSimulator(dir);
const runs: RunResult[] = [];
const references: BareResult[] = [];
/** Table rows in the order measured: the source's runs with the references beside them. */
const order: (RunResult | BareResult)[] = [];
const isRun = (x: RunResult | BareResult): x is RunResult => 'polls' in x;
const q = (x: Quantiles, digits = 2): string => `${fmt(x.p50, digits)} / ${fmt(x.p99, digits)}`;
const label = (ms: number): string => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);
const fastestMs = Math.min(...INTERVALS);

async function reference(name: string, plans: readonly ReadPlan[], seconds: number, intervalMs: number | null = null): Promise<void> {
  const b = await bare(sim, name, plans, seconds, intervalMs);
  references.push(b);
  order.push(b);
  console.log(
    `  ${b.label.padEnd(40)} ${fmt(b.requestsPerSecond)} requests/s (${fmt(b.tagsPerSecond)} tags/s read), latency p50/p99 ${q(b.latencyMs, 3)} ms (first of a pass ${q(b.firstRequestLatencyMs, 3)} ms), ` +
      `one pass over the ${b.requestsPerCycle} reads ${q(b.cycleMs)} ms${b.jitterMs ? `, start jitter p50/p99/max ${q(b.jitterMs, 3)} / ${fmt(b.jitterMs.max, 3)} ms` : ''}; ` +
      `CPU client ${fmt(100 * b.gatewayCpu, 1)}%, simulator ${fmt(100 * b.simulatorCpu, 1)}%`,
  );
}

try {
  console.log(
    `\nPart 2: sustained, ${WARMUP} s warm-up + ${SECONDS} s per configuration (simulator on 127.0.0.1:${sim.port}, pid ${sim.process.pid}); ` +
      `references: a bare modbus-serial loop, ${REFERENCE_SECONDS} s back to back, ${PACED_SECONDS} s paced`,
  );
  const specs = [
    ...INTERVALS.map((ms) => ({ label: `coalesced, ${label(ms)}`, ms, coalesced: true })),
    { label: `one read per tag, ${label(UNCOALESCED_INTERVAL)}`, ms: UNCOALESCED_INTERVAL, coalesced: false },
  ];
  for (const s of specs) {
    const r = await sustained(sim, s.label, s.ms, s.coalesced);
    runs.push(r);
    order.push(r);
    console.log(
      `  ${r.label.padEnd(40)} ${fmt(r.goodTagsPerSecond)} good tags/s, ${fmt(r.requestsPerSecond)} requests/s (${r.requestsPerCycle}/cycle, ${r.failedRequests} failed), ` +
        `latency p50/p99 ${q(r.requestLatencyMs, 3)} ms (first of a poll ${q(r.firstRequestLatencyMs, 3)} ms); ` +
        `poll ${q(r.pollDurationMs)} ms (outside the wire ${q(r.outsideWireMs)} ms, busy ${fmt(100 * r.pollBusyFraction, 1)}%), ${r.polls} polls\n` +
        `  ${''.padEnd(40)} jitter p50/p99/max ${q(r.pollJitterMs, 3)} / ${fmt(r.pollJitterMs.max, 3)} ms (${r.pollJitterMs.count} ticks, ${r.earlyTicks} early, ${r.repeatedDeadlines} for a deadline already ticked), ` +
        `skipped ${JSON.stringify(r.skippedPolls)}; ${fmt(r.recordsPerSecond)} records/s (${fmt(100 * r.goodRecordFraction, 1)}% good); ` +
        `event-loop delay p99/max ${fmt(r.eventLoopDelayMs.p99, 2)} / ${fmt(r.eventLoopDelayMs.max, 2)} ms, ELU ${fmt(100 * r.eventLoopUtilization, 1)}%; CPU gateway ${fmt(100 * r.gatewayCpu, 1)}%, simulator ${fmt(100 * r.simulatorCpu, 1)}%`,
    );
    // The references right after the runs they compare with (the machine's load drifts).
    if (s.coalesced && s.ms === fastestMs) {
      await reference(`bare loop, coalesced reads, every ${label(fastestMs)}`, plan.coalesced, PACED_SECONDS, fastestMs);
      await reference('bare loop, coalesced reads, back to back', plan.coalesced, REFERENCE_SECONDS);
    }
    if (!s.coalesced) {
      await reference(`bare loop, one read per tag, every ${label(s.ms)}`, plan.single, PACED_SECONDS, s.ms);
      await reference('bare loop, one read per tag, back to back', plan.single, REFERENCE_SECONDS);
    }
  }
} finally {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The side-by-side table

const ms = (x: number, d = 2): string => fmt(x, d);
const head =
  '| configuration | requests / cycle | good tags/s | requests/s | request latency p50 / p99 (first of a poll p50 / p99) | one poll p50 / p99 | poll jitter p50 / p99 / max | skipped polls | records/s | event-loop delay p99 | CPU gateway / simulator |';
const rule = '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
const skippedText = (r: RunResult): string => {
  const overrun = r.skippedPolls.overrun ?? 0;
  const other = Object.entries(r.skippedPolls).filter(([k]) => k !== 'overrun');
  const parts = [`${fmt(overrun)} overrun${r.repeatedDeadlines > 0 ? ` (${fmt(r.repeatedDeadlines)} of ${fmt(r.pollJitterMs.count)} ticks repeated a deadline)` : ''}`];
  for (const [k, v] of other) parts.push(`${fmt(v)} ${k}`);
  return parts.join(', ');
};
const rows = order.map((x) =>
  isRun(x)
    ? `| ${x.label} | ${fmt(x.requestsPerCycle)} | ${fmt(x.goodTagsPerSecond)} | ${fmt(x.requestsPerSecond)} | ${ms(x.requestLatencyMs.p50, 3)} / ${ms(x.requestLatencyMs.p99, 3)} ms (${ms(x.firstRequestLatencyMs.p50, 3)} / ${ms(x.firstRequestLatencyMs.p99, 3)}) | ` +
      `${ms(x.pollDurationMs.p50)} / ${ms(x.pollDurationMs.p99)} ms | ${ms(x.pollJitterMs.p50)} / ${ms(x.pollJitterMs.p99)} / ${ms(x.pollJitterMs.max)} ms | ` +
      `${skippedText(x)} | ${fmt(x.recordsPerSecond)} | ${ms(x.eventLoopDelayMs.p99)} ms | ${fmt(100 * x.gatewayCpu, 1)}% / ${fmt(100 * x.simulatorCpu, 1)}% |`
    : `| reference: ${x.label} | ${fmt(x.requestsPerCycle)} | ${fmt(x.tagsPerSecond)} read, not decoded | ${fmt(x.requestsPerSecond)} | ${ms(x.latencyMs.p50, 3)} / ${ms(x.latencyMs.p99, 3)} ms (${ms(x.firstRequestLatencyMs.p50, 3)} / ${ms(x.firstRequestLatencyMs.p99, 3)}) | ` +
      `${ms(x.cycleMs.p50)} / ${ms(x.cycleMs.p99)} ms | ${x.jitterMs ? `${ms(x.jitterMs.p50)} / ${ms(x.jitterMs.p99)} / ${ms(x.jitterMs.max)} ms` : ''} | | | | ${fmt(100 * x.gatewayCpu, 1)}% / ${fmt(100 * x.simulatorCpu, 1)}% |`,
);
console.log(`\n${head}\n${rule}\n${rows.join('\n')}`);

const paced = references.find((b) => b.intervalMs === fastestMs && b.requestsPerCycle === plan.coalesced.length);
const singleRef = references.find((b) => b.intervalMs === UNCOALESCED_INTERVAL && b.requestsPerCycle === plan.single.length);
const fastest = runs.find((r) => r.coalesced && r.intervalMs === fastestMs);
const uncoalesced = runs.find((r) => !r.coalesced);
const coalescedRun = runs.find((r) => r.coalesced && r.intervalMs === UNCOALESCED_INTERVAL);
const notes: string[] = [];
if (fastest && paced) {
  notes.push(
    `Gateway overhead: ${fastest.label}, one poll ${ms(fastest.pollDurationMs.p50)} ms (p50) against ${ms(paced.cycleMs.p50)} ms for the bare loop's pass over the same ${paced.requestsPerCycle} reads on the same grid (× ${fmt(fastest.pollDurationMs.p50 / paced.cycleMs.p50, 2)}); ` +
      `${ms(fastest.outsideWireMs.p50)} ms of the poll is outside the requests' time on the wire (decoding 2,000 tags, building records, the promise chain): ${fmt((fastest.outsideWireMs.p50 * 1000) / 2000, 2)} µs per tag.`,
  );
}
if (uncoalesced && singleRef) {
  notes.push(
    `${uncoalesced.label}: one poll ${ms(uncoalesced.pollDurationMs.p50)} ms against ${ms(singleRef.cycleMs.p50)} ms for the bare loop on the same grid (× ${fmt(uncoalesced.pollDurationMs.p50 / singleRef.cycleMs.p50, 2)})` +
      (coalescedRun ? `; coalescing cuts the poll at 1 s from ${ms(uncoalesced.pollDurationMs.p50)} to ${ms(coalescedRun.pollDurationMs.p50)} ms and the requests ${fmt(uncoalesced.requestsPerCycle / coalescedRun.requestsPerCycle, 0)}-fold.` : '.'),
  );
}
if (fastest && paced) {
  notes.push(
    `The first read of a poll, after the connection sat idle since the previous poll, takes ${ms(fastest.firstRequestLatencyMs.p50, 3)} ms (p50, ${fastest.label}) against ${ms(fastest.requestLatencyMs.p50, 3)} ms over all reads; ` +
      `the bare loop on the same grid sees the same (${ms(paced.firstRequestLatencyMs.p50, 3)} ms): the wake-up of both processes, not the gateway's doing.`,
  );
  const b2b = references.find((b) => b.intervalMs === null && b.requestsPerCycle === paced.requestsPerCycle);
  if (b2b && b2b.cycleMs.p50 > paced.cycleMs.p50) {
    notes.push(
      `Back to back, the bare loop's pass over the ${b2b.requestsPerCycle} reads took ${ms(b2b.cycleMs.p50)} ms against ${ms(paced.cycleMs.p50)} ms paced: sustained load with both processes busy (${cores} cores, not pinned) is slower per request than a burst, ` +
        `so the paced references are the ones to compare the source's polls with; the back-to-back rows give the request rate one connection reaches.`,
    );
  }
}
if (runs.some((r) => r.repeatedDeadlines > 0)) {
  notes.push(
    `Repeated deadlines: PollSchedule arms its timer from Date.now() but Node's timers run on the monotonic loop clock (whole ms), so a timer can fire up to about 1 ms before the deadline by Date.now(); #fire then ticks ` +
      `(jitter −1 ms) and re-arms for the same deadline, which ticks again: ${runs.map((r) => `${r.label} ${r.repeatedDeadlines} of ${r.pollJitterMs.count}`).join(', ')} ticks. ` +
      `The second tick finds the first poll running and is counted as a skipped overrun (a poll that already finished would run twice).`,
  );
}
const planTable = [
  '| plan | limits | requests / cycle | registers read (mapped) | unmapped registers read | bits read (mapped) | bytes on the wire / cycle (Modbus TCP) | planning, median (with resolveDevice) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...plan.rows.map(
    (r) =>
      `| ${r.label} | ${r.limits} | ${fmt(r.requests)} | ${fmt(r.registersRead)} (${fmt(r.registersMapped)}) | ${fmt(r.registersRead - r.registersMapped)} (+${fmt(100 * r.registerOverhead, 1)}%) | ` +
      `${fmt(r.bitsRead)} (${fmt(r.bitsMapped)}) | ${fmt(r.wireBytes)} | ${fmt(r.planUs)} µs (${fmt(r.resolveAndPlanUs)} µs) |`,
  ),
];
const markdown = [
  '## Modbus polling (bench/modbus.ts)',
  '',
  `A 2,000-tag map on one device (unit 1): 1,200 float32 holding registers (24 blocks of 50, sub-blocks of 10 with 2–6 reserved registers between), 196 int32/uint32 (14 runs of 14, gaps of 4 and 10), ` +
    `400 uint16/int16 input registers (runs of 16, 1–3 reserved between), 100 coils and 100 discrete inputs (runs of 8, 8 bits apart), 4 strings of 8 registers. ` +
    `On ${host}, not pinned, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '### Requests per poll cycle (planning, no I/O)',
  '',
  ...planTable,
  '',
  '### Sustained polling against the simulator',
  '',
  `The real ModbusSource (one connection, one request at a time) polling \`gridgate simulate modbus\` in a child process over loopback TCP; values are sines, counters and toggles. ` +
    `${fmt(WARMUP)} s warm-up, then ${fmt(SECONDS)} s measured per configuration. "One read per tag": the source's plans replaced by per-tag plans after construction. ` +
    `Request latency and poll jitter are exact per request and per tick (probes on ModbusConnection.read and on each PollSchedule's onTick with a sub-millisecond clock), not the source's histograms. ` +
    `References, in the same run, right after the runs they compare with: a bare modbus-serial client (callback API, no decoding, no records) issuing the same reads on its own connection, ` +
    `paced on the run's own k·interval grid (${fmt(PACED_SECONDS)} s; its start jitter in the jitter column) and back to back (${fmt(REFERENCE_SECONDS)} s); its "poll" is one pass over the reads. CPU is a share of one core (${cores} cores).`,
  '',
  head,
  rule,
  ...rows,
  '',
  ...notes.flatMap((n) => [n, '']),
].join('\n');

await writeResults(
  'modbus',
  {
    machine: host,
    cores,
    pinned: false,
    date: new Date().toISOString(),
    tags: tags.length,
    warmupSeconds: WARMUP,
    seconds: SECONDS,
    referenceSeconds: REFERENCE_SECONDS,
    pacedSeconds: PACED_SECONDS,
    simulator: `node ${SIMULATOR} simulate modbus (child process), seed ${SEED}`,
    limits: COALESCED,
    planning: plan.rows,
    sustained: runs,
    reference: references,
  },
  markdown,
);
console.log('\nwrote bench/results/modbus.json and the modbus section of bench/RESULTS.md');
