import { GatewayError } from '../errors.js';
import { parseHostPort } from '../protocols/c37118/links.js';
import { probePmu, type ProbeReport } from '../protocols/c37118/probe.js';
import { loadConfig } from '../config/load.js';
import { probeModbus, probeSummary } from '../protocols/modbus/probe.js';
import type { OpcuaSourceConfig } from '../protocols/opcua/config.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate probe pmu HOST:PORT`: the field engineer's first check of a PMU before it goes into a
// site config. Read-only (data on/off and config/header requests only).
// `gridgate probe modbus --config SITE`: every mapped tag of the site's Modbus sources read once
// with the site's own map (function codes 1–4 only): the commissioning report.
// `gridgate probe opcua --config SITE`: every configured node of the site's OPC UA sources resolved
// and read once over the source's own secure session.

export const probeCommand: Command = {
  summary: 'probe pmu HOST:PORT | probe modbus|opcua --config SITE   commissioning checks of field devices (read-only)',
  usage: `Usage: gridgate probe pmu HOST:PORT [--idcode N] [--frames N] [--cfg3] [--timeout-ms MS] [--json]
       gridgate probe modbus --config SITE [--source NAME] [--device NAME] [--json]
       gridgate probe opcua --config SITE [--source NAME] [--json]

probe opcua opens each OPC UA source's session with its configured security mode, policy and
identity (the PKI of the site: an untrusted server certificate fails here as in the gateway),
resolves every item's node (browse paths too) and reads it once: value, data type, status code
and quality, source and server time stamps. Exit 0 when every item read good, 1 otherwise.

probe modbus reads every tag mapped for the site's Modbus sources (or one source, one device)
once, with the plan the gateway uses, and prints per tag the value and unit, the raw registers,
the quality and the request latency, and the requests per poll cycle. Exit 0 when every tag read
good, 1 otherwise.

Connects to a C37.118 PMU or PDC over TCP as a PDC client, asks for the header and the
configuration (CFG-2; --cfg3 tries CFG-3 first and falls back), turns data on, reads --frames data
frames (default 5), turns data off and prints a commissioning summary: stations, IDCODEs,
formats, nominal frequency, rate (configured and measured), channels with units, the latest
values, STAT flags and time quality, and anything that did not decode.
--idcode is the stream IDCODE commands must carry (default 1). Exit 0 when the configuration
arrived and data frames decoded, 1 otherwise.`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(
      'probe',
      args,
      {
        idcode: { type: 'string' },
        frames: { type: 'string' },
        cfg3: { type: 'boolean' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        source: { type: 'string' },
        device: { type: 'string' },
      },
      true,
    );
    if (positionals[0] === 'modbus') return probeModbusCommand(positionals.slice(1), values);
    if (positionals[0] === 'opcua') return probeOpcuaCommand(positionals.slice(1), values);
    const [kind, address, ...extra] = positionals;
    if (kind !== 'pmu' || !address || extra.length > 0 || !/^.+:\d+$/u.test(address)) {
      throw new GatewayError('GW_ERR_USAGE', 'probe: expected "pmu HOST:PORT"');
    }
    const int = (name: string, fallback: number, min: number, max: number): number => {
      const raw = values[name];
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new GatewayError('GW_ERR_USAGE', `probe: --${name} must be an integer from ${min} to ${max}`);
      return n;
    };
    const { host, port } = parseHostPort(address);
    const report = await probePmu({
      host,
      port,
      idcode: int('idcode', 1, 1, 65535),
      frames: int('frames', 5, 1, 10_000),
      configFrame: values.cfg3 ? 'cfg3' : 'cfg2',
      timeoutMs: int('timeout-ms', 3000, 100, 600_000),
    }).catch((err: Error) => {
      throw new GatewayError('GW_ERR_INPUT', `probe: ${err.message}`, { cause: err });
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    return report.config && report.frames.length > 0 ? EXIT.OK : EXIT.FAILURE;
  },
};

async function probeModbusCommand(extra: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (extra.length > 0 || typeof values.config !== 'string') throw new GatewayError('GW_ERR_USAGE', 'probe: expected "modbus --config SITE [--source NAME] [--device NAME]"');
  const config = await loadConfig(values.config);
  const sources = config.sources.flatMap((s) => (s.type === 'modbus' && (values.source === undefined || s.name === values.source) ? [s] : []));
  if (sources.length === 0) throw new GatewayError('GW_ERR_USAGE', `probe: no Modbus source${values.source ? ` named ${String(values.source)}` : ''} in ${values.config}`);
  const device = typeof values.device === 'string' ? values.device : undefined;
  if (device && !sources.some((s) => s.devices.some((d) => d.name === device))) throw new GatewayError('GW_ERR_USAGE', `probe: no Modbus device named ${device}`);
  const reports = [];
  for (const source of sources) {
    if (device && !source.devices.some((d) => d.name === device)) continue;
    const report = await probeModbus(source, device);
    reports.push(report);
    if (!values.json) process.stdout.write(probeSummary(report));
  }
  if (values.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  return reports.every((r) => r.error === null && r.tags.every((t) => t.quality.level === 'good')) ? EXIT.OK : EXIT.FAILURE;
}

async function probeOpcuaCommand(extra: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (extra.length > 0 || typeof values.config !== 'string') throw new GatewayError('GW_ERR_USAGE', 'probe: expected "opcua --config SITE [--source NAME]"');
  const config = await loadConfig(values.config);
  const sources = config.sources.filter((s): s is OpcuaSourceConfig => s.type === 'opcua' && (values.source === undefined || s.name === values.source));
  if (sources.length === 0) throw new GatewayError('GW_ERR_USAGE', `probe: no OPC UA source${values.source ? ` named ${String(values.source)}` : ''} in ${values.config}`);
  // node-opcua is loaded only for this subcommand (a second of start-up the others do not pay).
  const { probeOpcua, opcuaProbeSummary } = await import('../protocols/opcua/probe.js');
  const { pkiDirOf } = await import('../protocols/opcua/pki.js');
  const { routeLibraryLogs } = await import('../protocols/opcua/library-logs.js');
  const { createLogger } = await import('../observability/logger.js');
  const { pino } = await import('pino');
  routeLibraryLogs(createLogger({ level: 'warn' }, { component: 'probe' }, pino.destination({ dest: 2, sync: true })));
  const reports = [];
  for (const source of sources) {
    const report = await probeOpcua(source, pkiDirOf(source, config.state?.dir));
    reports.push(report);
    if (!values.json) process.stdout.write(opcuaProbeSummary(report));
  }
  if (values.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  return reports.every((r) => r.error === null && r.items.every((i) => i.quality.level === 'good')) ? EXIT.OK : EXIT.FAILURE;
}

function summary(r: ProbeReport): string {
  const lines = [`PMU at ${r.peer} (connected in ${r.connectMs} ms)`];
  lines.push(`  header        ${r.header === null ? '(none: the device did not answer)' : JSON.stringify(r.header.slice(0, 200))}`);
  const c = r.config;
  if (!c) {
    lines.push('  configuration NOT RECEIVED: check --idcode (commands must carry the stream IDCODE) and the port');
  } else {
    const rate = c.dataRate > 0 ? `${c.dataRate} frames/s` : `1 frame per ${-c.dataRate} s`;
    lines.push(
      `  configuration ${r.configFrame?.toUpperCase()}: stream IDCODE ${c.idcode}, ${c.pmus.length} PMU(s), ${rate}, TIME_BASE ${c.timeBase}`,
      `  measured rate ${r.measuredRate === null ? '-' : `${r.measuredRate.toFixed(2)} frames/s (from ${r.frames.length} frames' time stamps)`}`,
    );
    const last = r.frames[r.frames.length - 1];
    c.pmus.forEach((pmu, p) => {
      const f = pmu.format;
      lines.push(
        `  PMU ${pmu.idcode} "${pmu.station}"  ${pmu.fnom} Hz, CFGCNT ${pmu.cfgcnt}, phasors ${f & 2 ? 'float' : 'int16'} ${f & 1 ? 'polar' : 'rectangular'}, freq ${f & 8 ? 'float' : 'int16'}, analogs ${f & 4 ? 'float' : 'int16'}`,
      );
      const data = last?.pmus[p];
      if (data) {
        lines.push(
          `    quality ${data.quality.level}${data.quality.reasons.length ? ` (${data.quality.reasons.join(', ')})` : ''}; STAT 0x${data.stat.raw.toString(16).padStart(4, '0')}; time ${last.time}, received ${last.latencyMs.toFixed(0)} ms later`,
          `    freq ${data.freq?.toFixed(4) ?? '-'} Hz, rocof ${data.rocof?.toFixed(4) ?? '-'} Hz/s`,
        );
        for (const ph of data.phasors) {
          lines.push(`    ${ph.name.padEnd(16)} ${ph.magnitude?.toFixed(3) ?? '-'} ${ph.unit} ∠ ${ph.angleRad === null ? '-' : ((ph.angleRad * 180) / Math.PI).toFixed(3)}°`);
        }
        for (const an of data.analogs) lines.push(`    ${an.name.padEnd(16)} ${an.value ?? '-'}`);
        data.digitals.forEach((dg, k) => lines.push(`    digital word ${k + 1}  0x${dg.word.toString(16).padStart(4, '0')}, alarms 0x${dg.alarms.toString(16).padStart(4, '0')}`));
      }
    });
    lines.push(`  data frames   ${r.frames.length} read`);
  }
  const errors = Object.entries(r.errors);
  lines.push(`  errors        ${errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  if (r.otherIdcodes.length > 0) lines.push(`  other streams IDCODE ${r.otherIdcodes.join(', ')} also seen on this connection`);
  return `${lines.join('\n')}\n`;
}
