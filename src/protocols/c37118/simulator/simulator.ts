import { GatewayError } from '../../../errors.js';
import { VERSION } from '../../../version.js';
import { MAX_FRAME_SIZE } from '../constants.js';
import { encodeCfg12 } from '../encoder.js';
import { eventTimeUs } from '../time.js';
import { ReportingGrid, SimClock } from './grid.js';
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options.js';
import { PmuModel } from './pmu-model.js';
import { Responder } from './responder.js';
import { SendLog } from './send-log.js';
import { newStats, type SimulatorStats } from './stats.js';
import { TcpServer } from './tcp-server.js';
import { Ticker } from './ticker.js';
import { UdpSender } from './udp-sender.js';

// The PMU simulator, composed: a model of the device (pmu-model.ts) driven by a scenario, a ticker
// on the reporting grid, and the transports.
//
//   ticker ──n──▶ drop? ──▶ model.dataFrame(n) ──▶ TCP clients with data on     (mode tcp)
//                                               └─▶ UDP destination            (mode udp, mixed)
//   client ──command──▶ responder ──▶ header / CFG-1/2/3 / data on-off
//
// Modes: tcp (listen only): commands and data on each connection. udp (destination only): data
// from the start, commands taken on the UDP socket. mixed (both): commands and configuration over
// TCP; data-on over TCP starts the UDP stream to the destination, data-off stops it.
// A frame is encoded once, only when someone receives it, whatever the number of clients.

export interface SimulatorStatus {
  simulator: 'pmu';
  version: string;
  mode: 'tcp' | 'udp' | 'mixed';
  tcp: string | null;
  udp: { localPort: number; destination: string } | null;
  idcode: number;
  pmus: number[];
  dataRate: number;
  fnom: number;
  timeBase: number;
  format: { phasor: string; coords: string; freq: string; analog: string };
  seed: number;
  startSoc: number;
  events: number;
}

export interface RunningSimulator {
  /** TCP port and address, when serving TCP. */
  readonly port?: number;
  readonly host?: string;
  /** Local UDP port, when sending UDP. */
  readonly udpPort?: number;
  readonly stats: Readonly<SimulatorStats>;
  readonly status: SimulatorStatus;
  /** The device model: what any frame holds (tests predict values with it). */
  readonly model: PmuModel;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const o = resolveOptions(options);
  const log = o.log;
  const grid = new ReportingGrid(o.dataRate, o.timeBase);
  const clock = new SimClock(o.clock, o.startSoc);
  const model = new PmuModel(
    {
      ...o,
      pmuCount: o.pmus,
      voltageV: (o.scenario.signal.voltageKv * 1000) / Math.sqrt(3),
      currentA: o.scenario.signal.currentA,
    },
    o.scenario,
    o.dataRate > 0 ? 1 / o.dataRate : -o.dataRate,
  );
  checkSizes(model);
  const mode = o.listen && o.udp ? 'mixed' : o.listen ? 'tcp' : 'udp';
  const responder = new Responder(model, clock, {
    idcode: o.idcode,
    header: o.header,
    cfg3: o.cfg3,
    cfg3FragmentBytes: o.cfg3FragmentBytes,
    headerText: o.headerText ?? headerText(o),
  });
  const stats = newStats();

  const udp = o.udp
    ? new UdpSender(responder, stats, log.child({ component: 'udp' }), { destination: o.udp, bind: o.udpBind, maxInFlight: 256 })
    : null;
  const udpPort = udp ? await udp.open() : undefined;
  if (udp && mode === 'udp') udp.enabled = true;
  const onUdpData = (on: boolean): void => {
    if (udp) udp.enabled = on;
    log.info({ destination: udp?.destination, on }, 'udp data switched by a command over tcp');
  };
  const dataPath = mode === 'mixed' ? 'udp' : 'tcp';
  const tcp = o.listen
    ? new TcpServer(responder, stats, log.child({ component: 'tcp' }), { ...o.listen, dataPath, maxClients: o.maxClients }, onUdpData)
    : null;
  let address;
  try {
    address = tcp ? await tcp.listen() : undefined;
  } catch (err) {
    await udp?.close();
    throw err;
  }

