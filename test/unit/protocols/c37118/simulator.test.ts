import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConfigFrame } from '../../../../src/protocols/c37118/cfg-frame.js';
import { Command, FrameType, Stat } from '../../../../src/protocols/c37118/constants.js';
import { encodeCfg3, encodeCommand } from '../../../../src/protocols/c37118/encoder.js';
import { Framer } from '../../../../src/protocols/c37118/framer.js';
import { ReportingGrid } from '../../../../src/protocols/c37118/simulator/grid.js';
import { loadScenario, parseScenario, parseScenarioText } from '../../../../src/protocols/c37118/simulator/scenario.js';
import { SendLog, parseSendLog } from '../../../../src/protocols/c37118/simulator/send-log.js';
import { startSimulator, type RunningSimulator } from '../../../../src/protocols/c37118/simulator/simulator.js';
import type { SimulatorOptions } from '../../../../src/protocols/c37118/simulator/options.js';
import { StreamDecoder } from '../../../../src/protocols/c37118/stream-decoder.js';
import { eventTimeUs } from '../../../../src/protocols/c37118/time.js';

// The PMU simulator over real sockets on 127.0.0.1, decoded by the gateway's own framer and
// decoder, as a PDC would see it. Runs start at a fixed SOC so scenario time t is exact: a frame's
// t = (SOC − START) + FRACSEC / TIME_BASE.

const START = 1_700_000_000;
const QUIET = { noise: { magnitudePct: 0, angleDeg: 0, frequencyHz: 0, rocofHzPerS: 0 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll every 10 ms (the shared helper's 100 ms is long beside a 20 ms frame period). */
async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await sleep(10);
  }
}

interface DataFrame {
  t: number;
  soc: number;
  fracsec: number;
  timeQuality: number;
  stat: number[];
  freq: number[];
  phasorA: number[];
  phasorB: number[];
  cfgcnt: number[];
  raw: Buffer;
}

/** A PDC client: frames what it receives with Framer, decodes with StreamDecoder, keeps copies. */
class Pdc {
  readonly frames: DataFrame[] = [];
  readonly configs: ConfigFrame[] = [];
  readonly headers: string[] = [];
  readonly frameTypes: number[] = [];
  readonly frameSizes: number[] = [];
  readonly faults: string[] = [];
  readonly decoder = new StreamDecoder();
  readonly #framer = new Framer();

  constructor(readonly timeBase = 1_000_000) {}

  push(chunk: Uint8Array): void {
    this.#framer.push(chunk);
    for (let out = this.#framer.next(); out.kind !== 'none'; out = this.#framer.next()) {
      assert.equal(out.kind, 'frame', `the simulator sent bytes that are not a frame (${out.reason})`);
      this.frameTypes.push((out.buf[out.offset + 1]! >> 4) & 7);
      this.frameSizes.push(out.length);
      const d = this.decoder.decode(out.buf, out.offset, out.length);
      if (d.kind === 'config') this.configs.push(d.config);
      else if (d.kind === 'header') this.headers.push(d.text);
      else if (d.kind === 'fault') this.faults.push(d.reason);
      else if (d.kind === 'data') {
        const c = d.columns;
        this.frames.push({
          t: c.soc - START + (c.fracsec & 0xffffff) / this.timeBase,
          soc: c.soc,
          fracsec: c.fracsec,
          timeQuality: c.timeQuality,
          stat: [...c.stat],
          freq: [...c.freq],
          phasorA: [...c.phasorA],
          phasorB: [...c.phasorB],
          cfgcnt: c.layout.config.pmus.map((p) => p.cfgcnt),
          raw: Buffer.from(out.buf.subarray(out.offset, out.offset + out.length)),
        });
      }
    }
  }
}

class TcpPdc extends Pdc {
  socket!: net.Socket;

  static async connect(sim: RunningSimulator, timeBase?: number): Promise<TcpPdc> {
    const pdc = new TcpPdc(timeBase);
    pdc.socket = net.connect(sim.port!, '127.0.0.1');
    pdc.socket.setNoDelay(true);
    pdc.socket.on('data', (chunk) => pdc.push(chunk));
    await once(pdc.socket, 'connect');
    return pdc;
  }

  /** One command per write, then a pause for the reply (notes/c37118.md 27). */
  async send(command: number, idcode = 1): Promise<void> {
    this.socket.write(encodeCommand({ idcode, soc: START, fracsec: 0 }, command));
    await sleep(50);
  }

  /** send-cfg2, wait for it, data-on: what a PDC does. */
  async start(): Promise<void> {
    await this.send(Command.SEND_CFG2);
    await until(() => this.configs.length > 0, 'the CFG-2 arrives', 5000);
    await this.send(Command.DATA_ON);
  }
}

const running: RunningSimulator[] = [];
async function simulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const sim = await startSimulator({ listen: { host: '127.0.0.1', port: 0 }, seed: 7, startSoc: START, ...options });
  running.push(sim);
  return sim;
}
after(async () => {
  await Promise.all(running.map((s) => s.close()));
});

