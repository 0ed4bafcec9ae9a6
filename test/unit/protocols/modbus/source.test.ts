import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Deadline } from '../../../../src/daemon/component.js';
import { ModbusSourceSchema, type ModbusSourceConfig } from '../../../../src/protocols/modbus/config.js';
import type { RegisterMapInput } from '../../../../src/protocols/modbus/simulator/map-schema.js';
import { startModbusSimulator, type RunningModbusSimulator } from '../../../../src/protocols/modbus/simulator/simulator.js';
import { type Body, modbusHarness as harness } from '../../../helpers/modbus-peer.js';
import { until } from '../../../helpers/wait.js';
import { readFile } from 'node:fs/promises';
import avro from 'avsc';
import type { SpoolEntry } from '../../../../src/buffer/entry-codec.js';
import { Pipeline } from '../../../../src/pipeline/pipeline.js';
import { tempDir } from '../../../helpers/spool.js';

// The Modbus source polling the product simulator over real loopback sockets: values, change-only
// publishing, refused addresses, a dead unit among healthy ones, malformed answers, reconnects,
// RTU over TCP, and the proof that it never writes.

const MAP: RegisterMapInput = {
  units: [
    {
      unitId: 1,
      registers: [
        { name: 'v', address: 0, type: 'float32', value: 230.5 },
        { name: 'i', address: 2, type: 'float32', order: 'CDAB', value: 101.25 },
        { name: 'e', address: 4, type: 'int32', value: -123456 },
        { name: 'model', address: 10, type: 'string', length: 4, value: 'GG-SIM' },
        { name: 'flags', address: 20, type: 'uint16', value: 0x8005 },
        { name: 'ramp', address: 30, type: 'uint16', value: { ramp: { perS: 20, from: 0 } } },
        { name: 'alarm', area: 'coil', address: 3, value: true },
      ],
      holes: [{ from: 40, to: 45 }],
    },
    { unitId: 2, registers: [{ name: 'f', area: 'input-register', address: 0, type: 'float32', value: 50.02 }] },
    { unitId: 3, registers: [{ name: 'x', address: 0, type: 'uint16', value: 7 }], dead: true },
  ],
};

const tag = (name: string, area: string, address: number, type: string, extra: Record<string, unknown> = {}) => ({ name, area, address, type, group: 'fast', ...extra });

function sourceConfig(port: number, overrides: Record<string, unknown> = {}): ModbusSourceConfig {
  return Value.Default(ModbusSourceSchema, {
    name: 'meters',
    type: 'modbus',
    address: `127.0.0.1:${port}`,
    timeoutMs: 150,
    deviceBackoff: { initialMs: 400, maxMs: 800 },
    reconnect: { initialMs: 50, maxMs: 200 },
    devices: [
      {
        name: 'feeder',
        unitId: 1,
        pollGroups: { fast: 100 },
        tags: [
          tag('v', 'holding-register', 0, 'float32', { unit: 'V' }),
          tag('i', 'holding-register', 2, 'float32', { order: 'CDAB', unit: 'A' }),
          tag('e', 'holding-register', 4, 'int32', { scale: 0.01, unit: 'kWh' }),
          tag('model', 'holding-register', 10, 'string', { length: 4 }),
          tag('trip', 'holding-register', 20, 'bit', { bit: 15 }),
          tag('ramp', 'holding-register', 30, 'uint16', { deadband: 5 }),
          tag('missing', 'holding-register', 42, 'uint16'),
          tag('after', 'holding-register', 46, 'uint16'),
          tag('alarm', 'coil', 3, 'bool'),
        ],
      },
      { name: 'freq', unitId: 2, pollGroups: { fast: 100 }, tags: [tag('f', 'input-register', 0, 'float32', { unit: 'Hz' })] },
      { name: 'dead', unitId: 3, pollGroups: { fast: 100 }, tags: [tag('x', 'holding-register', 0, 'uint16')] },
    ],
    ...overrides,
  }) as ModbusSourceConfig;
}

