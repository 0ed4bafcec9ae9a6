import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import { ConfigError } from '../../../../src/config/problems.js';
import { ModbusSourceSchema, type ModbusSourceConfig, type TagType, type WordOrder } from '../../../../src/protocols/modbus/config.js';
import { resolveDevice, type ResolvedTag } from '../../../../src/protocols/modbus/resolve.js';
import { crc16 } from '../../../../src/protocols/modbus/simulator/crc16.js';
import { parseMap, parseMapText } from '../../../../src/protocols/modbus/simulator/map.js';
import type { RegisterMapInput } from '../../../../src/protocols/modbus/simulator/map-schema.js';
import type { ModbusSimulatorOptions } from '../../../../src/protocols/modbus/simulator/options.js';
import { startModbusSimulator, type RunningModbusSimulator } from '../../../../src/protocols/modbus/simulator/simulator.js';
import { RtuFramer, rtuAdu } from '../../../../src/protocols/modbus/simulator/wire.js';
import { decodeTag } from '../../../../src/protocols/modbus/tag-codec.js';

// The Modbus simulator over real sockets on 127.0.0.1, read by modbus-serial's client (a peer we
// did not write) and, for what a client library hides (transaction ids, malformed answers,
// framing), by raw sockets. Most runs use their own clock, so scenario time t is exact.

const ModbusRTU = modbusSerial as unknown as new () => Client;
const T0 = 1_700_000_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  return assert.fail('expected a ConfigError');
}

const running: RunningModbusSimulator[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.close()));
});

/** A simulator on an ephemeral loopback port, with a clock the test moves (`clock.t = 2.5`). */
async function simulator(map: RegisterMapInput, extra: ModbusSimulatorOptions = {}): Promise<{ sim: RunningModbusSimulator; clock: { t: number } }> {
  const clock = { t: 0 };
  const sim = await startModbusSimulator({
    listen: { host: '127.0.0.1', port: 0 },
    map,
    seed: 1,
    clock: () => T0 + clock.t * 1000,
    startMs: T0,
    ...extra,
  });
  running.push(sim);
  return { sim, clock };
}

async function tcpClient(port: number, unit = 1, timeoutMs = 1000): Promise<Client> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

const closeClient = (c: Client): Promise<void> => new Promise((resolve) => c.close(() => resolve()));

/** The exception code a modbus-serial call failed with. */
async function exceptionOf(call: Promise<unknown>): Promise<number> {
  const err = (await call.then(
    () => assert.fail('expected an exception response'),
    (e: unknown) => e,
  )) as { modbusCode?: number; message: string };
  assert.equal(typeof err.modbusCode, 'number', `expected an exception, got: ${err.message}`);
  return err.modbusCode!;
}

async function timesOut(call: Promise<unknown>): Promise<void> {
  const err = (await call.then(
    () => assert.fail('expected a timeout'),
    (e: unknown) => e,
  )) as { errno?: string; message: string };
  assert.match(`${err.errno} ${err.message}`, /ETIMEDOUT|Timed out/);
}

