import { pino } from 'pino';
import { ConfigError } from '../config/problems.js';
import { GatewayError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { PMU_USAGE } from '../protocols/c37118/simulator/usage.js';
import type { Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate simulate <device> [options]`: simulated field devices for tests and commissioning.
// Dispatches on the first positional; each device type brings its own flags and usage (modbus and
// opcua join the table with their issues). A simulator is loaded only when asked for, so the other
// commands do not pay for its schemas.
//
// Output contract: one JSON status line on stdout once serving, pino logs on stderr (stdout stays
// machine-readable), exit 0 after SIGINT/SIGTERM.

type Simulate = (args: string[]) => Promise<number>;

const SIMULATORS: Readonly<Record<string, { usage: string; run: Simulate }>> = {
  pmu: { usage: PMU_USAGE, run: simulatePmu },
};

export const simulateCommand: Command = {
  summary: 'simulate pmu [options] simulated PMUs (C37.118 over TCP/UDP) with scripted events',
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
  let parsed;
  try {
    parsed = await pmuOptionsFromArgs(args);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A scenario problem: every one of them, file:line:column first.
    process.stderr.write(`${err.report()}\ngridgate simulate: invalid scenario, not starting [${err.code}]\n`);
    return EXIT.FAILURE;
  }
  const { options, logLevel } = parsed;
  const log = createLogger({ level: logLevel }, { component: 'pmu-simulator' }, pino.destination({ dest: 2, sync: true }));

  let simulator;
  try {
    simulator = await startSimulator({ ...options, log });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && !(err instanceof GatewayError)) {
      // EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND: the operator can act on these.
      process.stderr.write(`gridgate simulate: cannot start: ${(err as Error).message}\n`);
      return EXIT.FAILURE;
    }
    throw err;
  }
  process.stdout.write(`${JSON.stringify({ status: 'serving', ...simulator.status })}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    let stopping = false;
    const onSignal = (s: NodeJS.Signals): void => {
      if (stopping) process.exit(EXIT.FAILURE); // a second signal: do not wait
      stopping = true;
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  log.info({ signal }, 'stopping');
  await simulator.close();
  return EXIT.OK;
}
