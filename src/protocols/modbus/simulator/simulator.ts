import type { AddressInfo } from 'node:net';
import { VERSION } from '../../../version.js';
import type { ExceptionRule, GarbageSpec, Schedule } from './map-schema.js';
import { SimModel } from './model.js';
import { resolveOptions, type ModbusSimulatorOptions } from './options.js';
import { Responder } from './responder.js';
import { SerialLine } from './serial-line.js';
import { newStats, type ModbusSimulatorStats } from './stats.js';
import { ModbusTcpServer } from './tcp-server.js';

// The Modbus simulator, composed: a model of the units (model.ts) compiled from the register map,
// one responder, and up to three transports serving the same model at once.
//
//   Modbus TCP client ──MBAP──▶ ModbusTcpServer ─┐
//   RTU-over-TCP client ──RTU──▶ ModbusTcpServer ─┼─▶ Session (framing, delays) ─▶ Responder ─▶ model.read(t)
//   serial master ──RTU──▶ SerialLine ─────────────┘
//
// Time: t = (clock − startMs) / 1000 s; every value is a function of (seed, t), so a test that
// knows t can predict any read (model.read). Read-only: writes get exception 1, counted.

export interface ModbusSimulatorStatus {
  simulator: 'modbus';
  version: string;
  map: string;
  tcp: string | null;
  rtuOverTcp: string | null;
  serial: { path: string; baudRate: number; parity: string } | null;
  units: number[];
  /** Values served (registers, bits), every unit. */
  points: number;
  seed: number;
}

export interface FaultPatch {
  delayMs?: number;
  dead?: boolean | Schedule;
  garbage?: GarbageSpec | null;
  /** Replaces the unit's exception rules (defaults filled: from 0, to 65535, at 0, probability 1). */
  exceptions?: (Partial<ExceptionRule> & { code: number })[];
}

export interface RunningModbusSimulator {
  /** The Modbus TCP port and address, when serving TCP. */
  readonly port?: number;
  readonly host?: string;
  /** The RTU-over-TCP port, when serving it. */
  readonly rtuOverTcpPort?: number;
  readonly stats: Readonly<ModbusSimulatorStats>;
  readonly status: ModbusSimulatorStatus;
  /** The units: what any read at time t returns (tests predict values with it). */
  readonly model: SimModel;
  /** Scenario time now, seconds. */
  t(): number;
  /** Change a unit's faults while serving ("on demand"): delay, dead, garbage, exceptions. */
  setFaults(unitId: number, patch: FaultPatch): void;
  close(): Promise<void>;
}

export async function startModbusSimulator(options: ModbusSimulatorOptions = {}): Promise<RunningModbusSimulator> {
  const o = resolveOptions(options);
  const log = o.log;
  const model = new SimModel(o.map, o.seed);
  const stats = newStats();
  const startMs = o.startMs ?? o.clock();
  const t = (): number => (o.clock() - startMs) / 1000;
  const responder = new Responder(model, stats, log.child({ component: 'responder' }), t);

  const tcp = o.listen
    ? new ModbusTcpServer(responder, stats, log.child({ component: 'tcp' }), { ...o.listen, framing: 'mbap', maxClients: o.maxClients, idleMs: o.idleMs })
    : null;
  const rtuTcp = o.rtuOverTcp
    ? new ModbusTcpServer(responder, stats, log.child({ component: 'rtu-over-tcp' }), {
        ...o.rtuOverTcp,
        framing: 'rtu',
        maxClients: o.maxClients,
        idleMs: o.idleMs,
      })
    : null;
  const serial = o.serial ? new SerialLine(responder, stats, log.child({ component: 'serial' }), o.serial, o.idleMs) : null;

  let tcpAddress: AddressInfo | undefined;
  let rtuAddress: AddressInfo | undefined;
  try {
    tcpAddress = await tcp?.listen();
    rtuAddress = await rtuTcp?.listen();
    await serial?.open();
  } catch (err) {
    await Promise.all([tcp?.close(), rtuTcp?.close(), serial?.close()]);
    throw err;
  }

  const status: ModbusSimulatorStatus = {
    simulator: 'modbus',
    version: VERSION,
    map: o.mapName,
    tcp: tcpAddress ? formatAddress(tcpAddress) : null,
    rtuOverTcp: rtuAddress ? formatAddress(rtuAddress) : null,
    serial: o.serial ? { path: o.serial.path, baudRate: o.serial.baudRate, parity: o.serial.parity } : null,
    units: model.unitIds,
    points: [...model.units].reduce((n, u) => n + u.points, 0),
    seed: o.seed,
  };
  log.info(status, 'modbus simulator started');

  let closing: Promise<void> | undefined;
  return {
    port: tcpAddress?.port,
    host: tcpAddress?.address,
    rtuOverTcpPort: rtuAddress?.port,
    stats,
    status,
    model,
    t,
    setFaults(unitId, patch) {
      const unit = model.unit(unitId);
      if (!unit) throw new Error(`no unit ${unitId} in the map`);
      const f = unit.faults;
      if (patch.delayMs !== undefined) f.delayMs = patch.delayMs;
      if (patch.dead !== undefined) f.dead = patch.dead;
      if (patch.garbage !== undefined) f.garbage = patch.garbage;
      if (patch.exceptions !== undefined) {
        f.exceptions = patch.exceptions.map((e) => ({ from: 0, to: 0xffff, at: 0, probability: 1, ...e }));
      }
      log.info({ unitId, patch }, 'faults changed');
    },
    close() {
      closing ??= (async () => {
        await Promise.all([tcp?.close(), rtuTcp?.close(), serial?.close()]);
        log.info({ stats }, 'modbus simulator stopped');
      })();
      return closing;
    },
  };
}

function formatAddress(a: AddressInfo): string {
  return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
