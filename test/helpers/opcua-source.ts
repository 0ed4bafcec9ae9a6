import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Deadline } from '../../src/daemon/component.js';
import type { SourceRecord } from '../../src/pipeline/record.js';
import type { OpcuaSourceConfig } from '../../src/protocols/opcua/config.js';
import { OpcuaSource } from '../../src/protocols/opcua/source.js';
import { qualityReasons } from '../../src/protocols/shared/quality.js';

// Our OpcuaSource driven in-process against an OPC UA server (the asyncua peer, our simulator):
// its records, log lines and metrics at hand, no pipeline or broker in between.

/** A source config with the schema's defaults, fast retries, and what the test overrides. */
export function opcuaSourceConfig(overrides: Partial<OpcuaSourceConfig> & Pick<OpcuaSourceConfig, 'endpoint' | 'items'>): OpcuaSourceConfig {
  return {
    name: 'scada',
    type: 'opcua',
    securityMode: 'SignAndEncrypt',
    identity: { type: 'anonymous' },
    applicationName: 'gridgate',
    sessionTimeoutMs: 30_000,
    requestTimeoutMs: 5000,
    watchdogMs: 5000,
    retryFailedItemsMs: 2000,
    reconnect: { initialMs: 100, maxMs: 1000 },
    groups: { default: { publishingIntervalMs: 100 } },
    analytics: 'off',
    ...overrides,
  } as OpcuaSourceConfig;
}

/** Puts a server certificate (DER or PEM file) into the PKI's trusted folder, as `gridgate opcua trust` would. */
export async function trustServer(pki: string, certificateFile: string): Promise<void> {
  await mkdir(join(pki, 'trusted', 'certs'), { recursive: true });
  await copyFile(certificateFile, join(pki, 'trusted', 'certs', basename(certificateFile)));
}

export interface RunningSource {
  source: OpcuaSource;
  registry: Registry;
  records: SourceRecord[];
  /** The source's log lines (JSON objects). */
  logs: Record<string, unknown>[];
  /** Records of one item, in arrival order. */
  of(item: string): SourceRecord[];
  stop(): Promise<void>;
}

export interface SourceOptions {
  stateDir?: string;
  /** The pipeline's answer to each emit (false: full); default true. */
  emit?: (r: SourceRecord[]) => boolean;
  /** Receives the source's "room again" callback (the pipeline's onResume). */
  onResume?: (resume: () => void) => void;
}

export async function startOpcuaSource(config: OpcuaSourceConfig, options: SourceOptions = {}): Promise<RunningSource> {
  const registry = new Registry();
  const records: SourceRecord[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const source = new OpcuaSource(config, {
    log,
    registry,
    emit: (r) => {
      records.push(...r);
      return options.emit ? options.emit(r) : true;
    },
    onResume: (resume) => {
      options.onResume?.(resume);
      return () => undefined;
    },
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
  });
  await source.start();
  return {
    source,
    registry,
    records,
    logs,
    of: (item) => records.filter((r) => r.stream === item),
    stop: () => source.stop(new Deadline(10_000)),
  };
}

/** A record's quality as reason names (empty: good). */
export const reasons = (r: SourceRecord): string[] => qualityReasons(r.quality);
