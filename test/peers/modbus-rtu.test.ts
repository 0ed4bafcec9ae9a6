// Modbus RTU on a serial line without hardware: a socat pty pair (test/helpers/pty.ts), a server on
// one end, our source (transport rtu: modbus-serial's connectRTUBuffered, 19200 baud, even parity)
// on the other. One bus, several units, one request at a time:
//   (a) an independent RTU server, pymodbus 3 (test/peers/reference/modbus_server.py) serving a
//       healthy unit 1, with unit 3 dead (configured, never answers);
//   (b) the same bus served by our simulator, plus a slow unit 2 (answers 40 ms late, under the
//       120 ms timeout).
// The fault under test (issue: "bus with one dead unit among healthy ones"): the dead unit costs
// the bus one timeout per back-off, not one per poll, so the healthy units keep their 200 ms
// schedule. Counted over a 3 s window that starts at their first good read: ≥ 80 % of the 15
// polls a perfect schedule makes, by our request counter, with the wire's count (the server's) to
// match. The dead unit: comms_failure (timeout), degraded, its polls skipped as `degraded`.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { ModbusSourceSchema, type ModbusSourceConfig } from '../../src/protocols/modbus/config.js';
import type { RegisterMapInput } from '../../src/protocols/modbus/simulator/map-schema.js';
import { startModbusSimulator } from '../../src/protocols/modbus/simulator/simulator.js';
import { ptyPair, type PtyPair } from '../helpers/pty.js';
import { type ModbusHarness as Harness, modbusHarness as harness, type PymodbusPeer as Peer, startPymodbus } from '../helpers/modbus-peer.js';
import { until } from '../helpers/wait.js';

const BAUD = 19_200;
const POLL_MS = 200;
const TIMEOUT_MS = 120;
const SLOW_MS = 40;
const WINDOW_MS = 3000;
/** Polls a perfect schedule makes in the window, and the share we require. */
const EXPECTED_POLLS = WINDOW_MS / POLL_MS;
const MIN_SHARE = 0.8;
const BACKOFF = { initialMs: 1000, maxMs: 2000 };

// ---------------------------------------------------------------------------------------------
// The bus: unit 1 healthy (meter), unit 2 slow (simulator only), unit 3 dead.

const tag = (name: string, area: string, address: number, type: string, extra: Record<string, unknown> = {}) => ({ name, area, address, type, group: 'fast', ...extra });
const METER_TAGS = [
  tag('v', 'holding-register', 0, 'float32', { order: 'CDAB', unit: 'V' }),
  tag('e', 'holding-register', 2, 'int32', { scale: 0.01, unit: 'kWh' }),
  tag('flags', 'holding-register', 4, 'uint16', { order: 'BADC' }),
  tag('alarm', 'coil', 0, 'bool'),
];
const METER_VALUES = { v: 230.5, e: -1234.56, flags: 0x1234, alarm: true };
const device = (name: string, unitId: number, tags: unknown[]) => ({ name, unitId, pollGroups: { fast: POLL_MS }, tags });
const METER = device('meter', 1, METER_TAGS);
const SLOW = device('slow', 2, [tag('f', 'input-register', 0, 'float32', { unit: 'Hz' })]);
const DEAD = device('dead', 3, [tag('x', 'holding-register', 0, 'uint16')]);

function sourceConfig(path: string, devices: unknown[]): ModbusSourceConfig {
  return Value.Default(ModbusSourceSchema, {
    name: 'bus',
    type: 'modbus',
    transport: 'rtu',
    serial: { path, baudRate: BAUD, parity: 'even' },
    timeoutMs: TIMEOUT_MS,
    deviceBackoff: BACKOFF,
    reconnect: { initialMs: 50, maxMs: 200 },
    devices,
  }) as ModbusSourceConfig;
}

/** One device's counters over the window. */
interface DeviceWindow {
  /** Polls made (reads ÷ reads per poll), and of them those that read good. */
  polls: number;
  good: number;
  timeouts: number;
  skipped: { degraded: number; overrun: number; paused: number };
  /** Polls made + polls skipped: one per deadline, since every tick either polls or skips. */
  ticks: number;
}

