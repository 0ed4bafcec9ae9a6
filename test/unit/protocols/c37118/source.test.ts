import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Deadline } from '../../../../src/daemon/component.js';
import type { SourceRecord } from '../../../../src/pipeline/record.js';
import { C37118SourceSchema, type C37118SourceConfig } from '../../../../src/protocols/c37118/config.js';
import { Command, Stat } from '../../../../src/protocols/c37118/constants.js';
import { C37118Source } from '../../../../src/protocols/c37118/source.js';
import { startSimulator } from '../../../../src/protocols/c37118/simulator/simulator.js';
import { cfg2Frame, dataFrames, FakePmu, simpleConfig } from '../../../helpers/fake-pmu.js';
import { until } from '../../../helpers/wait.js';

const silent = pino({ level: 'silent' });
const IDCODE = 7;
const CONFIG = simpleConfig(IDCODE, 50);

function sourceConfig(overrides: Partial<C37118SourceConfig>): C37118SourceConfig {
  void C37118SourceSchema;
  return {
    name: 'pmu-a',
    type: 'c37118',
    transport: 'tcp',
    idcode: IDCODE,
    configFrame: 'cfg2',
    requestHeader: 'yes',
    commandTimeoutMs: 300,
    connectTimeoutMs: 1000,
    staleAfterPeriods: 10,
    reconnect: { initialMs: 20, maxMs: 100 },
    analytics: { voltagePhasors: ['VA', 'VB', 'VC'], currentPhasors: ['IA', 'IB', 'IC'], positiveSequence: { voltage: 'V1', current: 'I1' } },
    ...overrides,
  };
}

