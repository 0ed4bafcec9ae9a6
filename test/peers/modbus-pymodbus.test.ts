// Our Modbus source against a Modbus server we did not write: pymodbus 3 (test/peers/reference/
// modbus_server.py), over real TCP on 127.0.0.1, Modbus TCP (MBAP) and RTU over TCP.
//
// The values are encoded on the Python side with struct from (type, order, value), not with our
// tag codec, so our byte and word orders are checked against an independent encoder (and the
// Python side checks its ABCD/CDAB against pymodbus's own convert_to_registers). The map covers
// every type in all four orders: int16 uint16 int32 uint32 int64 (exact, and past 2⁵³) uint64 (past
// 2⁶³) float32 float64 string (odd length) bit; a scaled tag; input registers; coils and discrete
// inputs. pymodbus answers exception 2 to any read touching an address its map does not cover, so a
// tag in a hole must come out `rejected`, and only that tag: its neighbours were coalesced into the
// same read at first and must never show anything but good.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { SourceRecord } from '../../src/pipeline/record.js';
import { ModbusSourceSchema, type ModbusSourceConfig, type WordOrder } from '../../src/protocols/modbus/config.js';
import { bodies, type Body, type ModbusHarness as Harness, modbusHarness as harness, type PymodbusPeer as Peer, type PymodbusStats as PeerStats, startPymodbus } from '../helpers/modbus-peer.js';
import { until } from '../helpers/wait.js';

const ORDERS: WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];
const POLL_MS = 200;

// ---------------------------------------------------------------------------------------------
// The map: one row per (kind, value); every row in every order, at consecutive addresses.

interface Row {
  name: string;
  type: 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'string' | 'bits';
  /** What Python encodes (64-bit integers as decimal strings: past 2⁵³ JSON numbers lose digits). */
  value?: number | string;
  registers: number;
  /** What we must decode. */
  expected?: number | string;
}

const ROWS: Row[] = [
  { name: 'i16', type: 'int16', value: -12345, registers: 1, expected: -12345 },
  { name: 'u16', type: 'uint16', value: 0xbeef, registers: 1, expected: 0xbeef },
  { name: 'i32', type: 'int32', value: -123_456_789, registers: 2, expected: -123_456_789 },
  { name: 'u32', type: 'uint32', value: 3_000_000_000, registers: 2, expected: 3_000_000_000 },
  { name: 'i64', type: 'int64', value: '-1234567890123', registers: 4, expected: -1_234_567_890_123 },
  // Past 2⁵³: we decode to the nearest double (tag-codec.ts), which is what Number(BigInt) gives.
  { name: 'i64big', type: 'int64', value: '-1234567890123456789', registers: 4, expected: Number(-1234567890123456789n) },
  { name: 'u64', type: 'uint64', value: '12345678901234567890', registers: 4, expected: Number(12345678901234567890n) },
  // Python rounds 230.123 to float32 with struct 'f', we decode that float32: Math.fround exactly.
  { name: 'f32', type: 'float32', value: 230.123, registers: 2, expected: Math.fround(230.123) },
  { name: 'f64', type: 'float64', value: -12345.678901234567, registers: 4, expected: -12345.678901234567 },
  // 9 characters in 6 registers: the last character alone in its register, then NULs.
  { name: 'str', type: 'string', value: 'Feeder-A3', registers: 6, expected: 'Feeder-A3' },
  { name: 'bits', type: 'bits', registers: 1 },
];
/** The bits set in each `bits` register, and the bit tags read from it. */
const BITS_SET = [0, 3, 15];
const BIT_TAGS = [0, 1, 3, 15];
const COILS = [true, false, true, true, false, false, true, false, true];
const DISCRETE_AT = 10;
const DISCRETE = [false, true, true, false, true];

interface Layout {
  holding: Record<string, unknown>[];
  input: Record<string, unknown>[];
  tags: Record<string, unknown>[];
  /** tag name → what we must decode. */
  expected: Map<string, number | string | boolean>;
  /** tag name → holding address, for comparing raw registers. */
  addressOf: Map<string, number>;
}

