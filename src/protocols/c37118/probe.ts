import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigFrame } from './cfg-frame.js';
import { Command } from './constants.js';
import { encodeCommandNow } from './encoder.js';
import { Framer } from './framer.js';
import { dataJson, type PmuDataJson } from './json.js';
import { COMMAND_GAP_MS, TcpLink } from './links.js';
import { StreamDecoder } from './stream-decoder.js';

// A commissioning check of one PMU over TCP, for `gridgate probe pmu`: connect, ask for the
// header and the configuration, turn data on, read a few frames, turn data off. Read-only: the
// only commands sent are data on/off and send-header/send-config.

export interface ProbeOptions {
  host: string;
  port: number;
  idcode: number;
  frames: number;
  configFrame: 'cfg2' | 'cfg3';
  timeoutMs: number;
}

export interface ProbeReport {
  peer: string;
  connectMs: number;
  header: string | null;
  config: ConfigFrame | null;
  configFrame: 'cfg2' | 'cfg3' | null;
  frames: { time: string; latencyMs: number; pmus: PmuDataJson[] }[];
  measuredRate: number | null;
  /** Bytes or frames that did not decode, by reason. */
  errors: Record<string, number>;
  otherIdcodes: number[];
}

export async function probePmu(o: ProbeOptions, signal: AbortSignal = new AbortController().signal): Promise<ProbeReport> {
  const started = Date.now();
  const link = await TcpLink.connect(o.host, o.port, o.timeoutMs, signal);
  const report: ProbeReport = {
    peer: link.peer,
    connectMs: Date.now() - started,
    header: null,
    config: null,
    configFrame: null,
    frames: [],
    measuredRate: null,
    errors: {},
    otherIdcodes: [],
  };
  const framer = new Framer();
  const decoder = new StreamDecoder();
  /** Event times (ms) of the frames read: their spacing is the device's real rate. */
  const arrivals: number[] = [];
  let wake: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => link.socket.once('close', () => resolve()));
  link.socket.on('error', () => undefined);
  link.socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (let out = framer.next(); out.kind !== 'none'; out = framer.next()) {
      if (out.kind === 'garbage') {
        report.errors[out.reason ?? 'bad-sync'] = (report.errors[out.reason ?? 'bad-sync'] ?? 0) + 1;
        continue;
      }
      const d = decoder.decode(out.buf, out.offset, out.length);
      if (d.idcode !== o.idcode && !report.otherIdcodes.includes(d.idcode)) report.otherIdcodes.push(d.idcode);
      if (d.kind === 'header') report.header = d.text;
      else if (d.kind === 'config' && d.active && d.idcode === o.idcode) report.config = d.config;
      else if (d.kind === 'fault') report.errors[d.reason] = (report.errors[d.reason] ?? 0) + 1;
      else if (d.kind === 'data' && d.idcode === o.idcode && report.frames.length < o.frames) {
        const c = d.columns;
        const now = Date.now();
        arrivals.push(c.eventTimeUs / 1000);
        report.frames.push({
          time: new Date(Math.floor(c.eventTimeUs / 1000)).toISOString(),
          latencyMs: now - c.eventTimeUs / 1000,
          pmus: dataJson(c),
        });
      }
    }
    wake?.();
  });
  const until = async (done: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline && !link.socket.destroyed) {
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(Math.min(50, ms)), closed]);
    }
    return done();
  };
  const command = (cmd: number): Buffer => encodeCommandNow(o.idcode, cmd);
  try {
    await link.send(command(Command.DATA_OFF));
    await sleep(COMMAND_GAP_MS);
    await link.send(command(Command.SEND_HEADER));
    await until(() => report.header !== null, 500);
    for (const kind of o.configFrame === 'cfg3' ? (['cfg3', 'cfg2'] as const) : (['cfg2'] as const)) {
      await link.send(command(kind === 'cfg3' ? Command.SEND_CFG3 : Command.SEND_CFG2));
      if (await until(() => report.config !== null, o.timeoutMs)) {
        report.configFrame = kind;
        break;
      }
    }
    if (report.config) {
      await link.send(command(Command.DATA_ON));
      const rate = report.config.dataRate;
      const periodMs = rate > 0 ? 1000 / rate : -rate * 1000;
      await until(() => report.frames.length >= o.frames, o.timeoutMs + periodMs * o.frames);
      await link.send(command(Command.DATA_OFF));
      if (arrivals.length >= 2) report.measuredRate = ((arrivals.length - 1) * 1000) / (arrivals[arrivals.length - 1]! - arrivals[0]!);
    }
  } finally {
    link.close();
  }
  return report;
}