interface Harness {
  source: C37118Source;
  records: SourceRecord[];
  registry: Registry;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

async function startSource(config: C37118SourceConfig): Promise<Harness> {
  const records: SourceRecord[] = [];
  const registry = new Registry();
  const source = new C37118Source(config, {
    log: silent,
    registry,
    emit: (batch) => {
      records.push(...batch);
      return true;
    },
    onResume: () => () => undefined,
  });
  await source.start();
  return {
    source,
    records,
    registry,
    async metric(name, labels = {}) {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      const hits = (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
      return hits.reduce((sum, v) => sum + Number(v.value), 0);
    },
    stop: () => source.stop(new Deadline(2000)),
  };
}

/** A device that answers SEND_CFG2 with `config` and DATA_ON with `frames`. */
function answer(pmu: FakePmu, config = CONFIG, frames = dataFrames(CONFIG, 0, 5)): void {
  pmu.onCommand = (command, socket) => {
    if (command === Command.SEND_CFG2) socket.write(cfg2Frame(config));
    if (command === Command.DATA_ON) for (const f of frames) socket.write(f);
  };
}

const pmuRecords = (h: Harness): SourceRecord[] => h.records.filter((r) => r.kind === 'pmu-frame');
const deadLetters = (h: Harness): SourceRecord[] => h.records.filter((r) => r.kind === 'dead-letter');

describe('the C37.118 source (PDC client)', () => {
  const pmus: FakePmu[] = [];
  after(async () => Promise.all(pmus.map((p) => p.close())));
  const device = async (): Promise<FakePmu> => {
    const pmu = await FakePmu.start();
    pmus.push(pmu);
    return pmu;
  };

  it('asks for data off, the header and CFG-2, then data on: each command alone in its write, with the stream IDCODE', async () => {
    const pmu = await device();
    answer(pmu);
    const h = await startSource(sourceConfig({ address: pmu.address }));
    await until(() => pmuRecords(h).length === 5, 'pmuRecords(h).length === 5', 5000);
    await h.stop();
    assert.deepEqual(
      pmu.commands.map((c) => c.command),
      [Command.DATA_OFF, Command.SEND_HEADER, Command.SEND_CFG2, Command.DATA_ON],
    );
    assert.ok(pmu.commands.every((c) => c.idcode === IDCODE));
    assert.ok(pmu.commandReads.every((bytes) => bytes === 18), `one 18-byte command per read: ${pmu.commandReads.join(',')}`);
    const gaps = pmu.commands.slice(1).map((c, i) => c.at - pmu.commands[i]!.at);
    assert.ok(gaps.every((ms) => ms >= 90), `commands at least ~100 ms apart: ${gaps.join(',')}`);
    const first = pmuRecords(h)[0]!;
    assert.equal(first.stream, String(IDCODE + 100), 'records are keyed by the PMU IDCODE');
    assert.equal(first.eventTimeUs, CONFIG.soc * 1_000_000);
    assert.deepEqual(pmuRecords(h).map((r) => r.body.freq), [50, 50.001, 50.002, 50.003, 50.004].map((f) => Math.fround(f)));
    assert.deepEqual(h.source.readiness(), { ready: false, detail: 'stopped' });
  });

  it('falls back to CFG-2 when the device does not answer a CFG-3 request', async () => {
    const pmu = await device();
    answer(pmu);
    const h = await startSource(sourceConfig({ address: pmu.address, configFrame: 'cfg3', requestHeader: 'no' }));
    await until(() => pmuRecords(h).length === 5, 'pmuRecords(h).length === 5', 5000);
    await h.stop();
    assert.deepEqual(
      pmu.commands.map((c) => c.command),
      [Command.DATA_OFF, Command.SEND_CFG3, Command.SEND_CFG2, Command.DATA_ON],
    );
    assert.equal(await h.metric('gridgate_c37118_config_requests_total', { frame: 'cfg3' }), 1);
  });

  it('sends bytes that are not frames, and frames it cannot use, to the dead-letter topic and keeps decoding', async () => {
    const pmu = await device();
    const [f0, f1, f2] = dataFrames(CONFIG, 0, 3);
    const corrupt = Buffer.from(f1!);
    corrupt[20]! ^= 0xff;
    const otherStream = dataFrames(simpleConfig(IDCODE + 1, 50), 0, 1)[0]!;
    answer(pmu, CONFIG, [f0!, Buffer.from('garbage!'), corrupt, otherStream, f2!]);
    const h = await startSource(sourceConfig({ address: pmu.address }));
    await until(() => pmuRecords(h).length === 2 && deadLetters(h).length >= 2, 'two good frames and two dead letters', 5000);
    await h.stop();
    // The junk text and the corrupted frame after it are one run of bad bytes: one dead letter,
    // named by the most telling reason (a frame whose CRC failed).
    const reasons = deadLetters(h).map((r) => r.body.reason);
    assert.deepEqual(reasons, ['crc-mismatch', 'unexpected-idcode']);
    const crc = deadLetters(h)[0]!.body;
    assert.equal(crc.stage, 'framing');
    assert.equal(crc.length, 8 + corrupt.length);
    assert.deepEqual(Buffer.from(crc.bytes as string, 'base64'), Buffer.concat([Buffer.from('garbage!'), corrupt]));
    assert.equal(crc.streamOffset, cfg2Frame(CONFIG).length + f0!.length, 'the offset in the connection byte stream');
    assert.equal(deadLetters(h)[1]!.body.stage, 'decoding');
    assert.deepEqual(pmuRecords(h).map((r) => r.body.freq), [50, 50.002].map((f) => Math.fround(f)));
    assert.equal(await h.metric('gridgate_c37118_bad_frames_total', { reason: 'crc-mismatch' }), 1);
  });

  it('asks for the configuration again once per config-change episode announced in STAT', async () => {
    const pmu = await device();
    const frames = [...dataFrames(CONFIG, 0, 2), ...dataFrames(CONFIG, 2, 6, Stat.CONFIG_CHANGE), ...dataFrames(CONFIG, 6, 8)];
    answer(pmu, CONFIG, frames);
    // Long stale limit: the device goes quiet after its frames, and a reconnect would ask again.
    const h = await startSource(sourceConfig({ address: pmu.address, requestHeader: 'no', staleAfterPeriods: 1000 }));
    await until(() => pmuRecords(h).length === 8 && pmu.commands.filter((c) => c.command === Command.SEND_CFG2).length === 2, 'pmuRecords(h).length === 8 && pmu.commands.filter((c) => c.command === Command.SEND_CFG2).length === 2', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.stop();
    assert.equal(pmu.commands.filter((c) => c.command === Command.SEND_CFG2).length, 2, 'the first request and one for the episode');
    assert.ok(pmuRecords(h).slice(2, 6).every((r) => (r.body.stat as number) & Stat.CONFIG_CHANGE));
  });

  it('does not guess when a data frame disagrees with the configuration: dead letter, then a new request', async () => {
    const pmu = await device();
    const bigger = simpleConfig(IDCODE, 50, { phasors: 3, cfgcnt: 2 });
    let served = 0;
    pmu.onCommand = (command, socket) => {
      if (command === Command.SEND_CFG2) socket.write(cfg2Frame(served++ === 0 ? CONFIG : bigger));
      if (command === Command.DATA_ON) for (const f of dataFrames(bigger, 0, 3)) socket.write(f);
    };
    const h = await startSource(sourceConfig({ address: pmu.address, requestHeader: 'no' }));
    await until(() => served === 2, 'served === 2', 5000);
    await until(() => deadLetters(h).length === 3, 'deadLetters(h).length === 3', 2000);
    socketsSend(pmu, dataFrames(bigger, 3, 5));
    await until(() => pmuRecords(h).length === 2, 'pmuRecords(h).length === 2', 5000);
    await h.stop();
    assert.deepEqual(new Set(deadLetters(h).map((r) => r.body.reason)), new Set(['size-mismatch']));
    assert.equal((pmuRecords(h)[0]!.body.phasors as unknown[]).length, 3, 'decoded with the new configuration');
  });

  it('counts missing and duplicate frames per PMU from their time stamps', async () => {
    const pmu = await device();
    const f = dataFrames(CONFIG, 0, 6);
    answer(pmu, CONFIG, [f[0]!, f[1]!, f[4]!, f[4]!, f[5]!]);
    const h = await startSource(sourceConfig({ address: pmu.address, requestHeader: 'no' }));
    await until(() => pmuRecords(h).length === 5, 'pmuRecords(h).length === 5', 5000);
    await h.stop();
    assert.equal(await h.metric('gridgate_c37118_missing_frames_total', { pmu: String(IDCODE + 100) }), 2);
    assert.equal(await h.metric('gridgate_c37118_duplicate_frames_total', { pmu: String(IDCODE + 100) }), 1);
  });

  it('marks a silent device stale and reconnects; reconnects after a dropped connection too', async () => {
    const pmu = await device();
    answer(pmu, CONFIG, dataFrames(CONFIG, 0, 2));
    const h = await startSource(sourceConfig({ address: pmu.address, requestHeader: 'no', staleAfterPeriods: 5 }));
    await until(() => pmuRecords(h).length >= 2, 'pmuRecords(h).length >= 2', 5000);
    // 5 periods at 50 frames/s is 100 ms; the check runs every 250 ms.
    await until(async () => (await h.metric('gridgate_c37118_stale')) === 1, '(await h.metric("gridgate_c37118_stale")) === 1', 3000);
    assert.match(h.source.readiness().detail ?? '', /stale/u);
    await until(() => pmu.connections >= 2, 'pmu.connections >= 2', 3000);
    await until(() => pmuRecords(h).length >= 4, 'pmuRecords(h).length >= 4', 5000);
    assert.equal(await h.metric('gridgate_c37118_stale'), 0, 'data again clears it');
    pmu.dropConnections();
    await until(() => pmu.connections >= 3, 'pmu.connections >= 3', 3000);
    assert.ok((await h.metric('gridgate_c37118_reconnects_total')) >= 2);
    await h.stop();
  });

  it('does not call a streaming device stale after its own event loop stalled: it reads the socket first', async () => {
    // The device in another process, so it keeps sending while this process is stalled.
    const sim = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'pmu', '--listen', '127.0.0.1:0', '--idcode', String(IDCODE), '--rate', '50', '--fnom', '50'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const [line] = (await once(sim.stdout!.setEncoding('utf8'), 'data')) as [string];
      const { tcp } = JSON.parse(line.split('\n')[0]!) as { tcp: string };
      const h = await startSource(sourceConfig({ address: tcp, requestHeader: 'no', staleAfterPeriods: 5 }));
      await until(() => pmuRecords(h).length >= 20, 'pmuRecords(h).length >= 20', 10_000);
      for (let i = 0; i < 3; i++) {
        // 400 ms of a busy loop: four times the stale limit (5 periods of 20 ms), past a 250 ms check.
        const until = Date.now() + 400;
        while (Date.now() < until);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      assert.equal(await h.metric('gridgate_c37118_stale'), 0);
      assert.equal(await h.metric('gridgate_c37118_reconnects_total'), 0, 'the connection was kept');
      await h.stop();
    } finally {
      sim.kill('SIGTERM');
    }
  });

  it('does not call a device stale while the pipeline has it paused (back-pressure), nor right after', async () => {
    const pmu = await device();
    answer(pmu, CONFIG, dataFrames(CONFIG, 0, 200));
    const registry = new Registry();
    let full = true;
    let resume: () => void = () => undefined;
    const source = new C37118Source(sourceConfig({ address: pmu.address, requestHeader: 'no', staleAfterPeriods: 5 }), {
      log: silent,
      registry,
      emit: () => !full, // the first batch fills the pipeline: the source pauses
      onResume: (fn) => ((resume = fn), () => undefined),
    });
    await source.start();
    const stale = async (): Promise<number> => Number((await registry.getSingleMetric('gridgate_c37118_stale')!.get()).values[0]?.value ?? 0);
    await until(async () => (await registry.getSingleMetric('gridgate_c37118_frames_total')!.get()).values.length > 0, 'frames', 5000);
    await new Promise((resolve) => setTimeout(resolve, 600)); // paused for six times the stale limit
    assert.equal(await stale(), 0, 'no stale while paused');
    full = false;
    resume();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await stale(), 0, 'no stale on resuming');
    assert.equal(pmu.connections, 1);
    await source.stop(new Deadline(2000));
  });

  it('shows a PMU that never answered as disconnected from the start, not as no series at all', async () => {
    const h = await startSource(sourceConfig({ address: '127.0.0.1:1' }));
    const series = async (name: string) => (await h.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
    assert.deepEqual(await series('gridgate_c37118_connected'), [[{ source: 'pmu-a' }, 0]]);
    assert.deepEqual(await series('gridgate_c37118_stale'), [[{ source: 'pmu-a' }, 0]]);
    await h.stop();
  });

  it('takes UDP data only from configured peers', async () => {
    for (const [peers, accepted] of [
      [['127.0.0.1'], true],
      [['10.255.255.1'], false],
    ] as const) {
      const h = await startSource(sourceConfig({ transport: 'udp', udp: { bind: '127.0.0.1:0', peers: [...peers] } }));
      const sender = createSocket('udp4');
      for (const frame of [cfg2Frame(CONFIG), ...dataFrames(CONFIG, 0, 3)]) {
        await new Promise<void>((resolve) => sender.send(frame, h.source.udpPort!, '127.0.0.1', () => resolve()));
      }
      sender.close();
      if (accepted) await until(() => pmuRecords(h).length === 3, 'pmuRecords(h).length === 3', 3000);
      else await until(async () => (await h.metric('gridgate_c37118_rejected_datagrams_total')) === 4, '(await h.metric("gridgate_c37118_rejected_datagrams_total")) === 4', 3000);
      await h.stop();
      assert.equal(pmuRecords(h).length, accepted ? 3 : 0);
    }
  });
});

describe('the C37.118 source against the product simulator', () => {
  it('runs the mixed mode: commands and configuration over TCP, data over UDP', async () => {
    // The simulator needs the source's UDP port and the source the simulator's TCP port: bind
    // the source first, then point the simulator at it on a port chosen now.
    const free = await FakePmu.start();
    const tcpPort = free.port;
    await free.close();
    const h = await startSource(
      sourceConfig({ transport: 'tcp+udp', address: `127.0.0.1:${tcpPort}`, idcode: 3, udp: { bind: '127.0.0.1:0', peers: [] }, requestHeader: 'no' }),
    );
    const sim = await startSimulator({
      idcode: 3,
      dataRate: 50,
      fnom: 50,
      seed: 1,
      listen: { host: '127.0.0.1', port: tcpPort },
      udp: { host: '127.0.0.1', port: h.source.udpPort! },
      log: silent,
    });
    await until(() => pmuRecords(h).length >= 25, 'half a second of data over UDP', 10_000);
    await h.stop();
    await sim.close();
    assert.ok(sim.stats.udpFramesSent >= 25, 'the data came by UDP');
    assert.equal(sim.stats.tcpFramesSent, 0, 'no data frame over TCP');
    assert.equal(await h.metric('gridgate_c37118_frames_total', { type: 'cfg2' }), 1, 'the configuration came by TCP');
    assert.equal(deadLetters(h).length, 0);
  });
});

function socketsSend(pmu: FakePmu, frames: Buffer[]): void {
  for (const f of frames) pmu.send(f);
}
