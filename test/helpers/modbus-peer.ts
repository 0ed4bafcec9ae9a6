import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Deadline, type Readiness } from '../../src/daemon/component.js';
import type { SourceRecord } from '../../src/pipeline/record.js';
import type { ModbusSourceConfig } from '../../src/protocols/modbus/config.js';
import { ModbusSource } from '../../src/protocols/modbus/source.js';
import { qualityReasons } from '../../src/protocols/shared/quality.js';
import { assertPythonEnv, VENV_PYTHON } from './python.js';

// The Modbus tests' two ends: the pymodbus peer (test/peers/reference/modbus_server.py: spec as
// JSON on stdin, "ready <where>" when serving, "stats <json>" when it stops), and our ModbusSource
// driven in-process with its records and metrics at hand.

/** A record's body with its quality as names, and its event and ingest times. */
export type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVER = fileURLToPath(new URL('../peers/reference/modbus_server.py', import.meta.url));

/** What modbus_server.py counted, printed when it stops (its docstring has the details). */
export interface PymodbusStats {
  requests: Record<string, Record<string, number>>;
  answered: Record<string, number>;
  exceptions: Record<string, Record<string, number>>;
  dropped: Record<string, number>;
  writes: [number, number, number][];
  registers: Record<string, { holding: Record<string, number[]>; input: Record<string, number[]> }>;
  /** Serial only (else null): the pymodbus end of the line as the kernel holds it (termios). */
  line: { baudRate: number; parity: string; dataBits: number; stopBits: number; parityRefusedByKernel: boolean } | null;
}

/** A running modbus_server.py. */
export interface PymodbusPeer {
  /** The TCP port (tcp) or the serial path. */
  where: string;
  /** Closes its stdin (it stops), waits for it to exit, returns its counters. */
  stop(): Promise<PymodbusStats>;
}

/** Starts modbus_server.py with the venv's Python and `spec` on stdin; resolves once it is ready (20 s at most). */
export async function startPymodbus(spec: unknown): Promise<PymodbusPeer> {
  assertPythonEnv();
  const child = spawn(VENV_PYTHON, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  child.stdin.write(`${JSON.stringify(spec)}\n`);
  const tail = (): string => err.trim().split('\n').slice(-15).join('\n');
  const deadline = Date.now() + 20_000;
  let ready: RegExpExecArray | null = null;
  while (!(ready = /^ready (\S+)$/m.exec(out))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`modbus_server.py did not get ready (exit ${child.exitCode}):\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    where: ready[1]!,
    async stop() {
      child.stdin.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      const status = await exited;
      clearTimeout(kill);
      const stats = /^stats (.*)$/m.exec(out);
      assert.ok(status === 0 && stats, `modbus_server.py exited with ${status} and no stats:\n${tail()}`);
      return JSON.parse(stats[1]!) as PymodbusStats;
    },
  };
}

/** The bodies of one stream's records, in order (see Body). */
export function bodies(records: readonly SourceRecord[], stream: string): Body[] {
  return records
    .filter((r) => r.stream === stream)
    .map((r) => ({ ...r.body, quality: qualityReasons(r.quality), eventTimeUs: r.eventTimeUs, ingestTimeUs: r.ingestTimeUs }));
}

/** A started ModbusSource, what it emitted and its metrics. */
export interface ModbusHarness {
  source: ModbusSource;
  /** Every record emitted, in order. */
  records: SourceRecord[];
  registry: Registry;
  /** bodies() of one stream. */
  of(stream: string): Body[];
  /** A counter or gauge's value for the labels given (0 when absent). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
  /** A metric in the Prometheus text format ('' when absent). */
  metricText(name: string): Promise<string>;
  readiness(): Readiness;
  /** Reads one poll of the device's `fast` group makes (its plan). */
  readsPerPoll(device: string): number;
  /** Stops the source (2 s deadline). */
  stop(): Promise<void>;
}

/** Starts a ModbusSource on `config` with a silent log, its own registry, and an emit that keeps every record. */
export async function modbusHarness(config: ModbusSourceConfig): Promise<ModbusHarness> {
  const records: SourceRecord[] = [];
  const registry = new Registry();
  const source = new ModbusSource(config, { log: pino({ level: 'silent' }), registry, emit: (rs) => (records.push(...rs), true), onResume: () => () => {} });
  await source.start();
  return {
    source,
    records,
    registry,
    of: (stream) => bodies(records, stream),
    async metric(name, labels) {
      const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
      const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
      return hit?.value ?? 0;
    },
    metricText: async (name) => (await registry.getSingleMetricAsString(name)) ?? '',
    readiness: () => source.readiness(),
    readsPerPoll: (device) => source.devices.find((d) => d.name === device)!.plans.get('fast')!.length,
    stop: () => source.stop(new Deadline(2000)),
  };
}
