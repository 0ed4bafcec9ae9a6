import { parseCommandArgs } from '../../../cli/command.js';
import { flagReaders } from '../../../cli/flag-readers.js';
import { GatewayError } from '../../../errors.js';
import { LOG_LEVELS } from '../../../observability/config.js';
import { loadMap } from './map.js';
import type { ModbusSimulatorOptions } from './options.js';

// `gridgate simulate modbus` flags (usage.ts) to ModbusSimulatorOptions. Only the shape of each
// value is checked here; ranges are resolveOptions' job, so the CLI and the API refuse the same
// things. The map file or site config is loaded here (its problems are a ConfigError, exit 1).

const FLAGS = {
  map: { type: 'string' },
  config: { type: 'string' },
  source: { type: 'string' },
  listen: { type: 'string' },
  'rtu-over-tcp': { type: 'string' },
  serial: { type: 'string' },
  baud: { type: 'string' },
  parity: { type: 'string' },
  'stop-bits': { type: 'string' },
  'max-clients': { type: 'string' },
  seed: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate modbus: ${message}`);

export interface ModbusCli {
  options: ModbusSimulatorOptions;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Site config tags served through an earlier overlapping tag (to log). */
  overlapped: string[];
}

export async function modbusOptionsFromArgs(args: string[]): Promise<ModbusCli> {
  const { values: v } = parseCommandArgs('simulate modbus', args, FLAGS);
  const { str, integer, choice, endpoint } = flagReaders<keyof typeof FLAGS>('simulate modbus', v);
  const mapFile = str('map');
  const configFile = str('config');
  if (mapFile !== undefined && configFile !== undefined) throw usage('--map and --config exclude each other');
  if (str('source') !== undefined && configFile === undefined) throw usage('--source needs --config');
  const serialFlags = (['baud', 'parity', 'stop-bits'] as const).filter((f) => str(f) !== undefined);
  if (serialFlags.length > 0 && str('serial') === undefined) throw usage(`--${serialFlags[0]} needs --serial`);
  const stopBits = choice('stop-bits', ['1', '2'] as const);

  let listen = endpoint('listen');
  let rtuOverTcp = endpoint('rtu-over-tcp');
  const serialPath = str('serial');
  let map: ModbusSimulatorOptions['map'];
  let mapName: string | undefined;
  let overlapped: string[] = [];
  if (mapFile !== undefined) {
    map = await loadMap(mapFile);
    mapName = mapFile;
  } else if (configFile !== undefined) {
    // Loaded only here: the site config's schema is large and compiled at import.
    const { mapFromSite } = await import('./site-map.js');
    const site = await mapFromSite(configFile, str('source'));
    map = site.map;
    mapName = `${configFile}#${site.source.name}`;
    overlapped = site.overlapped;
    if (listen === undefined && rtuOverTcp === undefined && serialPath === undefined) {
      // Pair with `gridgate run` on the same file: serve where the gateway will connect.
      if (site.listen.tcp) listen = site.listen.tcp;
      else if (site.listen.rtuOverTcp) rtuOverTcp = site.listen.rtuOverTcp;
      else {
        throw usage(
          `source "${site.source.name}" is RTU on ${site.listen.serial ?? 'a serial port'}: give --serial with the other end ` +
            `(a null-modem cable, or a pty pair: socat -d -d pty,raw,echo=0 pty,raw,echo=0)`,
        );
      }
    }
  }
  const options: ModbusSimulatorOptions = {
    map,
    mapName,
    listen,
    rtuOverTcp,
    serial:
      serialPath === undefined
        ? undefined
        : {
            path: serialPath,
            baudRate: integer('baud'),
            parity: choice('parity', ['even', 'none', 'odd'] as const),
            stopBits: stopBits === undefined ? undefined : stopBits === '1' ? 1 : 2,
          },
    maxClients: integer('max-clients'),
    seed: integer('seed'),
  };
  return { options, logLevel: choice('log-level', LOG_LEVELS) ?? 'info', overlapped };
}