describe('the Modbus source against the product simulator', () => {
  const sims: RunningModbusSimulator[] = [];
  after(async () => {
    for (const s of sims) await s.close();
  });
  const simulator = async (options: Parameters<typeof startModbusSimulator>[0] = {}) => {
    const sim = await startModbusSimulator({ map: MAP, listen: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), seed: 1, ...options });
    sims.push(sim);
    return sim;
  };

  it('shows a device that never answered as disconnected from the start, not as no series at all', async () => {
    const h = await harness(sourceConfig(1));
    assert.equal(await h.metricText('gridgate_modbus_connected').then((t) => /gridgate_modbus_connected\{source="[^"]+"\} 0/.test(t)), true);
    await h.stop();
  });

  it('reads every type of tag, publishes each value once until it changes, and never writes', async () => {
    const sim = await simulator();
    // Without the dead unit, and a timeout no loaded CI machine reaches: a spurious timeout is a
    // quality change, hence a second record of a constant value.
    const base = sourceConfig(sim.port!, { timeoutMs: 1000 });
    const h = await harness({ ...base, devices: base.devices.filter((d) => d.name !== 'dead') });
    await until(() => h.of('feeder/after').length > 0 && h.of('freq/f').length > 0, 'first values', 5000);
    await new Promise((r) => setTimeout(r, 600));
    await h.stop();
    const only = (stream: string): Body => {
      const list = h.of(stream);
      assert.equal(list.length, 1, `${stream} published once (constant): ${list.length}`);
      return list[0]!;
    };
    assert.equal(only('feeder/v').value, 230.5);
    assert.equal(only('feeder/i').value, 101.25);
    assert.equal(only('feeder/e').value, -1234.56);
    assert.equal(only('feeder/model').value, 'GG-SIM');
    assert.equal(only('feeder/trip').value, true);
    assert.equal(only('feeder/alarm').value, true);
    assert.ok(Math.abs(only('freq/f').value - 50.02) < 1e-5);
    const v = only('feeder/v');
    assert.deepEqual(v.quality, []);
    assert.deepEqual(v.modbus, { unitId: 1, area: 'holding-register', address: 0, functionCode: 3, type: 'float32' });
    assert.equal(v.unit, 'V');
    assert.equal(v.raw.length, 2);
    assert.ok(v.eventTimeUs <= v.ingestTimeUs && v.latencyUs >= 0, 'event time is when the request went out');
    // A ramp of 20/s with a deadband of 5: a record about every 300 ms, not every 100 ms poll.
    const ramp = h.of('feeder/ramp');
    assert.ok(ramp.length >= 2 && ramp.length <= 5, `ramp records: ${ramp.length}`);
    for (let k = 1; k < ramp.length; k++) assert.ok(ramp[k]!.value - ramp[k - 1]!.value > 5);
    assert.equal(sim.stats.writes, 0, 'the gateway never writes');
  });

  it('splits a read around addresses the device refuses, marks only the refused tag, and remembers', async () => {
    const sim = await simulator();
    const h = await harness(sourceConfig(sim.port!));
    await until(() => h.of('feeder/missing').length > 0 && h.of('feeder/after').length > 0, 'the refused and the next tag', 5000);
    const exceptionsAtFirst = sim.stats.exceptionsByCode[2] ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    await h.stop();
    const [missing] = h.of('feeder/missing');
    assert.deepEqual(missing!.quality, ['rejected']);
    assert.equal(missing!.value, null);
    assert.equal(missing!.error.code, 2);
    assert.deepEqual(h.of('feeder/after')[0]!.quality, [], 'its neighbour past the hole reads good');
    assert.deepEqual(h.of('feeder/v')[0]!.quality, [], 'tags before the hole read good');
    // Remembered: later polls read the refused tag alone (one exception per poll), not the whole block again.
    const perPoll = ((sim.stats.exceptionsByCode[2] ?? 0) - exceptionsAtFirst) / 5;
    assert.ok(perPoll <= 1.5, `exceptions per poll after the first: ${perPoll}`);
  });

  it('backs off a dead unit without stalling its neighbours on the same connection', async () => {
    const sim = await simulator();
    const h = await harness(sourceConfig(sim.port!));
    await new Promise((r) => setTimeout(r, 2000));
    const metrics = await h.metricText('gridgate_modbus_requests_total');
    const skipped = await h.metricText('gridgate_modbus_skipped_polls_total');
    await h.stop();
    const [dead] = h.of('dead/x');
    assert.deepEqual(dead!.quality, ['comms_failure']);
    assert.equal(dead!.error.kind, 'timeout');
    const count = (device: string, result: string): number =>
      Number(new RegExp(`gridgate_modbus_requests_total\\{(?=[^}]*device="${device}")(?=[^}]*result="${result}")[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    const ok = count('freq', 'ok');
    // 2 s of 100 ms polls: about 20; timeouts of the dead unit (150 ms, once per back-off) cost a few.
    assert.ok(ok >= 14, `healthy unit polls in 2 s: ${ok}`);
    const timeouts = count('dead', 'timeout');
    assert.ok(timeouts >= 2 && timeouts <= 6, `the dead unit is asked once per back-off, not every poll: ${timeouts} timeouts`);
    assert.match(skipped, /device="dead",reason="degraded"/);
  });

  it('rejects malformed answers, counts them, and recovers when the device answers properly again', async () => {
    const sim = await simulator();
    sim.setFaults(2, { garbage: { probability: 1, kinds: ['wrong-length'] } });
    const h = await harness(sourceConfig(sim.port!));
    await until(async () => /gridgate_modbus_malformed_responses_total\{[^}]*\} [1-9]/.test(await h.metricText('gridgate_modbus_malformed_responses_total')), 'a malformed answer counted', 5000);
    sim.setFaults(2, { garbage: { probability: 0 } });
    await until(() => h.of('freq/f').some((b) => b.quality.length === 0), 'good again', 5000);
    await h.stop();
    const f = h.of('freq/f');
    assert.deepEqual(f[0]!.quality, ['comms_failure']);
    assert.equal(f[0]!.error.kind, 'malformed');
  });

  it('reconnects after the device goes away and comes back', async () => {
    const sim = await simulator();
    const port = sim.port!;
    const h = await harness(sourceConfig(port));
    await until(() => h.of('freq/f').length > 0, 'first value', 5000);
    await sim.close();
    await until(() => h.of('freq/f').some((b) => b.quality.includes('comms_failure')), 'comms failure seen', 5000);
    const again = await simulator({ listen: { host: '127.0.0.1', port } });
    await until(() => h.of('freq/f').at(-1)!.quality.length === 0, 'good after the reconnect', 10_000);
    await h.stop();
    assert.equal(again.stats.writes, 0);
  });

  it('keeps retrying a device that is not there without piling listeners on its stop signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const h = await harness(sourceConfig(1, { reconnect: { initialMs: 10, maxMs: 20 } })); // port 1: refused at once
    try {
      await until(() => /Modbus|ECONNREFUSED/.test(h.readiness().detail ?? '') && h.records.length > 0, 'connection refused', 5000);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // ~50 attempts
    } finally {
      await h.stop();
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => w.name), []);
  });

  it('makes scada-value records, good and bad, that the Avro schema accepts, keyed site/source/device/tag', async () => {
    const sim = await simulator();
    const h = await harness(sourceConfig(sim.port!));
    await until(() => h.of('dead/x').length > 0 && h.of('feeder/missing').length > 0 && h.of('feeder/alarm').length > 0, 'good, refused and dead tags', 5000);
    await h.stop();
    const taken: SpoolEntry[] = [];
    const topics = { pmuFrames: 'p', scadaValues: 'grid.scada.values', features: 'f', anomalies: 'a', late: 'l', deadLetter: 'd' };
    const pipeline = new Pipeline({ site: 'north', stateDir: await tempDir('gridgate-modbus-'), topics, offer: async (e) => void taken.push(...e), log: pino({ level: 'silent' }), registry: new Registry() });
    await pipeline.start();
    pipeline.emitter('meters')(h.records);
    await pipeline.drained();
    await pipeline.stop(new Deadline(1000));
    const type = avro.Type.forSchema(JSON.parse(await readFile(new URL('../../../../schemas/scada-value.avsc', import.meta.url), 'utf8')) as avro.Schema);
    assert.equal(taken.length, h.records.length);
    for (const entry of taken) {
      const value = JSON.parse(entry.value.toString()) as Body;
      assert.equal(entry.topic, 'grid.scada.values');
      assert.equal(entry.key, `north/meters/${value.device}/${value.tag}`);
      assert.equal(entry.headers?.schema, 'gridgate.scada-value/1');
      assert.ok(type.isValid(value, { errorHook: (path) => assert.fail(`${entry.key}: not valid at ${path.join('.')}`) }));
    }
  });

  it('polls over RTU over TCP (RTU frames with CRC through a serial-to-Ethernet converter)', async () => {
    const sim = await simulator({ listen: null, rtuOverTcp: { host: '127.0.0.1', port: 0 } });
    const h = await harness(sourceConfig(sim.rtuOverTcpPort!, { transport: 'rtu-over-tcp' }));
    await until(() => h.of('feeder/v').length > 0 && h.of('freq/f').length > 0, 'values over RTU', 5000);
    await h.stop();
    assert.equal(h.of('feeder/v')[0]!.value, 230.5);
    assert.equal(h.of('feeder/i')[0]!.value, 101.25);
  });
});