describe('the PMU simulator', () => {
  it('answers send-cfg2 with N PMUs under one stream IDCODE and streams data at the configured rate after data-on', async () => {
    const sim = await simulator({ dataRate: 50, pmus: 3, idcode: 1, firstPmuIdcode: 101 });
    const pdc = await TcpPdc.connect(sim);
    await pdc.start();
    const config = pdc.configs[0]!;
    assert.equal(config.idcode, 1);
    assert.equal(config.dataRate, 50);
    assert.equal(config.timeBase, 1_000_000);
    assert.deepEqual(config.pmus.map((p) => p.idcode), [101, 102, 103]);
    assert.deepEqual(config.pmus[0]!.phasors.map((p) => `${p.name} ${p.unit}`), ['VA V', 'VB V', 'VC V', 'IA A', 'IB A', 'IC A']);
    await until(() => pdc.frames.length > 0, 'data flows', 5000);
    const from = pdc.frames.length;
    await sleep(1000);
    const count = pdc.frames.length - from;
    assert.ok(count >= 45 && count <= 55, `${count} frames in one second at 50 frames/s`);
    // On the grid and gap-free: 20 ms apart, FRACSEC a multiple of 20 000 µs, time quality 0.
    for (const [i, f] of pdc.frames.entries()) {
      assert.equal(f.fracsec % 20_000, 0);
      assert.equal(f.timeQuality, 0);
      if (i > 0) assert.ok(Math.abs(f.t - pdc.frames[i - 1]!.t - 0.02) < 1e-9, `frame ${i} follows its predecessor by 20 ms`);
    }
    // Balanced three-phase, positive sequence: VB lags VA by 120°.
    const [va, vb] = [pdc.frames[0]!.phasorB[0]!, pdc.frames[0]!.phasorB[1]!];
    assert.ok(Math.abs(pdc.frames[0]!.phasorA[0]! - 230_000 / Math.sqrt(3)) < 100);
    assert.ok(Math.abs(Math.cos(vb - va) - Math.cos((-120 * Math.PI) / 180)) < 1e-3 && Math.sin(vb - va) < 0);
  });

  it('follows the scenario: a frequency step appears at its scripted time', async () => {
    const sim = await simulator({ dataRate: 50, scenario: { ...QUIET, events: [{ type: 'frequency-step', at: 0.7, deltaHz: 0.2 }] } });
    const pdc = await TcpPdc.connect(sim);
    await pdc.start();
    await until(() => pdc.frames.some((f) => f.t > 0.9), 'frames past the step', 5000);
    const before = pdc.frames.filter((f) => f.t < 0.7);
    const afterStep = pdc.frames.filter((f) => f.t >= 0.7);
    assert.ok(before.length > 5 && afterStep.length > 5);
    for (const f of before) assert.ok(Math.abs(f.freq[0]! - 60) < 1e-4, `${f.freq[0]} Hz at t=${f.t}`);
    for (const f of afterStep) assert.ok(Math.abs(f.freq[0]! - 60.2) < 1e-4, `${f.freq[0]} Hz at t=${f.t}`);
  });

  it('sends the same bytes for the same time stamp on every run with the same seed and start SOC', async () => {
    const options = { dataRate: 25, pmus: 2, scenario: { events: [{ type: 'oscillation', at: 0, modeHz: 0.5, angleDeg: 5, magnitudePct: 2 }] } };
    const [a, b] = [await simulator(options), await simulator(options)];
    const [pa, pb] = [await TcpPdc.connect(a), await TcpPdc.connect(b)];
    await Promise.all([pa.start(), pb.start()]);
    await until(() => pa.frames.length > 10 && pb.frames.length > 10, 'both stream', 5000);
    const bytes = new Map(pa.frames.map((f) => [f.t.toFixed(6), f.raw.toString('hex')]));
    const shared = pb.frames.filter((f) => bytes.has(f.t.toFixed(6)));
    assert.ok(shared.length > 5);
    for (const f of shared) assert.equal(f.raw.toString('hex'), bytes.get(f.t.toFixed(6)));
  });

  it('logs each data frame it sends with its time stamp and the wall time it left (--send-log)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gridgate-sendlog-')), 'send.log');
    const sim = await startSimulator({ listen: { host: '127.0.0.1', port: 0 }, seed: 7, dataRate: 50, sendLog: path });
    const pdc = await TcpPdc.connect(sim);
    const startedUs = Date.now() * 1000;
    await pdc.start();
    await until(() => pdc.frames.length >= 10, 'ten frames arrive', 5000);
    await sim.close();
    const endedUs = Date.now() * 1000;
    const sent = parseSendLog(readFileSync(path, 'utf8'));
    // Every frame the PDC decoded is in the log under the time a receiver computes for it, sent
    // at or after its time stamp (the simulator sends on it) and while the test ran.
    for (const f of pdc.frames) {
      const stampUs = eventTimeUs(f.soc, f.fracsec, 1_000_000);
      const sentUs = sent.get(stampUs);
      assert.ok(sentUs !== undefined, `frame ${stampUs} is in the send log`);
      assert.ok(sentUs >= stampUs - 1000 && sentUs >= startedUs - 1000 && sentUs <= endedUs + 1000, `frame ${stampUs} sent at ${sentUs}`);
    }
    assert.throws(() => new SendLog(join(path, 'no', 'such', 'dir')), /ENOENT|ENOTDIR/, 'a log that cannot be written stops the simulator at start');
  });

  it('marks a GPS loss with STAT bit 13, the unlocked-time bits and the FRACSEC time quality, then recovers', async () => {
    const sim = await simulator({ dataRate: 50, scenario: { events: [{ type: 'gps-loss', at: 0.5, durationS: 0.4, unlockedForS: 150 }] } });
    const pdc = await TcpPdc.connect(sim);
    await pdc.start();
    await until(() => pdc.frames.some((f) => f.t > 1), 'frames past the loss', 5000);
    for (const f of pdc.frames) {
      const lost = f.t >= 0.5 && f.t < 0.9;
      assert.equal((f.stat[0]! & Stat.SYNC_ERROR) !== 0, lost, `sync bit at t=${f.t}`);
      // 150 s unlocked: bits 5–4 = 10 (100–1000 s); error 150 µs at 1 ppm: Table 4 code 7 (< 1 ms).
      assert.equal((f.stat[0]! & Stat.UNLOCKED_MASK) >> Stat.UNLOCKED_SHIFT, lost ? 2 : 0);
      assert.equal(f.timeQuality, lost ? 7 : 0);
    }
    assert.ok(pdc.frames.filter((f) => f.t >= 0.5 && f.t < 0.9).length > 10);
  });

  it('announces a config change with STAT bit 10, then sends a new CFGCNT and a different layout', async () => {
    const sim = await simulator({ dataRate: 50, pmus: 2, scenario: { events: [{ type: 'config-change', at: 0.5, warnS: 0.3, pmus: [0] }] } });
    const pdc = await TcpPdc.connect(sim);
    await pdc.start();
    await until(() => pdc.faults.includes('size-mismatch'), 'the old layout no longer fits the data', 5000);
    const warned = pdc.frames.filter((f) => f.stat[0]! & Stat.CONFIG_CHANGE);
    assert.ok(warned.length > 5, 'STAT bit 10 is set before the change');
    for (const f of warned) assert.ok(f.t >= 0.5 && f.t < 0.8);
    assert.ok(pdc.frames.every((f) => (f.stat[1]! & Stat.CONFIG_CHANGE) === 0), 'only the changing PMU warns');
    await pdc.send(Command.SEND_CFG2);
    await until(() => pdc.configs.length === 2, 'the new CFG-2', 5000);
    const [old, now] = [pdc.configs[0]!, pdc.configs[1]!];
    assert.deepEqual(old.pmus.map((p) => p.cfgcnt), [0, 0]);
    assert.deepEqual(now.pmus.map((p) => p.cfgcnt), [1, 0]);
    assert.deepEqual(now.pmus[0]!.phasors.map((p) => p.name), ['VA', 'VB', 'VC', 'IA', 'IB', 'IC', 'V1']);
    const decoded = pdc.frames.length;
    await until(() => pdc.frames.length > decoded + 3, 'data decodes again under the new layout', 5000);
    assert.deepEqual(pdc.frames.at(-1)!.cfgcnt, [1, 0]);
    assert.equal(pdc.frames.at(-1)!.phasorA.length, 13);
  });

  it('drops scripted frames: their time stamps are missing and counted', async () => {
    const sim = await simulator({ dataRate: 50, scenario: { events: [{ type: 'drop', at: 0.5, durationS: 0.2 }, { type: 'drop', at: 0.9 }] } });
    const pdc = await TcpPdc.connect(sim);
    await pdc.start();
    await until(() => pdc.frames.some((f) => f.t > 1.1), 'frames past the gaps', 5000);
    const times = new Set(pdc.frames.map((f) => Math.round(f.t * 50)));
    const first = Math.min(...times);
    const missing = [];
    for (let k = first; k <= 55; k++) if (!times.has(k)) missing.push(k);
    assert.deepEqual(missing, [25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 45]);
    assert.equal(sim.stats.framesDropped, 11);
  });

  it('ignores a command whose IDCODE is not the stream IDCODE', async () => {
    const sim = await simulator({ idcode: 60 });
    const pdc = await TcpPdc.connect(sim);
    await pdc.send(Command.SEND_CFG2, 1);
    await pdc.send(Command.DATA_ON, 101); // a PMU IDCODE, not the stream's
    await sleep(300);
    assert.equal(pdc.frameTypes.length, 0, 'no reply and no data');
    assert.equal(sim.stats.commandsIgnored, 2);
    await pdc.send(Command.SEND_CFG2, 60);
    await pdc.send(Command.DATA_ON, 60);
    await until(() => pdc.frames.length > 0, 'data after a command with the right IDCODE', 5000);
  });

  it('sends CFG-3 in fragments that reassemble to the same configuration, and decodes data like CFG-2', async () => {
    const sim = await simulator({ pmus: 2, phasors: 8, analogs: 2, digitals: 1, phasorFormat: 'int', cfg3FragmentBytes: 128 });
    const pdc = await TcpPdc.connect(sim);
    await pdc.send(Command.SEND_CFG3);
    await until(() => pdc.configs.length === 1, 'the reassembled CFG-3', 5000);
    const fragments = pdc.frameTypes.filter((t) => t === FrameType.CFG3).length;
    assert.ok(fragments > 3, `${fragments} fragments`);
    assert.ok(pdc.frameSizes.every((s) => s <= 128));
    const cfg3 = pdc.configs[0]!;
    // The same configuration sent whole.
    const whole = new StreamDecoder();
    const [frame] = encodeCfg3(sim.model.config('cfg3', 0, cfg3.soc, cfg3.fracsec));
    const one = whole.decode(frame!, 0, frame!.length);
    assert.equal(one.kind, 'config');
    assert.deepEqual(cfg3, one.kind === 'config' ? one.config : null);
    // And a CFG-2 client decodes the same data frames to the same values.
    await pdc.send(Command.SEND_CFG2);
    await until(() => pdc.configs.length === 2, 'the CFG-2', 5000);
    const cfg2 = pdc.configs[1]!;
    const shape = (c: ConfigFrame) => c.pmus.map((p) => [p.idcode, p.cfgcnt, p.format, p.phasors.map((ph) => ph.name)]);
    assert.deepEqual(shape(cfg3), shape(cfg2));
    const viaCfg3 = new StreamDecoder();
    viaCfg3.activate(cfg3);
    await pdc.send(Command.DATA_ON);
    await until(() => pdc.frames.length > 0, 'data', 5000);
    const f = pdc.frames[0]!;
    const d = viaCfg3.decode(f.raw, 0, f.raw.length);
    assert.equal(d.kind, 'data');
    if (d.kind === 'data') for (const [i, v] of f.phasorA.entries()) assert.ok(Math.abs(d.columns.phasorA[i]! - v) <= Math.abs(v) * 1e-6);
  });

  it('stays silent on send-cfg3 and send-header when the device does not support them, and CFG-2 still works', async () => {
    const sim = await simulator({ cfg3: 'ignore', header: 'ignore' });
    const pdc = await TcpPdc.connect(sim);
    await pdc.send(Command.SEND_CFG3);
    await pdc.send(Command.SEND_HEADER);
    await sleep(200);
    assert.equal(pdc.frameTypes.length, 0);
    await pdc.send(Command.SEND_CFG2);
    await until(() => pdc.configs.length === 1 && pdc.configs[0]!.kind === 'cfg2', 'the CFG-2', 5000);
  });

  it('sends data frames over UDP from the start, with a CFG-2 first, when only a UDP destination is given', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const pdc = new Pdc();
    receiver.on('message', (msg) => pdc.push(msg));
    const sim = await simulator({ listen: null, udp: { host: '127.0.0.1', port: receiver.address().port }, udpCfgEveryS: 10, dataRate: 50 });
    try {
      assert.equal(sim.port, undefined);
      await until(() => pdc.frames.length >= 10, 'UDP data frames decoded', 5000);
      assert.equal(pdc.frameTypes[0], FrameType.CFG2);
      assert.ok(sim.stats.udpFramesSent >= 10);
    } finally {
      receiver.close();
    }
  });

  it('in mixed mode takes commands over TCP and sends data over UDP only after data-on', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const udpPdc = new Pdc();
    receiver.on('message', (msg) => udpPdc.push(msg));
    const sim = await simulator({ udp: { host: '127.0.0.1', port: receiver.address().port }, dataRate: 50 });
    try {
      const pdc = await TcpPdc.connect(sim);
      await pdc.send(Command.SEND_CFG2);
      await until(() => pdc.configs.length === 1, 'the CFG-2 over TCP', 5000);
      await sleep(200);
      assert.equal(udpPdc.frameTypes.length, 0, 'nothing over UDP before data-on');
      udpPdc.decoder.activate(pdc.configs[0]!);
      await pdc.send(Command.DATA_ON);
      await until(() => udpPdc.frames.length >= 5, 'data over UDP', 5000);
      assert.equal(pdc.frames.length, 0, 'no data over TCP');
    } finally {
      receiver.close();
    }
  });

  it('skips data frames for a client that stops reading and keeps the others at full rate', async () => {
    // ~24 KB frames at 240 frames/s fill the loopback socket buffers within a second or two.
    const sim = await simulator({ dataRate: 240, pmus: 10, phasors: 300, scenario: QUIET });
    const [slow, fast] = [await TcpPdc.connect(sim), await TcpPdc.connect(sim)];
    await Promise.all([slow.start(), fast.start()]);
    slow.socket.pause();
    await until(() => sim.stats.tcpFramesSkipped > 0, 'frames skipped for the slow client', 15_000);
    const from = fast.frames.length;
    await sleep(500);
    assert.ok(fast.frames.length - from > 90, `the fast client got ${fast.frames.length - from} frames in 0.5 s`);
    slow.socket.resume();
    // Once drained it streams again, the skipped frames leaving a gap in its time stamps.
    const resumedAt = fast.frames.at(-1)!.t;
    await until(() => slow.frames.some((f) => f.t > resumedAt), 'the slow client streams again after drain', 15_000);
    const gaps = slow.frames.filter((f, i) => i > 0 && f.t - slow.frames[i - 1]!.t > 1.5 / 240);
    assert.ok(gaps.length > 0, 'the slow client misses frames rather than getting a backlog');
  });

  it('prints one JSON status line on stdout, logs to stderr, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'pmu', '--listen', '127.0.0.1:0', '--seed', '5', '--pmus', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await until(() => stdout.includes('\n'), 'the status line', 20_000);
    const status = JSON.parse(stdout.split('\n')[0]!) as { tcp: string; pmus: number[]; seed: number; mode: string };
    assert.equal(status.mode, 'tcp');
    assert.deepEqual(status.pmus, [101, 102]);
    assert.equal(status.seed, 5);
    assert.match(status.tcp, /^127\.0\.0\.1:\d+$/);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length, 1, 'nothing on stdout but the status');
    assert.match(stderr, /"msg":"pmu simulator stopped"/);
  });
});