  const sendLog = o.sendLog === undefined ? undefined : new SendLog(o.sendLog);
  let lastCfgS = -Infinity;
  let lastVersion = model.versions[0];
  const onFrame = (n: number): void => {
    const t = grid.secondsSince(n, clock.originSoc);
    if (model.state.dropped(t, n)) {
      stats.framesDropped++;
      return;
    }
    const toTcp = tcp !== null && mode === 'tcp' && tcp.streaming > 0;
    const toUdp = udp !== null && udp.enabled;
    if (!toTcp && !toUdp) return;
    if (toUdp && o.udpCfgEveryS !== null) {
      // UDP-only receivers learn the configuration from these; a new one goes out at once.
      const version = model.versionAt(t);
      if (t - lastCfgS >= o.udpCfgEveryS || version !== lastVersion) {
        for (const frame of responder.configFrames('cfg2')) udp.send(frame);
        lastCfgS = t;
        lastVersion = version;
      }
    }
    const soc = grid.soc(n);
    const fracsec = grid.fracsec(n, model.state.timeQuality(t, o.pmus));
    const frame = model.dataFrame(n, t, soc, fracsec);
    stats.framesGenerated++;
    if (toTcp) tcp.broadcast(frame);
    if (toUdp) udp.send(frame);
    sendLog?.sent(eventTimeUs(soc, fracsec, o.timeBase));
  };
  const ticker = new Ticker(grid, clock, onFrame, o.maxCatchUpFrames, (skipped) => {
    stats.framesLate += skipped;
  });
  ticker.start(o.startSoc ?? clock.nowMs() / 1000);

  const status: SimulatorStatus = {
    simulator: 'pmu',
    version: VERSION,
    mode,
    tcp: address ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : null,
    udp: udp && udpPort !== undefined ? { localPort: udpPort, destination: udp.destination } : null,
    idcode: o.idcode,
    pmus: Array.from({ length: o.pmus }, (_, p) => o.firstPmuIdcode + p),
    dataRate: o.dataRate,
    fnom: o.fnom,
    timeBase: o.timeBase,
    format: formatNames(o),
    seed: o.seed,
    startSoc: clock.originSoc,
    events: o.scenario.events.length,
  };
  log.info(status, 'pmu simulator started');

  let closing: Promise<void> | undefined;
  return {
    port: address?.port,
    host: address?.address,
    udpPort,
    stats,
    status,
    model,
    close() {
      closing ??= (async () => {
        ticker.stop();
        await Promise.all([tcp?.close(), udp?.close(), sendLog?.close()]);
        log.info({ stats }, 'pmu simulator stopped');
      })();
      return closing;
    },
  };
}

/** Refuse a device whose frames cannot exist (FRAMESIZE is 16 bits). */
function checkSizes(model: PmuModel): void {
  for (const v of model.versions) {
    const problem =
      v.layout.frameSize > MAX_FRAME_SIZE
        ? `a data frame would be ${v.layout.frameSize} bytes`
        : (() => {
            try {
              encodeCfg12(v.configs.cfg2);
              return null;
            } catch (err) {
              return (err as Error).message;
            }
          })();
    if (problem) throw new GatewayError('GW_ERR_USAGE', `simulate pmu: too many PMUs or channels: ${problem} (at most ${MAX_FRAME_SIZE})`);
  }
}

function formatNames(o: ResolvedOptions): SimulatorStatus['format'] {
  return {
    phasor: o.format & 2 ? 'float' : 'int',
    coords: o.format & 1 ? 'polar' : 'rectangular',
    freq: o.format & 8 ? 'float' : 'int',
    analog: o.format & 4 ? 'float' : 'int',
  };
}

function headerText(o: ResolvedOptions): string {
  const pmus = Array.from({ length: o.pmus }, (_, p) => `${o.firstPmuIdcode + p} "${o.station} ${p + 1}"`).join(', ');
  const rate = o.dataRate > 0 ? `${o.dataRate} frames/s` : `1 frame per ${-o.dataRate} s`;
  return `gridgate ${VERSION} PMU simulator. Stream ${o.idcode}: ${o.pmus} PMU(s): ${pmus}. ${rate}, ${o.fnom} Hz, seed ${o.seed}.`;
}
