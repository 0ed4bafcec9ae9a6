import { pino } from 'pino';
import { GatewayError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { parseMap } from './map.js';
import type { RegisterMap, RegisterMapInput } from './map-schema.js';
import type { SerialOptions } from './serial-line.js';

// The simulator's options, their defaults and bounds, checked once at start. The CLI
// (cli-options.ts) and tests build these; everything downstream receives ResolvedOptions.

export interface Endpoint {
  host: string;
  port: number;
}

export interface ModbusSimulatorOptions {
  /** The register map; default: a small demo unit 1 (DEMO_MAP). */
  map?: RegisterMapInput | RegisterMap;
  /** Where the map came from, for the status line. */
  mapName?: string;
  /** Modbus TCP listen address. Default 127.0.0.1:5020 unless another transport is given; null: none. */
  listen?: Endpoint | null;
  /** RTU frames over TCP (a serial-to-Ethernet converter). */
  rtuOverTcp?: Endpoint | null;
  /** RTU on a serial device or pty. Defaults: 9600 baud, even parity, 1 stop bit, 8 data bits. */
  serial?: (Partial<SerialOptions> & { path: string }) | null;
  /** Seed of random values and faults (0 … 2^32−1). Default: the map's, else random (in the status). */
  seed?: number;
  maxClients?: number;
  /** RTU framing: silence that ends a request of unknown layout, ms. Default 20. */
  idleMs?: number;
  log?: Logger;
  /** Wall clock, ms since the epoch (tests). */
  clock?: () => number;
  /** Scenario time 0, in clock ms. Default: the clock at start. */
  startMs?: number;
}

export interface ResolvedOptions {
  map: RegisterMap;
  mapName: string;
  listen: Endpoint | null;
  rtuOverTcp: Endpoint | null;
  serial: SerialOptions | null;
  seed: number;
  maxClients: number;
  idleMs: number;
  log: Logger;
  clock: () => number;
  startMs: number | undefined;
}

export const DEFAULT_PORT = 5020;

/** Served when no map is given: one unit with one value of each common kind. */
export const DEMO_MAP: RegisterMapInput = {
  units: [
    {
      unitId: 1,
      registers: [
        { name: 'voltage', address: 0, type: 'float32', value: { sine: { offset: 230, amplitude: 5, periodS: 60 } } },
        { name: 'current', address: 2, type: 'float32', value: { sine: { offset: 100, amplitude: 20, periodS: 30 } } },
        { name: 'frequency', address: 4, type: 'float32', value: { sine: { offset: 50, amplitude: 0.05, periodS: 20 } } },
        { name: 'energy', address: 6, type: 'uint32', value: { counter: { perS: 10 } } },
        { name: 'temperature', address: 8, type: 'int16', value: { random: { min: 35, max: 45, everyS: 5 } } },
        { name: 'breaker', address: 9, type: 'bit', bit: 0, value: { toggle: { periodS: 30 } } },
        { name: 'name', address: 20, type: 'string', length: 8, value: 'GRIDGATE-SIM' },
        { name: 'sequence', area: 'input-register', address: 0, type: 'uint16', value: { ramp: { perS: 1 } } },
        { name: 'alarm', area: 'coil', address: 0, value: { toggle: { periodS: 10 } } },
        { name: 'door', area: 'discrete-input', address: 0, value: { toggle: { periodS: 20 } } },
      ],
    },
  ],
};

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate modbus: ${message}`);

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw usage(`${name} must be an integer from ${min} to ${max} (got ${v})`);
  return v;
}

export function resolveOptions(o: ModbusSimulatorOptions): ResolvedOptions {
  const map = parseMap(o.map ?? DEMO_MAP);
  const rtuOverTcp = o.rtuOverTcp ?? null;
  const serial: SerialOptions | null = o.serial
    ? {
        path: o.serial.path,
        baudRate: int('the baud rate', o.serial.baudRate, 9600, 300, 921_600),
        parity: o.serial.parity ?? 'even',
        stopBits: o.serial.stopBits ?? 1,
        dataBits: o.serial.dataBits ?? 8,
      }
    : null;
  if (serial && !['none', 'even', 'odd'].includes(serial.parity)) throw usage(`parity must be none, even or odd (got ${serial.parity})`);
  if (serial && serial.stopBits !== 1 && serial.stopBits !== 2) throw usage(`stop bits must be 1 or 2 (got ${serial.stopBits})`);
  if (serial && serial.dataBits !== 8) throw usage(`RTU needs 8 data bits (got ${serial.dataBits})`);
  const listen = o.listen === undefined ? (rtuOverTcp || serial ? null : { host: '127.0.0.1', port: DEFAULT_PORT }) : o.listen;
  if (!listen && !rtuOverTcp && !serial) throw usage('nothing to serve: give a TCP listen address, an RTU-over-TCP address or a serial device');
  for (const [name, ep] of [['listen', listen], ['rtu-over-tcp', rtuOverTcp]] as const) {
    if (ep) int(`the ${name} port`, ep.port, 0, 0, 0xffff);
  }
  if (rtuOverTcp || serial) {
    // Modbus over Serial Line §2.2: 0 is broadcast (never answered), 248–255 reserved.
    const bad = map.units.find((u) => u.unitId < 1 || u.unitId > 247);
    if (bad) throw usage(`unit ${bad.unitId} cannot be served over RTU (unit ids 1–247; 0 is broadcast)`);
  }
  const clock = o.clock ?? Date.now;
  return {
    map,
    mapName: o.mapName ?? (o.map ? '(map)' : '(demo)'),
    listen,
    rtuOverTcp,
    serial,
    seed: int('the seed', o.seed ?? map.seed, Math.floor(Math.random() * 0x1_0000_0000), 0, 0xffff_ffff),
    maxClients: int('max clients', o.maxClients, 64, 1, 10_000),
    idleMs: int('the RTU idle gap (ms)', o.idleMs, 20, 1, 10_000),
    log: o.log ?? pino({ level: 'silent' }),
    clock,
    startMs: o.startMs,
  };
}