interface BusRun {
  h: Harness;
  /** Poll deadlines (multiples of POLL_MS) that fell in the window. */
  deadlines: number;
  window: Record<string, DeviceWindow>;
  /** Over the window, sampled every 50 ms: did the gauge / readiness ever show the device degraded? */
  degradedSeen: Set<string>;
  readinessSaw: string[];
  /** Totals at the end, after the source stopped. */
  total: (device: string, result: string) => Promise<number>;
}

const RESULTS = ['ok', 'exception', 'timeout', 'malformed', 'closed'] as const;
const SKIP_REASONS = ['degraded', 'overrun', 'paused'] as const;

/** Poll the bus: wait for the healthy devices' first good reads, then measure a WINDOW_MS window. */
async function runBus(t: TestContext, path: string, devices: { name: string }[], healthy: string[]): Promise<BusRun> {
  const h = await harness(sourceConfig(path, devices));
  try {
    const ok = (d: string) => h.metric('gridgate_modbus_requests_total', { device: d, result: 'ok' });
    const snapshot = async (): Promise<Record<string, Record<string, number>>> => {
      const out: Record<string, Record<string, number>> = {};
      for (const { name } of devices) {
        out[name] = {};
        for (const r of RESULTS) out[name]![r] = await h.metric('gridgate_modbus_requests_total', { device: name, result: r });
        for (const r of SKIP_REASONS) out[name]![`skip-${r}`] = await h.metric('gridgate_modbus_skipped_polls_total', { device: name, reason: r });
      }
      return out;
    };
    await until(async () => (await Promise.all(healthy.map(ok))).every((n) => n > 0), `first good reads of ${healthy.join(', ')}`, 10_000);
    const startMs = Date.now();
    const before = await snapshot();
    const degradedSeen = new Set<string>();
    const readinessSaw = new Set<string>();
    while (Date.now() < startMs + WINDOW_MS) {
      for (const d of devices) if ((await h.metric('gridgate_modbus_device_degraded', { device: d.name })) === 1) degradedSeen.add(d.name);
      readinessSaw.add(h.readiness().detail ?? 'ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = await snapshot();
    const endMs = Date.now();
    const window: Record<string, DeviceWindow> = {};
    for (const { name } of devices) {
      const delta = (k: string): number => after[name]![k]! - before[name]![k]!;
      const reads = RESULTS.reduce((n, r) => n + delta(r), 0);
      const perPoll = h.readsPerPoll(name);
      // A failed read ends a poll early (timeout, closed): count such polls once.
      const polls = delta('ok') / perPoll + delta('timeout') + delta('closed') + (reads - delta('ok') - delta('timeout') - delta('closed')) / perPoll;
      const skipped = { degraded: delta('skip-degraded'), overrun: delta('skip-overrun'), paused: delta('skip-paused') };
      window[name] = { polls, good: delta('ok') / perPoll, timeouts: delta('timeout'), skipped, ticks: polls + skipped.degraded + skipped.overrun + skipped.paused };
    }
    const run: BusRun = {
      h,
      deadlines: Math.floor(endMs / POLL_MS) - Math.floor(startMs / POLL_MS),
      window,
      degradedSeen,
      readinessSaw: [...readinessSaw],
      total: (d, result) => h.metric('gridgate_modbus_requests_total', { device: d, result }),
    };
    t.diagnostic(`${endMs - startMs} ms window at ${POLL_MS} ms polls, ${run.deadlines} deadlines: ${JSON.stringify(window)}`);
    return run;
  } finally {
    await h.stop();
  }
}

/** What both servers must show: values, qualities, the schedule kept, the dead unit backed off. */
function assertBus(run: BusRun, healthy: string[]): void {
  for (const [name, want] of Object.entries(METER_VALUES)) {
    const [first] = run.h.of(`meter/${name}`);
    assert.deepEqual(first?.quality, [], `meter/${name} good`);
    if (name === 'e') assert.ok(Math.abs(first!.value - (want as number)) < 1e-9, `meter/e ${first!.value}`);
    else assert.equal(first!.value, want, `meter/${name}`);
    assert.equal(first!.modbus.unitId, 1);
  }
  for (const d of healthy) {
    const w = run.window[d]!;
    assert.ok(w.good >= MIN_SHARE * EXPECTED_POLLS, `${d} kept its schedule: ${w.good} good polls of ${EXPECTED_POLLS} in ${WINDOW_MS} ms (need ≥ ${MIN_SHARE * EXPECTED_POLLS})`);
    // Never a failure of its own: the dead neighbour's timeouts delay it, never fail it.
    assert.ok(!run.h.records.some((r) => r.stream.startsWith(`${d}/`) && r.quality !== 0), `${d}: every record good`);
    assert.ok(!run.degradedSeen.has(d), `${d} never degraded`);
  }
  // One tick per deadline and device: each polls or is skipped, once. Every poll here ends well
  // within the interval (a healthy read ≈ 5 ms, the slow one ≈ 45 ms, a timeout 120 ms: 170 ms
  // at worst, one after the other, < 200 ms), so no poll may still be running at its next
  // deadline: an `overrun`, or more ticks than deadlines, is a deadline that ticked twice.
  // (It did: schedule.ts #fire, with a timer that fired ~1 ms early by the wall clock, armed the
  // same deadline again and ticked it twice; an overrun or an extra poll in most runs.)
  for (const [d, w] of Object.entries(run.window)) {
    assert.equal(w.skipped.overrun, 0, `${d}: ${w.skipped.overrun} polls skipped as overrun though every poll ends within the interval: a deadline ticked twice (schedule.ts #fire)`);
    assert.ok(w.ticks <= run.deadlines + 1, `${d}: ${w.ticks} polls and skips for ${run.deadlines} deadlines: a deadline ticked twice (schedule.ts #fire)`);
  }
  const dead = run.h.of('dead/x');
  assert.ok(dead.length >= 1);
  assert.deepEqual(dead[0]!.quality, ['comms_failure']);
  assert.equal(dead[0]!.error.kind, 'timeout');
  assert.equal(dead[0]!.value, null);
  assert.ok(dead.every((b) => b.quality.includes('comms_failure')), 'the dead unit never reads good');
  // Backed off: asked about once per 0.5–2 s back-off, not at every one of the 15 polls.
  const w = run.window.dead!;
  assert.ok(w.timeouts >= 1 && w.timeouts <= 5, `dead unit asked ${w.timeouts} times in the window`);
  assert.ok(w.skipped.degraded >= run.deadlines - 5 - 1, `dead unit polls skipped as degraded: ${w.skipped.degraded}`);
  assert.ok(run.degradedSeen.has('dead'), 'gridgate_modbus_device_degraded{device="dead"} was 1');
  assert.ok(run.readinessSaw.includes('degraded: dead'), `readiness reported the dead unit: ${run.readinessSaw.join(' | ')}`);
}

describe('Modbus RTU on a serial line (socat pty pair, 19200 baud, even parity): one dead unit among healthy ones', () => {
  it('(a) against pymodbus: the healthy unit decodes and keeps its schedule, the dead unit times out and is backed off', async (t) => {
    const pair: PtyPair = await ptyPair();
    let peer: Peer | undefined;
    try {
      peer = await startPymodbus({
        serial: { path: pair.a, baudRate: BAUD, parity: 'even' },
        units: [
          {
            unitId: 1,
            holding: [
              { address: 0, type: 'float32', order: 'CDAB', value: 230.5 },
              { address: 2, type: 'int32', value: -123456 },
              { address: 4, type: 'uint16', order: 'BADC', value: 0x1234 },
            ],
            coils: [{ address: 0, values: [true] }],
          },
          { unitId: 3, holding: [{ address: 0, type: 'uint16', value: 7 }] },
        ],
        dead: [3],
      });
      const run = await runBus(t, pair.b, [METER, DEAD], ['meter']);
      const stats = await peer.stop();
      peer = undefined;
      assertBus(run, ['meter']);
      // The server's end of the pty as the kernel holds it: 19200 8E1, or 8N1 where the kernel
      // refuses parity on a pty (modbus_server.py accept_parity_on_ptys; bytes are the same).
      const line = stats.line!;
      t.diagnostic(`pymodbus end of the pty: ${JSON.stringify(line)}`);
      assert.deepEqual([line.baudRate, line.dataBits, line.stopBits], [BAUD, 8, 1]);
      assert.equal(line.parity, line.parityRefusedByKernel ? 'none' : 'even');
      // The wire agrees: pymodbus answered every read of unit 1 we counted good, and every read of
      // unit 3 reached it and went unanswered (one more when a read was in flight at the stop).
      assert.deepEqual(stats.writes, []);
      assert.deepEqual(stats.exceptions, {});
      const answered = stats.answered['1'] ?? 0;
      const good = await run.total('meter', 'ok');
      assert.ok(answered - good >= 0 && answered - good <= 1, `unit 1: pymodbus answered ${answered} reads, we counted ${good} good`);
      const dropped = stats.dropped['3'] ?? 0;
      const timeouts = await run.total('dead', 'timeout');
      assert.ok(dropped - timeouts >= 0 && dropped - timeouts <= 1, `unit 3: ${dropped} requests on the wire, ${timeouts} timeouts counted`);
    } finally {
      await peer?.stop().catch(() => undefined);
      await pair.close();
    }
  });

  it('(b) against our simulator, with a slow unit too: the slow unit reads good with its delay in the latency, both healthy units keep their schedule', async (t) => {
    const pair: PtyPair = await ptyPair();
    const map: RegisterMapInput = {
      units: [
        {
          unitId: 1,
          registers: [
            { address: 0, type: 'float32', order: 'CDAB', value: 230.5 },
            { address: 2, type: 'int32', value: -123456 },
            { address: 4, type: 'uint16', order: 'BADC', value: 0x1234 },
            { area: 'coil', address: 0, value: true },
          ],
        },
        { unitId: 2, registers: [{ area: 'input-register', address: 0, type: 'float32', value: 50.02 }], delayMs: SLOW_MS },
        { unitId: 3, registers: [{ address: 0, type: 'uint16', value: 7 }], dead: true },
      ],
    };
    const sim = await startModbusSimulator({ map, listen: null, serial: { path: pair.a, baudRate: BAUD, parity: 'even' }, log: pino({ level: 'silent' }), seed: 1 });
    try {
      const run = await runBus(t, pair.b, [METER, SLOW, DEAD], ['meter', 'slow']);
      assertBus(run, ['meter', 'slow']);
      const [slow] = run.h.of('slow/f');
      assert.ok(Math.abs(slow!.value - 50.02) < 1e-5, `slow/f ${slow!.value}`);
      const [meter] = run.h.of('meter/v');
      assert.ok(slow!.latencyUs >= SLOW_MS * 1000 && slow!.latencyUs < TIMEOUT_MS * 1000, `slow unit latency ${slow!.latencyUs} µs: its ${SLOW_MS} ms delay, under the timeout`);
      assert.ok(meter!.latencyUs < slow!.latencyUs, `healthy latency ${meter!.latencyUs} µs < slow ${slow!.latencyUs} µs`);
      t.diagnostic(`first-read latency: meter ${meter!.latencyUs} µs, slow ${slow!.latencyUs} µs`);
      // The simulator's side of the wire: no writes; unit 3 asked as often as we counted timeouts.
      assert.equal(sim.stats.writes, 0);
      const asked = sim.stats.requestsByUnit[3] ?? 0;
      const timeouts = await run.total('dead', 'timeout');
      assert.ok(asked - timeouts >= 0 && asked - timeouts <= 1, `unit 3: ${asked} requests on the wire, ${timeouts} timeouts counted`);
      assert.equal(sim.stats.unanswered, asked);
    } finally {
      await sim.close();
      await pair.close();
    }
  });
});
