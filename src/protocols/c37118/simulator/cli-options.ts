import { parseCommandArgs } from '../../../cli/command.js';
import { flagReaders } from '../../../cli/flag-readers.js';
import { GatewayError } from '../../../errors.js';
import { LOG_LEVELS } from '../../../observability/config.js';
import type { NumberFormat, SimulatorOptions } from './options.js';
import { loadScenario } from './scenario.js';

// `gridgate simulate pmu` flags (usage.ts) to SimulatorOptions. Only the shape of each value is
// checked here; ranges are resolveOptions' job, so the CLI and the API refuse the same things.

const FLAGS = {
  listen: { type: 'string' },
  udp: { type: 'string' },
  'udp-bind': { type: 'string' },
  'udp-cfg-every': { type: 'string' },
  'max-clients': { type: 'string' },
  idcode: { type: 'string' },
  pmus: { type: 'string' },
  'pmu-idcode': { type: 'string' },
  station: { type: 'string' },
  phasors: { type: 'string' },
  analogs: { type: 'string' },
  digitals: { type: 'string' },
  rate: { type: 'string' },
  fnom: { type: 'string' },
  'time-base': { type: 'string' },
  format: { type: 'string' },
  'phasor-format': { type: 'string' },
  'phasor-coords': { type: 'string' },
  'freq-format': { type: 'string' },
  'analog-format': { type: 'string' },
  'header-text': { type: 'string' },
  'no-header': { type: 'boolean' },
  'cfg3-unsupported': { type: 'boolean' },
  'cfg3-fragment-bytes': { type: 'string' },
  scenario: { type: 'string' },
  event: { type: 'string', multiple: true },
  seed: { type: 'string' },
  'start-soc': { type: 'string' },
  'log-level': { type: 'string' },
  'send-log': { type: 'string' },
} as const;

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate pmu: ${message}`);

export interface PmuCli {
  options: SimulatorOptions;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Parse the flags and load the scenario (file and --event flags). */
export async function pmuOptionsFromArgs(args: string[]): Promise<PmuCli> {
  const { values: v } = parseCommandArgs('simulate pmu', args, FLAGS);
  const { str, integer, choice, endpoint } = flagReaders<keyof typeof FLAGS>('simulate pmu', v);
  const all = choice('format', ['int', 'float'] as const);
  const numberFormat = (name: keyof typeof FLAGS): NumberFormat | undefined => choice(name, ['int', 'float'] as const) ?? all;
  const fnom = choice('fnom', ['50', '60'] as const);
  const cfgEvery = str('udp-cfg-every');
  if (cfgEvery !== undefined && !Number.isFinite(Number(cfgEvery))) throw usage(`--udp-cfg-every takes seconds (got "${cfgEvery}")`);
  const events = (v.event as unknown as string[] | undefined) ?? [];
  const options: SimulatorOptions = {
    listen: endpoint('listen'),
    udp: endpoint('udp'),
    udpBind: endpoint('udp-bind'),
    udpCfgEveryS: cfgEvery === undefined ? null : Number(cfgEvery),
    maxClients: integer('max-clients'),
    idcode: integer('idcode'),
    pmus: integer('pmus'),
    firstPmuIdcode: integer('pmu-idcode'),
    station: str('station'),
    phasors: integer('phasors'),
    analogs: integer('analogs'),
    digitals: integer('digitals'),
    dataRate: integer('rate'),
    fnom: fnom === undefined ? undefined : fnom === '50' ? 50 : 60,
    timeBase: integer('time-base'),
    phasorFormat: numberFormat('phasor-format'),
    phasorCoords: choice('phasor-coords', ['polar', 'rectangular'] as const),
    freqFormat: numberFormat('freq-format'),
    analogFormat: numberFormat('analog-format'),
    headerText: str('header-text'),
    header: v['no-header'] ? 'ignore' : 'answer',
    cfg3: v['cfg3-unsupported'] ? 'ignore' : 'answer',
    cfg3FragmentBytes: integer('cfg3-fragment-bytes') ?? null,
    scenario: await loadScenario(str('scenario'), events),
    seed: integer('seed'),
    startSoc: integer('start-soc'),
    sendLog: str('send-log'),
  };
  return { options, logLevel: choice('log-level', LOG_LEVELS) ?? 'info' };
}