/** A raw TCP client: send bytes, collect everything received. */
async function rawClient(port: number): Promise<{ socket: net.Socket; received: () => Buffer; waitFor: (bytes: number, ms?: number) => Promise<Buffer> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let got = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (got = Buffer.concat([got, chunk])));
  return {
    socket,
    received: () => got,
    async waitFor(bytes, ms = 2000) {
      const deadline = Date.now() + ms;
      while (got.length < bytes) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${bytes} bytes (got ${got.length}: ${got.toString('hex')})`);
        await sleep(5);
      }
      return got;
    },
  };
}

/** An MBAP request: transaction id, unit, PDU bytes. */
const mbap = (tx: number, unit: number, ...pdu: number[]): Buffer => {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tx, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
};
const readPdu = (fc: number, start: number, count: number): number[] => [fc, start >> 8, start & 0xff, count >> 8, count & 0xff];

/** A resolved gateway tag (resolve.ts), to decode served registers with the gateway's own codec. */
function gatewayTag(tag: { name?: string; area?: 'holding-register' | 'coil'; address: number; type: TagType; order?: WordOrder; bit?: number; length?: number; scale?: number; offset?: number }): ResolvedTag {
  const source = sourceOf([{ name: 'd', unitId: 1, tags: [{ name: 't', area: 'holding-register', ...tag }] }]);
  const { tags, problems } = resolveDevice(source.devices[0]!);
  assert.deepEqual(problems, []);
  return tags[0]!;
}

function sourceOf(devices: unknown[], extra: Record<string, unknown> = {}): ModbusSourceConfig {
  const source = Value.Default(ModbusSourceSchema, structuredClone({ name: 'meters', type: 'modbus', address: '127.0.0.1:502', devices, ...extra })) as ModbusSourceConfig;
  return source;
}

describe('register map', () => {
  it('fills the defaults of a map given as an object', () => {
    const map = parseMap({ units: [{ unitId: 3, registers: [{ address: 7, value: { sine: { amplitude: 2, periodS: 5 } } }] }] });
    assert.equal(map.unknownUnits, 'silent');
    const unit = map.units[0]!;
    assert.equal(unit.order, 'ABCD');
    assert.equal(unit.unmapped, 'zero');
    assert.equal(unit.delayMs, 0);
    assert.equal(unit.dead, false);
    assert.deepEqual(unit.registers[0], { address: 7, area: 'holding-register', type: 'uint16', repeat: 1, value: { sine: { amplitude: 2, periodS: 5, offset: 0, phaseDeg: 0 } } });
  });

  it('reports every schema problem of a map file with file:line:column and the key path', () => {
    const text = [
      'units:', //                                                     1
      '  - unitId: 1', //                                              2
      '    registers:', //                                             3
      '      - { address: 5, type: florat32 }', //                    4
      '    delayMs: -3', //                                            5
      '    dead: maybe', //                                            6
      '    colour: red', //                                            7
    ].join('\n');
    const err = configErrorOf(() => parseMapText(text, 'meters.yaml'));
    const lines = err.report().split('\n');
    assert.ok(lines.some((l) => l.startsWith('meters.yaml:4:') && l.includes('units[0].registers[0].type: must be one of: bool, bit, int16')), err.report());
    assert.ok(lines.some((l) => l.startsWith('meters.yaml:5:') && l.includes('units[0].delayMs: must be >= 0')), err.report());
    assert.ok(lines.some((l) => l.startsWith('meters.yaml:6:') && l.includes('units[0].dead: must be true, false or { at, durationS }')), err.report());
    assert.ok(lines.some((l) => l.includes('units[0].colour: unknown key "colour"')), err.report());
    assert.equal(err.code, 'GW_ERR_CONFIG_INVALID');
  });

  it('reports what the schema cannot say: values against their kind and type, overlaps, duplicate units', () => {
    const text = [
      'units:', //                                                                          1
      '  - unitId: 1', //                                                                   2
      '    registers:', //                                                                  3
      '      - { address: 0, type: float32, value: { sine: { amplitude: 1, periodS: 0 } } }', // 4
      '      - { address: 1, type: uint16 }', //                                            5
      '      - { address: 9, type: bool }', //                                              6
      '      - { address: 10, type: uint16, value: "text" }', //                            7
      '      - { address: 11, value: { wobble: 3 } }', //                                   8
      '      - { address: 12, type: bit, bit: 1 }', //                                      9
      '      - { address: 12, type: bit, bit: 2 }', //                                      10
      '      - { address: 65535, type: uint32 }', //                                        11
      '  - unitId: 1', //                                                                   12
    ].join('\n');
    const err = configErrorOf(() => parseMapText(text, 'm.yaml'));
    const report = err.report();
    assert.match(report, /^m\.yaml:4:\d+ units\[0\]\.registers\[0\]\.value\.sine\.periodS: must be > 0$/m);
    assert.match(report, /^m\.yaml:5:\d+ units\[0\]\.registers\[1\]\.address: overlaps registers\[0\]/m);
    assert.match(report, /^m\.yaml:6:\d+ units\[0\]\.registers\[2\]\.type: type bool is for coils and discrete inputs/m);
    assert.match(report, /^m\.yaml:7:\d+ units\[0\]\.registers\[3\]\.value: text is a value only for type string/m);
    assert.match(report, /^m\.yaml:8:\d+ units\[0\]\.registers\[4\]\.value: must be a number, true\/false, text, or one of/m);
    assert.match(report, /^m\.yaml:11:\d+ units\[0\]\.registers\[7\]\.address: 2 register\(s\) from 65535 run past address 65535$/m);
    assert.match(report, /^m\.yaml:12:\d+ units\[1\]\.unitId: unit 1 is also units\[0\]/m);
    assert.doesNotMatch(report, /registers\[6\]/, 'two bits of one register do not overlap');
  });
});

describe('values', () => {
  const CASES: { type: TagType; value: number }[] = [
    { type: 'int16', value: -12345 },
    { type: 'uint16', value: 54321 },
    { type: 'int32', value: -123456789 },
    { type: 'uint32', value: 3_123_456_789 },
    { type: 'int64', value: -(2 ** 40) - 5 },
    { type: 'uint64', value: 2 ** 52 + 3 },
    { type: 'float32', value: 3.25 },
    { type: 'float64', value: -1234.5678 },
  ];
  const ORDERS: WordOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

  it("serves every type in every order so that the gateway's tag decoder reads the value back", async () => {
    const registers: NonNullable<RegisterMapInput['units'][number]['registers']> = [];
    const expected: { tag: ResolvedTag; value: number | boolean | string }[] = [];
    let address = 0;
    for (const order of ORDERS) {
      for (const c of CASES) {
        registers.push({ address, type: c.type, order, value: c.value });
        expected.push({ tag: gatewayTag({ address, type: c.type, order }), value: c.value });
        address += 4;
      }
      registers.push({ address, type: 'string', order, length: 3, value: 'ABCDE' });
      expected.push({ tag: gatewayTag({ address, type: 'string', order, length: 3 }), value: 'ABCDE' });
      registers.push({ address: address + 3, type: 'bit', bit: 9, order, value: true });
      expected.push({ tag: gatewayTag({ address: address + 3, type: 'bit', bit: 9, order }), value: true });
      address += 4;
    }
    const { sim } = await simulator({ units: [{ unitId: 1, registers }] });
    const c = await tcpClient(sim.port!);
    const words = [...(await c.readHoldingRegisters(0, 120)).data, ...(await c.readHoldingRegisters(120, address - 120)).data];
    await closeClient(c);
    for (const { tag, value } of expected) {
      assert.deepEqual(decodeTag(tag, words, tag.address), value, `${tag.type} ${tag.order} at ${tag.address}`);
    }
  });

  it('changes values with time as the map says, and as model.read predicts', async () => {
    const { sim, clock } = await simulator({
      units: [
        {
          unitId: 1,
          registers: [
            { address: 0, type: 'float32', value: { sine: { offset: 230, amplitude: 10, periodS: 8 } } },
            { address: 2, type: 'uint16', value: { ramp: { perS: 3, from: 10, to: 40 } } },
            { address: 3, type: 'uint32', value: { counter: { perS: 10, from: 100 } } },
            { address: 5, type: 'int16', value: { random: { min: -50, max: 50, everyS: 1 } } },
            { address: 6, type: 'bit', bit: 0, value: { toggle: { periodS: 4 } } },
          ],
        },
      ],
    });
    const c = await tcpClient(sim.port!);
    const seen: number[][] = [];
    for (const t of [0, 2, 2.5, 11]) {
      clock.t = t;
      const { data, buffer } = await c.readHoldingRegisters(0, 7);
      assert.deepEqual(data, sim.model.read(1, 'holding-register', 0, 7, t), `t = ${t}`);
      assert.ok(Math.abs(buffer.readFloatBE(0) - (230 + 10 * Math.sin((2 * Math.PI * t) / 8))) < 1e-4, `sine at t = ${t}`);
      assert.equal(data[2], Math.round(10 + ((3 * t) % 30)), `ramp (a sawtooth 10 → 40) at t = ${t}`);
      assert.equal(buffer.readUInt32BE(6), Math.floor(100 + 10 * t), `counter at t = ${t}`);
      assert.equal(data[6], t % 4 < 2 ? 1 : 0, `toggle at t = ${t}`);
      seen.push(data);
    }
    assert.equal(seen[1]![5], seen[2]![5], 'a random value holds for everyS');
    assert.notDeepEqual(seen[0], seen[3]);
    await closeClient(c);
  });

  it('gives the same values for the same seed and other random values for another seed', async () => {
    const map: RegisterMapInput = { units: [{ unitId: 1, registers: [{ address: 0, type: 'uint16', repeat: 20, value: { random: { min: 0, max: 60000 } } }] }] };
    const a = await simulator(map, { seed: 42 });
    const b = await simulator(map, { seed: 42 });
    const other = await simulator(map, { seed: 43 });
    for (const s of [a, b, other]) s.clock.t = 17.3;
    const read = async (s: { sim: RunningModbusSimulator }) => {
      const c = await tcpClient(s.sim.port!);
      const { data } = await c.readHoldingRegisters(0, 20);
      await closeClient(c);
      return data;
    };
    const [ra, rb, ro] = [await read(a), await read(b), await read(other)];
    assert.deepEqual(ra, rb);
    assert.notDeepEqual(ra, ro);
    assert.ok(new Set(ra).size > 15, 'the copies of a repeated register have their own random streams');
  });

  it('clamps integers to their type, but wraps counters and ramps as a device counter rolls over', async () => {
    const { sim, clock } = await simulator({
      units: [
        {
          unitId: 1,
          registers: [
            { address: 0, type: 'int16', value: 40000 },
            { address: 1, type: 'uint16', value: -5 },
            { address: 2, type: 'uint16', value: { counter: { perS: 1, from: 65530 } } },
            { address: 3, type: 'int16', value: { ramp: { perS: 1000, from: 32000 } } },
          ],
        },
      ],
    });
    clock.t = 10;
    const c = await tcpClient(sim.port!);
    const { buffer } = await c.readHoldingRegisters(0, 4);
    await closeClient(c);
    assert.equal(buffer.readInt16BE(0), 32767);
    assert.equal(buffer.readUInt16BE(2), 0);
    assert.equal(buffer.readUInt16BE(4), 4); // 65540 wraps to 4
    assert.equal(buffer.readInt16BE(6), 42000 - 65536);
  });

  it('serves coils and discrete inputs as packed bits', async () => {
    const { sim, clock } = await simulator({
      units: [
        {
          unitId: 1,
          registers: [
            { area: 'coil', address: 3, value: true },
            { area: 'coil', address: 4, value: { toggle: { periodS: 2 } } },
            { area: 'coil', address: 12, value: 1 },
            { area: 'discrete-input', address: 0, value: false },
            { area: 'discrete-input', address: 1, value: true },
          ],
        },
      ],
    });
    clock.t = 1.5;
    const c = await tcpClient(sim.port!);
    const coils = (await c.readCoils(0, 13)).data.slice(0, 13);
    assert.deepEqual(coils, [false, false, false, true, false, false, false, false, false, false, false, false, true]);
    assert.deepEqual((await c.readDiscreteInputs(0, 2)).data.slice(0, 2), [false, true]);
    await closeClient(c);
  });
});

describe('faults over Modbus TCP', () => {
  it('answers a read touching a hole with exception 2, and reads around it', async () => {
    const { sim } = await simulator({
      units: [{ unitId: 1, registers: [{ address: 0, value: 7 }], holes: [{ from: 10, to: 19 }, { area: 'input-register', from: 0 }] }],
    });
    const c = await tcpClient(sim.port!);
    assert.equal(await exceptionOf(c.readHoldingRegisters(5, 10)), 2);
    assert.equal(await exceptionOf(c.readHoldingRegisters(19, 1)), 2);
    assert.deepEqual((await c.readHoldingRegisters(0, 10)).data, [7, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(await exceptionOf(c.readInputRegisters(0, 1)), 2);
    assert.deepEqual((await c.readInputRegisters(1, 1)).data, [0]);
    await closeClient(c);
    assert.equal(sim.stats.exceptionsByCode[2], 3);
  });

  it('answers unmapped addresses with exception 2 when the unit says illegal-address', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1, unmapped: 'illegal-address', registers: [{ address: 0, type: 'uint32', value: 1 }, { address: 2, value: 2 }] }] });
    const c = await tcpClient(sim.port!);
    assert.deepEqual((await c.readHoldingRegisters(0, 3)).data, [0, 1, 2]);
    assert.deepEqual((await c.readHoldingRegisters(1, 1)).data, [1]);
    assert.equal(await exceptionOf(c.readHoldingRegisters(0, 4)), 2);
    await closeClient(c);
  });

  it('refuses bad quantities with exception 3 and reads past 65535 with exception 2', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1 }] });
    const raw = await rawClient(sim.port!);
    raw.socket.write(mbap(1, 1, ...readPdu(3, 0, 126)));
    raw.socket.write(mbap(2, 1, ...readPdu(3, 0, 0)));
    raw.socket.write(mbap(3, 1, ...readPdu(1, 0, 2001)));
    raw.socket.write(mbap(4, 1, ...readPdu(4, 65500, 40)));
    raw.socket.write(mbap(5, 1, 3, 0, 0)); // a read without its quantity
    const got = await raw.waitFor(5 * 9);
    const answers = Array.from({ length: 5 }, (_, k) => got.subarray(k * 9, k * 9 + 9).toString('hex'));
    assert.deepEqual(answers, ['000100000003018303', '000200000003018303', '000300000003018103', '000400000003018402', '000500000003018303']);
    raw.socket.destroy();
  });

  it('answers scheduled exceptions during their time only, and only for their area and addresses', async () => {
    const { sim, clock } = await simulator({
      units: [{ unitId: 1, registers: [{ address: 0, value: 1 }], exceptions: [{ area: 'holding-register', from: 100, to: 110, code: 4 }, { code: 6, at: 10, durationS: 5 }] }],
    });
    const c = await tcpClient(sim.port!);
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [1]);
    assert.equal(await exceptionOf(c.readHoldingRegisters(95, 6)), 4);
    assert.deepEqual((await c.readInputRegisters(100, 1)).data, [0]);
    clock.t = 10;
    assert.equal(await exceptionOf(c.readHoldingRegisters(0, 1)), 6);
    assert.equal(await exceptionOf(c.readCoils(0, 1)), 6);
    clock.t = 15;
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [1]);
    await closeClient(c);
  });

  it('delays the answers of a unit with delayMs, not those of the others', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1 }, { unitId: 2, delayMs: 250 }] });
    const c = await tcpClient(sim.port!);
    let start = performance.now();
    await c.readHoldingRegisters(0, 1);
    assert.ok(performance.now() - start < 150, 'unit 1 answers at once');
    c.setID(2);
    start = performance.now();
    await c.readHoldingRegisters(0, 1);
    const took = performance.now() - start;
    assert.ok(took >= 240 && took < 1000, `unit 2 answered after ${took.toFixed(0)} ms`);
    await closeClient(c);
  });

  it('never answers for a dead unit, so the client times out, while the other units answer', async () => {
    const { sim, clock } = await simulator({ units: [{ unitId: 1 }, { unitId: 2, dead: true }, { unitId: 3, dead: { at: 5, durationS: 5 } }] });
    const c = await tcpClient(sim.port!, 2, 200);
    await timesOut(c.readHoldingRegisters(0, 1));
    c.setID(1);
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [0]);
    c.setID(3);
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [0]);
    clock.t = 6;
    await timesOut(c.readHoldingRegisters(0, 1));
    clock.t = 10;
    await closeClient(c);
    const c2 = await tcpClient(sim.port!, 3, 200);
    assert.deepEqual((await c2.readHoldingRegisters(0, 1)).data, [0]);
    await closeClient(c2);
    assert.equal(sim.stats.unanswered, 2);
  });

  it('changes faults on demand while serving', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1, registers: [{ address: 0, value: 9 }] }] });
    const c = await tcpClient(sim.port!, 1, 200);
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [9]);
    sim.setFaults(1, { exceptions: [{ code: 6 }] });
    assert.equal(await exceptionOf(c.readHoldingRegisters(0, 1)), 6);
    sim.setFaults(1, { exceptions: [], dead: true });
    await timesOut(c.readHoldingRegisters(0, 1));
    await closeClient(c);
    sim.setFaults(1, { dead: false, delayMs: 120 });
    const c2 = await tcpClient(sim.port!, 1, 1000);
    const start = performance.now();
    assert.deepEqual((await c2.readHoldingRegisters(0, 1)).data, [9]);
    assert.ok(performance.now() - start >= 110);
    await closeClient(c2);
  });

  it('refuses every write with exception 1, counts it, and changes nothing', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1, registers: [{ address: 0, value: 5 }, { area: 'coil', address: 0, value: false }] }] });
    const c = await tcpClient(sim.port!);
    assert.equal(await exceptionOf(c.writeCoil(0, true)), 1); // 5
    assert.equal(await exceptionOf(c.writeRegister(0, 77)), 1); // 6
    assert.equal(await exceptionOf(c.writeCoils(0, [true, true])), 1); // 15
    assert.equal(await exceptionOf(c.writeRegisters(0, [77, 78])), 1); // 16
    assert.deepEqual((await c.readHoldingRegisters(0, 1)).data, [5]);
    assert.equal((await c.readCoils(0, 1)).data[0], false);
    await closeClient(c);
    assert.equal(sim.stats.writes, 4);
    assert.equal(sim.stats.exceptionsByCode[1], 4);
  });

  it('leaves requests for unknown units unanswered, or answers exception 11 as a gateway would', async () => {
    const silent = await simulator({ units: [{ unitId: 1 }] });
    const c = await tcpClient(silent.sim.port!, 9, 200);
    await timesOut(c.readHoldingRegisters(0, 1));
    await closeClient(c);
    const gateway = await simulator({ unknownUnits: 'gateway-exception', units: [{ unitId: 1 }] });
    const g = await tcpClient(gateway.sim.port!, 9);
    assert.equal(await exceptionOf(g.readHoldingRegisters(0, 1)), 11);
    await closeClient(g);
    assert.equal(silent.sim.stats.requestsByUnit[9], 1);
  });

  it('sends malformed responses of the kinds asked for', async () => {
    const kinds = ['wrong-transaction', 'wrong-unit', 'wrong-length', 'wrong-function'] as const;
    const answers: string[] = [];
    for (const kind of kinds) {
      const { sim } = await simulator({ units: [{ unitId: 1, registers: [{ address: 0, type: 'uint32', value: 0x01020304 }], garbage: { probability: 1, kinds: [kind] } }] });
      const raw = await rawClient(sim.port!);
      raw.socket.write(mbap(0x1234, 1, ...readPdu(3, 0, 2)));
      const expected = kind === 'wrong-length' ? 11 : 13;
      answers.push((await raw.waitFor(expected)).toString('hex'));
      raw.socket.destroy();
      assert.equal(sim.stats.garbage, 1);
    }
    assert.deepEqual(answers, [
      '12350000000701030401020304', // transaction id + 1
      '12340000000702030401020304', // unit + 1
      '123400000005010302' + '0102', // one register short, byte count consistent
      '12340000000701040401020304', // function 4 for 3
    ]);
  });

  it('frames a request split at every byte offset and answers each request once', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1, registers: [{ address: 0, value: 0xabcd }] }] });
    const raw = await rawClient(sim.port!);
    raw.socket.setNoDelay(true);
    const two = Buffer.concat([mbap(1, 1, ...readPdu(3, 0, 1)), mbap(2, 1, ...readPdu(3, 0, 1))]);
    for (let cut = 1; cut < two.length; cut++) {
      raw.socket.write(two.subarray(0, cut));
      await sleep(1);
      raw.socket.write(two.subarray(cut));
    }
    const got = await raw.waitFor(2 * 11 * (two.length - 1));
    await sleep(30);
    assert.equal(raw.received().length, 2 * 11 * (two.length - 1), 'no extra answers');
    for (let k = 0; k < 2 * (two.length - 1); k++) {
      assert.equal(got.subarray(k * 11, k * 11 + 11).toString('hex'), `000${(k % 2) + 1}00000005010302abcd`);
    }
    raw.socket.destroy();
  });

  it('closes a connection whose MBAP header is not Modbus, counting the bytes', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1 }] });
    const raw = await rawClient(sim.port!);
    const bad = mbap(1, 1, ...readPdu(3, 0, 1));
    bad.writeUInt16BE(7, 2); // protocol id 7
    raw.socket.write(bad);
    await once(raw.socket, 'close');
    assert.equal(raw.received().length, 0);
    assert.ok(sim.stats.badBytes > 0);
  });
});

describe('RTU framing', () => {
  const request = (unit: number, ...pdu: number[]): Buffer => rtuAdu(unit, Buffer.from(pdu));

  it('computes the CRC-16/MODBUS check value', () => {
    assert.equal(crc16(Buffer.from('123456789')), 0x4b37);
    // Modbus over Serial Line V1.02 §6.2.2's example frame: 02 07 → CRC 41 12 (low byte first).
    assert.equal(rtuAdu(2, Buffer.of(7)).toString('hex'), '02074112');
  });

  it('frames requests split at every byte offset', () => {
    const frames = Buffer.concat([request(1, ...readPdu(3, 0, 2)), request(2, 16, 0, 1, 0, 2, 4, 0, 1, 0, 2), request(3, ...readPdu(1, 5, 9))]);
    for (let cut = 0; cut <= frames.length; cut++) {
      const framer = new RtuFramer(() => assert.fail('no garbage expected'));
      const out: string[] = [];
      for (const part of [frames.subarray(0, cut), frames.subarray(cut)]) {
        framer.push(part);
        for (let r = framer.next(); r; r = framer.next()) out.push(`${r.unit}:${r.pdu.toString('hex')}`);
      }
      assert.deepEqual(out, ['1:0300000002', '2:10000100020400010002', '3:0100050009'], `cut at ${cut}`);
    }
  });

  it('drops bytes with a bad CRC and resynchronises on the next valid request', () => {
    let dropped = 0;
    const framer = new RtuFramer((bytes) => (dropped += bytes));
    const bad = request(1, ...readPdu(3, 0, 2));
    bad[bad.length - 1]! ^= 0x55;
    framer.push(Buffer.concat([Buffer.of(0xff, 0x03), bad, request(1, ...readPdu(4, 7, 1))]));
    const r = framer.next();
    assert.equal(r?.pdu.toString('hex'), '0400070001');
    assert.equal(dropped, 2 + bad.length);
    assert.equal(framer.next(), null);
  });

  it('ends a request of unknown layout only when the line goes idle', () => {
    const framer = new RtuFramer(() => assert.fail('no garbage expected'));
    framer.push(request(1, 0x41, 1, 2, 3));
    assert.equal(framer.next(), null);
    assert.equal(framer.next(true)?.pdu.toString('hex'), '41010203');
  });
});

/**
 * An RTU-over-TCP client: modbus-serial's TelnetPort writes RTU frames (with CRC) on the socket.
 * (Its TcpRTUBufferedPort, despite the name, writes MBAP frames: it is Modbus TCP.)
 */
async function rtuOverTcpClient(port: number, unit = 1, timeoutMs = 1000): Promise<Client> {
  const c = new ModbusRTU();
  await c.connectTelnet('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

describe('RTU over TCP', () => {
  const MAP: RegisterMapInput = {
    units: [
      { unitId: 1, registers: [{ address: 0, type: 'float32', value: 49.95 }, { area: 'input-register', address: 0, value: { counter: { perS: 2 } } }], holes: [{ from: 10 }] },
      { unitId: 2, dead: true },
      { unitId: 3, garbage: { probability: 1, kinds: ['bad-crc'] } },
    ],
  };

  it('serves the map as RTU frames with CRC over TCP', async () => {
    const { sim, clock } = await simulator(MAP, { listen: null, rtuOverTcp: { host: '127.0.0.1', port: 0 } });
    assert.equal(sim.port, undefined);
    const c = await rtuOverTcpClient(sim.rtuOverTcpPort!, 1, 300);
    const { buffer } = await c.readHoldingRegisters(0, 2);
    assert.ok(Math.abs(buffer.readFloatBE(0) - 49.95) < 1e-5);
    clock.t = 21;
    assert.deepEqual((await c.readInputRegisters(0, 1)).data, [42]);
    assert.equal(await exceptionOf(c.readHoldingRegisters(10, 1)), 2);
    assert.equal(await exceptionOf(c.writeRegister(0, 1)), 1);
    c.setID(2);
    await timesOut(c.readHoldingRegisters(0, 1));
    c.setID(3);
    await assert.rejects(c.readHoldingRegisters(0, 1), /CRC/i);
    await closeClient(c);
    assert.equal(sim.stats.writes, 1);
    assert.equal(sim.stats.garbage, 1);
  });

  it('ignores a request with a bad CRC and answers the next one', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1, registers: [{ address: 0, value: 0x1234 }] }] }, { listen: null, rtuOverTcp: { host: '127.0.0.1', port: 0 } });
    const raw = await rawClient(sim.rtuOverTcpPort!);
    const bad = rtuAdu(1, Buffer.from(readPdu(3, 0, 1)));
    bad[bad.length - 2]! ^= 1;
    raw.socket.write(Buffer.concat([bad, rtuAdu(1, Buffer.from(readPdu(3, 0, 1)))]));
    const got = await raw.waitFor(7);
    assert.equal(got.toString('hex'), rtuAdu(1, Buffer.of(3, 2, 0x12, 0x34)).toString('hex'));
    await sleep(50);
    assert.equal(raw.received().length, 7);
    assert.equal(sim.stats.badBytes, bad.length);
    raw.socket.destroy();
  });

  it('answers a request with an unknown function code with exception 1 once the line is idle', async () => {
    const { sim } = await simulator({ units: [{ unitId: 1 }] }, { listen: null, rtuOverTcp: { host: '127.0.0.1', port: 0 }, idleMs: 10 });
    const raw = await rawClient(sim.rtuOverTcpPort!);
    raw.socket.write(rtuAdu(1, Buffer.of(0x41, 9, 9)));
    assert.equal((await raw.waitFor(5)).toString('hex'), rtuAdu(1, Buffer.of(0xc1, 1)).toString('hex'));
    raw.socket.destroy();
  });
});

/** A socat pty pair, or null when socat is not installed. */
async function ptyPair(): Promise<{ a: string; b: string; child: ChildProcess } | null> {
  if (spawnSync('socat', ['-V']).error) return null;
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const deadline = Date.now() + 5000;
  for (;;) {
    const paths = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
    if (paths.length === 2 && /starting data transfer loop/.test(text)) return { a: paths[0]!, b: paths[1]!, child };
    assert.ok(Date.now() < deadline, `socat did not report two ptys: ${text}`);
    await sleep(10);
  }
}

describe('RTU on a serial line (socat pty pair)', () => {
  it('serves the map to an RTU master on the other end of the pair', async (t) => {
    const pair = await ptyPair();
    if (!pair) {
      t.skip('socat is not installed (apt-get install socat)');
      return;
    }
    try {
      const { sim, clock } = await simulator(
        {
          units: [
            { unitId: 1, registers: [{ address: 0, type: 'float32', order: 'CDAB', value: 230.5 }, { area: 'coil', address: 0, value: true }] },
            { unitId: 7, registers: [{ address: 100, type: 'uint16', value: { ramp: { perS: 1 } } }], exceptions: [{ area: 'input-register', code: 4 }] },
            { unitId: 8, dead: true },
          ],
        },
        { listen: null, serial: { path: pair.a, baudRate: 19200, parity: 'even' } },
      );
      assert.deepEqual(sim.status.serial, { path: pair.a, baudRate: 19200, parity: 'even' });
      const c = new ModbusRTU();
      await c.connectRTUBuffered(pair.b, { baudRate: 19200, parity: 'even' });
      c.setTimeout(500);
      c.setID(1);
      const { buffer } = await c.readHoldingRegisters(0, 2);
      assert.equal(Buffer.concat([buffer.subarray(2, 4), buffer.subarray(0, 2)]).readFloatBE(0), 230.5);
      assert.equal((await c.readCoils(0, 1)).data[0], true);
      c.setID(7);
      clock.t = 33;
      assert.deepEqual((await c.readHoldingRegisters(100, 1)).data, [33]);
      assert.equal(await exceptionOf(c.readInputRegisters(0, 1)), 4);
      assert.equal(await exceptionOf(c.writeRegisters(100, [1, 2])), 1);
      c.setID(8);
      await timesOut(c.readHoldingRegisters(0, 1));
      await closeClient(c);
      assert.equal(sim.stats.writes, 1);
      assert.equal(sim.stats.unanswered, 1);
      await sim.close();
    } finally {
      pair.child.kill('SIGTERM');
    }
  });
});

// Imported when used: site-map.ts loads config/load.ts, which compiles the whole site schema.
const siteMap = () => import('../../../../src/protocols/modbus/simulator/site-map.js');

describe('serving a site config', () => {
  const DEVICES = [
    {
      name: 'feeder-1',
      unitId: 1,
      tags: [
        { name: 'va', area: 'holding-register', address: 0, type: 'uint16', scale: 0.1, unit: 'V' },
        { name: 'frequency', area: 'holding-register', address: 1, type: 'float32' },
        { name: 'energy', area: 'input-register', address: 0, type: 'uint32', unit: 'kWh' },
        { name: 'breaker', area: 'coil', address: 0, type: 'bool' },
        { name: 'model', area: 'holding-register', address: 10, type: 'string', length: 4 },
        { name: 'va-again', area: 'holding-register', address: 0, type: 'int16' },
      ],
    },
    {
      name: 'feeder-2',
      unitId: 2,
      addressing: 'modicon',
      order: 'CDAB',
      tags: [{ name: 'p', address: 40011, type: 'float32', unit: 'kW', scale: 2, offset: 100 }],
    },
  ];

  /** Read each tag and decode it with the gateway's own resolve + codec. */
  async function readTags(sim: RunningModbusSimulator, source: ModbusSourceConfig): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const c = await tcpClient(sim.port!);
    for (const device of source.devices) {
      c.setID(device.unitId);
      for (const tag of resolveDevice(device).tags) {
        const data =
          tag.area === 'coil'
            ? (await c.readCoils(tag.address, 1)).data
            : tag.area === 'input-register'
              ? (await c.readInputRegisters(tag.address, tag.count)).data
              : (await c.readHoldingRegisters(tag.address, tag.count)).data;
        out[`${device.name}/${tag.name}`] = decodeTag(tag, data, 0);
      }
    }
    await closeClient(c);
    return out;
  }

  it('serves every tag of the source with plausible values in engineering units, at the addresses the gateway resolves', async () => {
    const source = sourceOf(DEVICES);
    const site = (await siteMap()).mapFromSource(source);
    assert.deepEqual(site.overlapped, ['feeder-1/va-again']);
    assert.deepEqual(site.listen, { tcp: { host: '127.0.0.1', port: 502 } });
    const { sim, clock } = await simulator(site.map);
    const first = await readTags(sim, source);
    assert.ok(Math.abs((first['feeder-1/va'] as number) - 230) <= 230 * 0.02 + 0.1, `va ${first['feeder-1/va']}`);
    assert.ok(Math.abs((first['feeder-1/frequency'] as number) - 50) <= 0.06, `frequency ${first['feeder-1/frequency']}`);
    assert.ok(Math.abs((first['feeder-2/p'] as number) - 500) <= 50.01, `p ${first['feeder-2/p']}`);
    assert.equal(first['feeder-1/model'], 'SIM mode');
    assert.equal(typeof first['feeder-1/breaker'], 'boolean');
    clock.t = 3600;
    const later = await readTags(sim, source);
    assert.ok((later['feeder-1/energy'] as number) > (first['feeder-1/energy'] as number), 'energy counts up');
    assert.notEqual(later['feeder-1/va'], first['feeder-1/va']);
  });

  it('loads the source from a site config file, validated as gridgate run validates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-modbus-sim-'));
    const file = join(dir, 'site.yaml');
    const yaml = (devices: unknown) =>
      [
        'site: test-site',
        'kafka: { brokers: ["127.0.0.1:9092"] }',
        `spool: { dir: ${JSON.stringify(join(dir, 'spool'))} }`,
        `state: { dir: ${JSON.stringify(dir)} }`,
        'sources:',
        `  - { name: meters, type: modbus, transport: rtu-over-tcp, address: "127.0.0.1:4001", devices: ${JSON.stringify(devices)} }`,
      ].join('\n');
    writeFileSync(file, yaml(DEVICES));
    const { mapFromSite } = await siteMap();
    const site = await mapFromSite(file, undefined);
    assert.equal(site.source.name, 'meters');
    assert.deepEqual(site.listen, { rtuOverTcp: { host: '127.0.0.1', port: 4001 } });
    assert.deepEqual(site.map.units.map((u) => u.unitId), [1, 2]);
    await assert.rejects(mapFromSite(file, 'other'), /no Modbus source "other".*meters/);
    writeFileSync(file, yaml([{ name: 'bad', tags: [{ name: 'x', area: 'holding-register', address: 70000 }] }]));
    await assert.rejects(mapFromSite(file, undefined), (err: unknown) => err instanceof ConfigError && /site\.yaml:6:\d+/.test(err.report()));
  });
});

describe('gridgate simulate modbus', () => {
  it('prints one JSON status line, serves, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'modbus', '--listen', '127.0.0.1:0', '--seed', '5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('\n')) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `no status line; stderr: ${stderr}`);
      await sleep(20);
    }
    const status = JSON.parse(stdout.split('\n')[0]!) as { status: string; simulator: string; tcp: string; units: number[]; seed: number; map: string };
    assert.equal(status.status, 'serving');
    assert.equal(status.simulator, 'modbus');
    assert.deepEqual(status.units, [1]);
    assert.equal(status.seed, 5);
    assert.equal(status.map, '(demo)');
    const c = await tcpClient(Number(status.tcp.split(':')[1]));
    const { buffer } = await c.readHoldingRegisters(0, 2);
    assert.ok(Math.abs(buffer.readFloatBE(0) - 230) <= 5.001);
    await closeClient(c);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim().split('\n').length, 1, 'nothing but the status line on stdout');
  });

  it('exits 1 with file:line messages for an invalid map, and 64 for a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-modbus-sim-'));
    const file = join(dir, 'map.yaml');
    writeFileSync(file, 'units:\n  - unitId: 1\n    delayMs: soon\n');
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'modbus', '--map', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+ units\\[0\\]\\.delayMs: must be integer`));
    const wrong = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', 'modbus', '--baud', '9600'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(wrong.status, 64, wrong.stderr);
    assert.match(wrong.stderr, /--baud needs --serial/);
  });
});
