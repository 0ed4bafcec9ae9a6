import { pino } from 'pino';
import { ConfigError } from '../config/problems.js';
import { GatewayError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { PMU_USAGE } from '../protocols/c37118/simulator/usage.js';
import { MODBUS_USAGE } from '../protocols/modbus/simulator/usage.js';
import { OPCUA_USAGE } from '../protocols/opcua/simulator/usage.js';
import type { Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate simulate <device> [options]`: simulated field devices for tests and commissioning.
// Dispatches on the first positional; each device type brings its own flags and usage. A
// simulator is loaded only when asked for, so the other commands do not pay for its schemas.
//
// Output contract: one JSON status line on stdout once serving, pino logs on stderr (stdout stays
// machine-readable), exit 0 after SIGINT/SIGTERM.

type Simulate = (args: string[]) => Promise<number>;

const SIMULATORS: Readonly<Record<string, { usage: string; run: Simulate }>> = {
  pmu: { usage: PMU_USAGE, run: simulatePmu },
  modbus: { usage: MODBUS_USAGE, run: simulateModbus },
  opcua: { usage: OPCUA_USAGE, run: simulateOpcua },
};

export const simulateCommand: Command = {
  summary: 'simulate pmu|modbus|opcua [options] simulated PMUs (C37.118), Modbus units (TCP, RTU), an OPC UA server',
  usage: `Usage: gridgate simulate <device> [options]

Devices: ${Object.keys(SIMULATORS).join(', ')}

${Object.values(SIMULATORS)
  .map((s) => s.usage)
  .join('\n\n')}`,

  async run(args) {
    const [device, ...rest] = args;
    const simulator = device === undefined ? undefined : SIMULATORS[device];
    if (!simulator) {
      const got = device === undefined ? 'nothing' : `"${device}"`;
      throw new GatewayError('GW_ERR_USAGE', `simulate: expected a device type (${Object.keys(SIMULATORS).join(', ')}), got ${got}`);
    }
    return simulator.run(rest);
  },
};

async function simulatePmu(args: string[]): Promise<number> {
  const { pmuOptionsFromArgs } = await import('../protocols/c37118/simulator/cli-options.js');
  const { startSimulator } = await import('../protocols/c37118/simulator/simulator.js');
  return runSimulator({
    invalid: 'scenario',
    component: 'pmu-simulator',
    load: () => pmuOptionsFromArgs(args),
    start: ({ options }, log) => startSimulator({ ...options, log }),
  });
}

async function simulateModbus(args: string[]): Promise<number> {
  const { modbusOptionsFromArgs } = await import('../protocols/modbus/simulator/cli-options.js');
  const { startModbusSimulator } = await import('../protocols/modbus/simulator/simulator.js');
  return runSimulator({
    invalid: args.includes('--config') ? 'config' : 'register map',
    component: 'modbus-simulator',
    load: () => modbusOptionsFromArgs(args),
    start: ({ options, overlapped }, log) => {
      if (overlapped.length > 0) log.warn({ tags: overlapped }, 'tags overlapping an earlier tag are served through it');
      return startModbusSimulator({ ...options, log });
    },
  });
}

async function simulateOpcua(args: string[]): Promise<number> {
  const { opcuaOptionsFromArgs } = await import('../protocols/opcua/simulator/cli-options.js');
  return runSimulator({
    invalid: 'option',
    component: 'opcua-simulator',
    load: () => opcuaOptionsFromArgs(args),
    start: async ({ options }, log) => {
      // node-opcua (half a second to load) prints its own messages on stdout unless routed to stderr.
      const { routeLibraryLogs } = await import('../protocols/opcua/library-logs.js');
      routeLibraryLogs(log);
      const { startOpcuaSimulator } = await import('../protocols/opcua/simulator/simulator.js');
      return startOpcuaSimulator({ ...options, log });
    },
  });
}

interface Running {
  status: object;
  close(): Promise<void>;
}

/**
 * Load the options (a file problem: every one of them, file:line:column first, exit 1), start
 * (an address in use: exit 1), print the status line, serve until SIGINT/SIGTERM.
 */
async function runSimulator<P extends { logLevel: Parameters<typeof createLogger>[0]['level'] }>(sim: {
  invalid: string;
  component: string;
  load: () => Promise<P>;
  start: (parsed: P, log: Logger) => Promise<Running>;
}): Promise<number> {
  let parsed: P;
  try {
    parsed = await sim.load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.report()}\ngridgate simulate: invalid ${sim.invalid}, not starting [${err.code}]\n`);
    return EXIT.FAILURE;
  }
  const log = createLogger({ level: parsed.logLevel }, { component: sim.component }, pino.destination({ dest: 2, sync: true }));

  let simulator: Running;
  try {
    simulator = await sim.start(parsed, log);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && !(err instanceof GatewayError)) {
      // EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND: the operator can act on these.
      process.stderr.write(`gridgate simulate: cannot start: ${(err as Error).message}\n`);
      return EXIT.FAILURE;
    }
    throw err;
  }
  // The handlers first: whoever reads the status line may signal at once (a test does).
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    let stopping = false;
    const onSignal = (s: NodeJS.Signals): void => {
      if (stopping) process.exit(EXIT.FAILURE); // a second signal: do not wait
      stopping = true;
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stdout.write(`${JSON.stringify({ status: 'serving', ...simulator.status })}\n`);

  const signal = await stopped;
  log.info({ signal }, 'stopping');
  await simulator.close();
  return EXIT.OK;
}