describe('the PMU simulator parts', () => {
  it('places frames on the reporting grid, also for a negative DATA_RATE and a TIME_BASE of 2^24 − 1', () => {
    const grid = new ReportingGrid(30, 16_777_215);
    assert.equal(grid.soc(30 * START + 1), START);
    assert.equal(grid.fracsec(30 * START + 1, 0), Math.round(16_777_215 / 30));
    assert.equal(grid.fracsec(30 * START + 29, 5) >>> 24, 5);
    const slow = new ReportingGrid(-5, 1_000_000);
    assert.equal(slow.soc(slow.atOrAfter(START + 1)), START + 5);
    assert.equal(slow.fracsec(7, 0), 0);
    assert.equal(slow.secondsSince(slow.atOrAfter(START), START), 0);
  });

  it('fills scenario defaults and reports every problem with file, line and key', () => {
    const s = parseScenario({ events: [{ type: 'config-change', at: 5 }] });
    assert.equal(s.signal.voltageKv, 230);
    assert.deepEqual(s.events[0], { type: 'config-change', at: 5, warnS: 5, addPhasors: 1 });
    assert.throws(
      () => parseScenarioText('events:\n  - type: frequency-step\n    at: 1\n    deltaHz: x\n  - type: gps-loss\n    at: 2\n    bogus: 1\n', 'bad.yaml'),
      (err: Error & { report(): string }) => {
        assert.match(err.report(), /^bad\.yaml:4:14 events\[0\]\.deltaHz: must be number$/m);
        assert.match(err.report(), /^bad\.yaml:7:\d+ events\[1\]\.bogus: unknown key "bogus"/m);
        return true;
      },
    );
  });

  it('loads a scenario file plus --event flags, and refuses an event naming a PMU that does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-sim-'));
    const file = join(dir, 'scenario.yaml');
    writeFileSync(file, 'events:\n  - { type: phase-jump, at: 1, deg: 10, pmus: [3] }\n');
    const scenario = await loadScenario(file, ['type: frequency-step, at: 2, deltaHz: 0.1']);
    assert.deepEqual(scenario.events.map((e) => e.type), ['phase-jump', 'frequency-step']);
    await assert.rejects(loadScenario(file, ['type: frequency-step, at: 2']), /--event #1 deltaHz: required key is missing/);
    await assert.rejects(simulator({ pmus: 2, scenario }), /names PMU index 3/);
  });
});