function layout(): Layout {
  const holding: Record<string, unknown>[] = [];
  const tags: Record<string, unknown>[] = [];
  const expected = new Map<string, number | string | boolean>();
  const addressOf = new Map<string, number>();
  let address = 0;
  const tag = (t: Record<string, unknown>) => tags.push({ group: 'fast', ...t });
  for (const row of ROWS) {
    for (const order of ORDERS) {
      const name = `${row.name}-${order}`;
      if (row.type === 'bits') {
        holding.push({ address, type: 'bits', set: BITS_SET, order });
        for (const bit of BIT_TAGS) {
          tag({ name: `${name}-${bit}`, area: 'holding-register', address, type: 'bit', bit, order });
          expected.set(`${name}-${bit}`, BITS_SET.includes(bit));
        }
      } else {
        const length = row.type === 'string' ? { length: row.registers } : {};
        holding.push({ address, type: row.type, order, value: row.value, ...length });
        tag({ name, area: 'holding-register', address, type: row.type, order, ...length });
        expected.set(name, row.expected!);
        addressOf.set(name, address);
      }
      address += row.registers;
    }
  }
  // Engineering value = raw × scale + offset.
  holding.push({ address, type: 'uint16', value: 2735 });
  tag({ name: 'scaled', area: 'holding-register', address, type: 'uint16', scale: 0.1, offset: -40, unit: '°C' });
  expected.set('scaled', 2735 * 0.1 - 40);

  // Input registers with a hole (2–3): `missing` sits in it, its neighbours around it.
  const input = [
    { address: 0, type: 'float32', value: 50.02 },
    { address: 4, type: 'uint32', order: 'DCBA', value: 4_000_000_001 },
    { address: 6, type: 'int16', order: 'BADC', value: -2 },
  ];
  tag({ name: 'in-f32', area: 'input-register', address: 0, type: 'float32' });
  tag({ name: 'missing', area: 'input-register', address: 3, type: 'uint16' });
  tag({ name: 'in-u32', area: 'input-register', address: 4, type: 'uint32', order: 'DCBA' });
  tag({ name: 'in-i16', area: 'input-register', address: 6, type: 'int16', order: 'BADC' });
  expected.set('in-f32', Math.fround(50.02));
  expected.set('in-u32', 4_000_000_001);
  expected.set('in-i16', -2);

  COILS.forEach((v, i) => (tag({ name: `coil-${i}`, area: 'coil', address: i, type: 'bool' }), expected.set(`coil-${i}`, v)));
  DISCRETE.forEach((v, i) => {
    tag({ name: `di-${DISCRETE_AT + i}`, area: 'discrete-input', address: DISCRETE_AT + i, type: 'bool' });
    expected.set(`di-${DISCRETE_AT + i}`, v);
  });
  return { holding, input, tags, expected, addressOf };
}

function sourceConfig(address: string, tags: Record<string, unknown>[], transport: 'tcp' | 'rtu-over-tcp'): ModbusSourceConfig {
  return Value.Default(ModbusSourceSchema, {
    name: 'peer',
    type: 'modbus',
    transport,
    address,
    timeoutMs: 1000,
    reconnect: { initialMs: 50, maxMs: 200 },
    devices: [{ name: 'meter', unitId: 1, pollGroups: { fast: POLL_MS }, tags }],
  }) as ModbusSourceConfig;
}

function assertValue(name: string, got: unknown, want: number | string | boolean): void {
  if (name === 'scaled') assert.ok(Math.abs((got as number) - (want as number)) < 1e-9, `${name}: ${got} ≠ ${want}`);
  else assert.equal(got, want, `${name}: decoded ${String(got)}, pymodbus side encoded ${String(want)}`);
}

