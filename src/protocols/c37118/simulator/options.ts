import { pino } from 'pino';
import { GatewayError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { Format } from '../constants.js';
import { parseScenario } from './scenario.js';
import type { Scenario, ScenarioInput } from './scenario-schema.js';
import type { Endpoint } from './udp-sender.js';

// The simulator's options, their defaults and their bounds, checked once at start. The CLI
// (cli-options.ts) and tests build these; everything downstream receives ResolvedOptions.

export type NumberFormat = 'int' | 'float';

export interface SimulatorOptions {
  /** Stream IDCODE: frame headers and the IDCODE commands must carry. Default 1. */
  idcode?: number;
  /** PMU blocks in the stream. Default 1. */
  pmus?: number;
  /** IDCODE of the first PMU block; the others follow. Default 101. */
  firstPmuIdcode?: number;
  /** Station name prefix; PMU p is "<station> <p+1>". Default "SIM PMU". */
  station?: string;
  /** Phasors per PMU: VA VB VC IA IB IC V1 I1, then more sets. Default 6. */
  phasors?: number;
  analogs?: number;
  digitals?: number;
  /** DATA_RATE: frames per second, or negative: seconds per frame. Default 30 (60 Hz), 25 (50 Hz). */
  dataRate?: number;
  fnom?: 50 | 60;
  /** TIME_BASE. Default 1 000 000. */
  timeBase?: number;
  phasorFormat?: NumberFormat;
  phasorCoords?: 'polar' | 'rectangular';
  freqFormat?: NumberFormat;
  analogFormat?: NumberFormat;
  scenario?: ScenarioInput | Scenario;
  /** Noise seed (0 … 2^32−1). Default: random, reported in the status. */
  seed?: number;
  /** The run's first second (SOC). Default: now. With a seed, makes every frame repeatable. */
  startSoc?: number;
  /** TCP server address. Default 127.0.0.1:4712 when udp is not given; null: no TCP. */
  listen?: Endpoint | null;
  /** Send data frames over UDP to this address. */
  udp?: Endpoint | null;
  udpBind?: Endpoint;
  /** Also send CFG-2 over UDP every this many seconds. */
  udpCfgEveryS?: number | null;
  header?: 'answer' | 'ignore';
  cfg3?: 'answer' | 'ignore';
  /** Split CFG-3 into frames of at most this many bytes. */
  cfg3FragmentBytes?: number | null;
  headerText?: string;
  maxClients?: number;
  /** Frames sent at once when the event loop was late; older ones are skipped. Default: 1 s. */
  maxCatchUpFrames?: number;
  /** Write "<frame time µs> <send time µs>" per data frame sent to this file (send-log.ts). */
  sendLog?: string;
  log?: Logger;
  /** Wall clock, ms since the epoch (tests). */
  clock?: () => number;
}

export interface ResolvedOptions {
  idcode: number;
  pmus: number;
  firstPmuIdcode: number;
  station: string;
  phasors: number;
  analogs: number;
  digitals: number;
  dataRate: number;
  fnom: 50 | 60;
  timeBase: number;
  format: number;
  scenario: Scenario;
  seed: number;
  startSoc: number | undefined;
  listen: Endpoint | null;
  udp: Endpoint | null;
  udpBind: Endpoint | undefined;
  udpCfgEveryS: number | null;
  header: 'answer' | 'ignore';
  cfg3: 'answer' | 'ignore';
  cfg3FragmentBytes: number | null;
  headerText: string | undefined;
  maxClients: number;
  maxCatchUpFrames: number;
  sendLog: string | undefined;
  log: Logger;
  clock: () => number;
}

export const DEFAULT_PORT = 4712;

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw usage(`${name} must be an integer from ${min} to ${max} (got ${v})`);
  return v;
}

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate pmu: ${message}`);

export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const fnom = o.fnom ?? 60;
  if (fnom !== 50 && fnom !== 60) throw usage(`fnom must be 50 or 60 (got ${String(fnom)})`);
  const dataRate = o.dataRate ?? (fnom === 50 ? 25 : 30);
  if (!Number.isInteger(dataRate) || dataRate === 0 || dataRate > 240 || dataRate < -0x8000) {
    throw usage(`the data rate must be 1 to 240 frames/s, or −1 to −32768 for seconds per frame (got ${dataRate})`);
  }
  const pmus = int('pmus', o.pmus, 1, 1, 1000);
  const firstPmuIdcode = int('the first PMU IDCODE', o.firstPmuIdcode, 101, 0, 0xffff - (pmus - 1));
  const format =
    (o.phasorCoords === 'rectangular' ? 0 : Format.POLAR) |
    (o.phasorFormat === 'int' ? 0 : Format.PHASOR_FLOAT) |
    (o.analogFormat === 'int' ? 0 : Format.ANALOG_FLOAT) |
    (o.freqFormat === 'int' ? 0 : Format.FREQ_FLOAT);
  const scenario = parseScenario(o.scenario ?? {});
  for (const [i, e] of scenario.events.entries()) {
    const bad = e.pmus?.find((p) => p >= pmus);
    if (bad !== undefined) throw usage(`scenario event ${i} (${e.type}) names PMU index ${bad}, but the stream has ${pmus} (0 to ${pmus - 1})`);
  }
  const udp = o.udp ?? null;
  const listen = o.listen === undefined ? (udp ? null : { host: '127.0.0.1', port: DEFAULT_PORT }) : o.listen;
  if (!listen && !udp) throw usage('nothing to serve: give a TCP listen address, a UDP destination, or both');
  for (const [name, ep] of [['listen', listen], ['udp', udp], ['udp-bind', o.udpBind]] as const) {
    if (ep) int(`the ${name} port`, ep.port, 0, name === 'udp' ? 1 : 0, 0xffff);
  }
  const udpCfgEveryS = o.udpCfgEveryS ?? null;
  if (!udp && (udpCfgEveryS !== null || o.udpBind)) throw usage('the UDP configuration period and bind address need a UDP destination');
  if (udpCfgEveryS !== null && !(udpCfgEveryS > 0)) throw usage(`the UDP configuration period must be positive (got ${udpCfgEveryS})`);
  const cfg3FragmentBytes = o.cfg3FragmentBytes ?? null;
  // A fragment holds 20 bytes of header, CONT_IDX and CHK; below that encodeCfg3 cannot progress.
  if (cfg3FragmentBytes !== null) int('the CFG-3 fragment size', cfg3FragmentBytes, 0, 64, 0xffff);
  const seed = int('the seed', o.seed, Math.floor(Math.random() * 0x1_0000_0000), 0, 0xffff_ffff);
  const startSoc = o.startSoc === undefined ? undefined : int('the start SOC', o.startSoc, 0, 0, 0xffff_ffff);
  return {
    idcode: int('the stream IDCODE', o.idcode, 1, 0, 0xffff),
    pmus,
    firstPmuIdcode,
    station: o.station ?? 'SIM PMU',
    phasors: int('phasors', o.phasors, 6, 0, 1000),
    analogs: int('analogs', o.analogs, 0, 0, 1000),
    digitals: int('digitals', o.digitals, 0, 0, 100),
    dataRate,
    fnom,
    timeBase: int('the time base', o.timeBase, 1_000_000, 1, 0xffffff),
    format,
    scenario,
    seed,
    startSoc,
    listen,
    udp,
    udpBind: o.udpBind,
    udpCfgEveryS,
    header: o.header ?? 'answer',
    cfg3: o.cfg3 ?? 'answer',
    cfg3FragmentBytes,
    headerText: o.headerText,
    maxClients: int('max clients', o.maxClients, 64, 1, 10_000),
    maxCatchUpFrames: int('the catch-up bound', o.maxCatchUpFrames, Math.max(1, dataRate), 1, 1_000_000),
    sendLog: o.sendLog,
    log: o.log ?? pino({ level: 'silent' }),
    clock: o.clock ?? Date.now,
  };
}
