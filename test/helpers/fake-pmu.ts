import { createServer, type Server, type Socket } from 'node:net';
import { NO_CFG3_FIELDS, type ConfigFrame } from '../../src/protocols/c37118/cfg-frame.js';
import { DataColumns } from '../../src/protocols/c37118/data-frame.js';
import { encodeCfg12, encodeData } from '../../src/protocols/c37118/encoder.js';
import { Framer } from '../../src/protocols/c37118/framer.js';
import { StreamLayout } from '../../src/protocols/c37118/layout.js';
import { StreamDecoder } from '../../src/protocols/c37118/stream-decoder.js';

// A scripted PMU for source tests: it records every command it receives (with its IDCODE and the
// TCP segment it came in) and the test decides what goes back, byte for byte. The product's
// simulator (`gridgate simulate pmu`) is the realistic device; this one is for precise edge cases.

export interface ReceivedCommand {
  idcode: number;
  command: number;
  at: number;
}

export class FakePmu {
  readonly server: Server;
  readonly commands: ReceivedCommand[] = [];
  /** Sizes of the TCP reads that carried commands: one command per read means one per write. */
  readonly commandReads: number[] = [];
  sockets: Socket[] = [];
  connections = 0;
  onCommand: (command: number, socket: Socket) => void = () => undefined;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<FakePmu> {
    const server = createServer();
    const pmu = new FakePmu(server);
    server.on('connection', (socket) => {
      pmu.connections++;
      pmu.sockets.push(socket);
      socket.on('error', () => undefined);
      const framer = new Framer();
      const decoder = new StreamDecoder();
      socket.on('data', (chunk) => {
        pmu.commandReads.push(chunk.length);
        framer.push(chunk);
        for (let out = framer.next(); out.kind !== 'none'; out = framer.next()) {
          if (out.kind !== 'frame') continue;
          const d = decoder.decode(out.buf, out.offset, out.length);
          if (d.kind === 'command') {
            pmu.commands.push({ idcode: d.idcode, command: d.command.command, at: Date.now() });
            pmu.onCommand(d.command.command, socket);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return pmu;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Write to every open connection. */
  send(bytes: Buffer): void {
    for (const s of this.sockets) if (!s.destroyed) s.write(bytes);
  }

  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets = [];
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A one-PMU float configuration for stream `idcode` (PMU IDCODE idcode+100) at `rate` frames/s. */
export function simpleConfig(idcode: number, rate: number, options: { phasors?: number; cfgcnt?: number } = {}): ConfigFrame {
  const phasors = Array.from({ length: options.phasors ?? 2 }, (_, k) => ({
    name: `V${k + 1}`,
    unit: 'V' as const,
    raw: 0,
    factor: 1,
    magnitudeScale: 1,
    angleOffsetRad: 0,
    modificationFlags: 0,
    component: null,
  }));
  return {
    kind: 'cfg2',
    version: 2,
    idcode,
    soc: 1_700_000_000,
    fracsec: 0,
    timeBase: 1_000_000,
    dataRate: rate,
    pmus: [
      {
        station: 'TEST PMU',
        idcode: idcode + 100,
        format: 0b1111,
        phasors,
        analogs: [],
        digitals: [],
        fnom: 50,
        cfgcnt: options.cfgcnt ?? 1,
        ...NO_CFG3_FIELDS,
      },
    ],
  };
}

/** Data frames k = from … to-1 of `config` (frame k at SOC + k/rate), freq 50 + k/1000. */
export function dataFrames(config: ConfigFrame, from: number, to: number, stat = 0): Buffer[] {
  const columns = new DataColumns(new StreamLayout(config));
  const frames: Buffer[] = [];
  for (let k = from; k < to; k++) {
    columns.stat.fill(stat);
    columns.freq.fill(50 + k / 1000);
    columns.rocof.fill(0);
    for (let i = 0; i < columns.phasorA.length; i++) {
      columns.phasorA[i] = 1000 + k;
      columns.phasorB[i] = i;
    }
    const soc = config.soc + Math.floor(k / config.dataRate);
    const fracsec = Math.round(((k % config.dataRate) * config.timeBase) / config.dataRate);
    frames.push(encodeData(columns, { idcode: config.idcode, soc, fracsec }));
  }
  return frames;
}

export const cfg2Frame = (config: ConfigFrame): Buffer => encodeCfg12(config);