describe('the Modbus source against pymodbus over Modbus TCP (an independent server and encoder)', () => {
  const map = layout();
  let h: Harness | undefined;
  let peer: Peer | undefined;
  let records: SourceRecord[] = [];
  let stats: PeerStats;
  let exceptionsCounted: number;
  const recordsOf = (name: string): Body[] => bodies(records, `meter/${name}`);

  before(async () => {
    peer = await startPymodbus({
      tcp: { host: '127.0.0.1', port: 0 },
      units: [{ unitId: 1, holding: map.holding, input: map.input, coils: [{ address: 0, values: COILS }], discrete: [{ address: DISCRETE_AT, values: DISCRETE }] }],
    });
    h = await harness(sourceConfig(`127.0.0.1:${peer.where}`, map.tags, 'tcp'));
    records = h.records;
    await until(() => map.tags.every((t) => recordsOf(t.name as string).length > 0), 'a record of every tag', 10_000);
    // A few more polls: constant values publish nothing more; the refused tag is read alone.
    await new Promise((r) => setTimeout(r, 5 * POLL_MS));
    await h.stop();
    exceptionsCounted = await h.metric('gridgate_modbus_requests_total', { device: 'meter', result: 'exception' });
    h = undefined;
    stats = await peer.stop();
    peer = undefined;
  });
  after(async () => {
    await h?.stop();
    await peer?.stop().catch(() => undefined);
  });

  it('decodes every integer, float and string type in all four orders to what Python encoded, all good', () => {
    for (const t of map.tags) {
      const name = t.name as string;
      if (name === 'missing') continue;
      const list = recordsOf(name);
      assert.equal(list.length, 1, `${name}: a constant publishes once (${list.length} records)`);
      assert.deepEqual(list[0]!.quality, [], `${name} quality`);
      assertValue(name, list[0]!.value, map.expected.get(name)!);
    }
    assert.equal(map.expected.size, map.tags.length - 1, 'every tag but the one in the hole has an expected value');
  });

  it('reads the very registers pymodbus served (raw), for every register tag', () => {
    assert.equal(map.addressOf.size, (ROWS.length - 1) * ORDERS.length);
    for (const [name, address] of map.addressOf) {
      assert.deepEqual(recordsOf(name)[0]!.raw, stats.registers['1']!.holding[String(address)], `${name} raw registers`);
    }
  });

  it('reads bits of a register in each order, coils and discrete inputs bit by bit', () => {
    for (const order of ORDERS) for (const bit of BIT_TAGS) assert.equal(recordsOf(`bits-${order}-${bit}`)[0]!.value, BITS_SET.includes(bit), `bit ${bit} ${order}`);
    assert.deepEqual(COILS.map((_, i) => recordsOf(`coil-${i}`)[0]!.value), COILS);
    assert.deepEqual(DISCRETE.map((_, i) => recordsOf(`di-${DISCRETE_AT + i}`)[0]!.value), DISCRETE);
    assert.deepEqual(recordsOf('coil-0')[0]!.modbus, { unitId: 1, area: 'coil', address: 0, functionCode: 1, type: 'bool' });
    assert.deepEqual(recordsOf(`di-${DISCRETE_AT}`)[0]!.modbus, { unitId: 1, area: 'discrete-input', address: DISCRETE_AT, functionCode: 2, type: 'bool' });
  });

  it('marks only the tag in the hole rejected (exception 2); its neighbours, read with it at first, are never anything but good', () => {
    const missing = recordsOf('missing');
    assert.equal(missing.length, 1, 'published once');
    assert.deepEqual(missing[0]!.quality, ['rejected']);
    assert.equal(missing[0]!.value, null);
    assert.equal(missing[0]!.error.kind, 'exception');
    assert.equal(missing[0]!.error.code, 2);
    for (const name of ['in-f32', 'in-u32', 'in-i16']) {
      assert.deepEqual(
        recordsOf(name).map((r) => r.quality),
        [[]],
        `${name}: one good record`,
      );
    }
    // Both ends saw the same refusals: the first poll's (the read across the hole, then its
    // pieces), then one per poll (the refused tag alone), never the whole block again.
    const refused = stats.exceptions['1']?.['2'] ?? 0;
    assert.deepEqual(Object.keys(stats.exceptions['1'] ?? {}), ['2'], 'only exception 2');
    // (One more on the wire when a read was in flight at the stop.)
    assert.ok(refused - exceptionsCounted >= 0 && refused - exceptionsCounted <= 1, `pymodbus refused ${refused} reads, we counted ${exceptionsCounted}`);
    const polls = stats.requests['1']!['2']!; // one discrete-input read per poll
    assert.ok(refused >= polls - 1 && refused <= polls + 4, `${refused} refusals in ${polls} polls`);
  });

  it('never writes: pymodbus saw read function codes 1–4 only', () => {
    assert.deepEqual(stats.writes, []);
    assert.deepEqual(Object.keys(stats.requests['1']!).sort(), ['1', '2', '3', '4']);
    assert.deepEqual(stats.dropped, {});
  });
});

describe('the Modbus source against pymodbus over RTU over TCP (RTU frames with CRC on a TCP stream)', () => {
  it('decodes what pymodbus serves through its RTU framer, in all four orders', async () => {
    const rows = ROWS.filter((r) => r.name === 'f32' || r.name === 'i32' || r.name === 'u64');
    const holding: Record<string, unknown>[] = [];
    const tags: Record<string, unknown>[] = [];
    let address = 0;
    for (const row of rows) {
      for (const order of ORDERS) {
        holding.push({ address, type: row.type, order, value: row.value });
        tags.push({ name: `${row.name}-${order}`, area: 'holding-register', address, type: row.type, order, group: 'fast' });
        address += row.registers;
      }
    }
    tags.push({ name: 'coil-2', area: 'coil', address: 2, type: 'bool', group: 'fast' });
    let peer: Peer | undefined = await startPymodbus({ tcp: { host: '127.0.0.1', port: 0, framer: 'rtu' }, units: [{ unitId: 7, holding, coils: [{ address: 0, values: COILS }] }] });
    let h: Harness | undefined;
    let seen: SourceRecord[] = [];
    let stats: PeerStats;
    try {
      const config = sourceConfig(`127.0.0.1:${peer.where}`, tags, 'rtu-over-tcp');
      config.devices[0]!.unitId = 7;
      h = await harness(config);
      seen = h.records;
      await until(() => tags.every((t) => h!.of(`meter/${t.name as string}`).length > 0), 'a record of every tag', 10_000);
      await h.stop();
      h = undefined;
      stats = await peer.stop();
      peer = undefined;
    } finally {
      await h?.stop();
      await peer?.stop().catch(() => undefined);
    }
    assert.deepEqual(stats.writes, []);
    assert.deepEqual(stats.exceptions, {});
    assert.deepEqual(Object.keys(stats.requests), ['7']);
    for (const row of rows) {
      for (const order of ORDERS) {
        const [r] = bodies(seen, `meter/${row.name}-${order}`);
        assert.deepEqual(r!.quality, []);
        assert.equal(r!.value, row.expected, `${row.name}-${order}`);
        assert.equal(r!.modbus.unitId, 7);
      }
    }
    assert.equal(bodies(seen, 'meter/coil-2')[0]!.value, COILS[2]);
  });
});
