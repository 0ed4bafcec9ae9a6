import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SiteConfig } from '../../src/config/site-schema.js';
import { pkiDirOf } from '../../src/protocols/opcua/pki.js';
import type { Child, ProcessGroup } from './children.js';

// A simulated substation for a site config: one `gridgate simulate …` process per source, on the
// address the source connects to, so the config and its devices cannot disagree. PMU streams get
// what a config cannot say (PMUs per stream, rate, a scenario) from `pmu`.

export interface PmuSimulation {
  /** PMU blocks in the stream (a PDC); default 1. */
  pmus?: number;
  /** Frames per second; default 60. */
  rate?: number;
  phasors?: number;
  analogs?: number;
  /** A scenario file (signal, noise, scripted events). */
  scenario?: string;
  /** Log each frame's time stamp and the moment it was sent here (--send-log). */
  sendLog?: string;
}

export interface SimulatedSite {
  simulators: Child[];
  /** The OPC UA simulators' certificates, put into the gateway's PKI as trusted. */
  trusted: { source: string; thumbprint: string }[];
}

export async function startSimulatedSite(
  group: ProcessGroup,
  config: SiteConfig,
  configFile: string,
  options: { logDir: string; pmu?: (source: string) => PmuSimulation; seed?: number },
): Promise<SimulatedSite> {
  // One seed per device, so that PMUs of different streams do not report identical noise.
  let seed = options.seed ?? 7;
  const simulators: Child[] = [];
  const opcua: { source: string; pki: string; child: Child }[] = [];
  for (const source of config.sources) {
    const logFile = join(options.logDir, `simulate-${source.name}.log`);
    const start = (args: string[]): Child => {
      const child = group.start(`simulate ${source.name}`, ['simulate', ...args], { logFile, statusLine: true });
      simulators.push(child);
      return child;
    };
    if (source.type === 'c37118') {
      const sim = options.pmu?.(source.name) ?? {};
      const transport =
        source.transport === 'tcp'
          ? ['--listen', source.address!]
          : source.transport === 'udp'
            ? ['--udp', source.udp!.bind, '--udp-cfg-every', '2']
            : ['--listen', source.address!, '--udp', source.udp!.bind];
      start([
        'pmu', ...transport,
        '--idcode', String(source.idcode),
        '--pmus', String(sim.pmus ?? 1),
        '--pmu-idcode', String(source.idcode * 100 + 1),
        '--station', source.name.toUpperCase(),
        '--rate', String(sim.rate ?? 60),
        '--phasors', String(sim.phasors ?? 6),
        '--analogs', String(sim.analogs ?? 2),
        '--seed', String(seed++),
        ...(sim.scenario ? ['--scenario', sim.scenario] : []),
        ...(sim.sendLog ? ['--send-log', sim.sendLog] : []),
      ]);
    } else if (source.type === 'modbus') {
      start(['modbus', '--config', configFile, '--source', source.name, '--seed', String(seed++)]);
    } else if (source.type === 'opcua') {
      const url = new URL(source.endpoint);
      const pki = join(options.logDir, `opcua-simulator-${source.name}-pki`);
      opcua.push({ source: source.name, pki, child: start(['opcua', '--listen', `${url.hostname}:${url.port || 4840}`, '--pki', pki]) });
    }
  }
  await Promise.all(simulators.map((s) => s.ready));

  // The gateway never accepts an unknown server certificate: trust each simulator's, as an
  // operator does with `gridgate opcua trust` after checking the thumbprint.
  const trusted: SimulatedSite['trusted'] = [];
  for (const { source, child } of opcua) {
    const status = await child.ready;
    const sourceConfig = config.sources.find((s) => s.name === source)!;
    const dir = join(pkiDirOf(sourceConfig as { name: string; pki?: string }, config.state?.dir), 'trusted', 'certs');
    await mkdir(dir, { recursive: true });
    await copyFile(String(status.certificateFile), join(dir, basename(String(status.certificateFile))));
    trusted.push({ source, thumbprint: String(status.thumbprint) });
  }
  return { simulators, trusted };
}
