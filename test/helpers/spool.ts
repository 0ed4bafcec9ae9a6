import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { SpoolConfig } from '../../src/buffer/config.js';
import type { SpoolEntry } from '../../src/buffer/entry-codec.js';
import { createSpoolMetrics } from '../../src/buffer/metrics.js';
import { Spool } from '../../src/buffer/spool.js';

export async function tempDir(prefix = 'gridgate-spool-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface OpenedSpool {
  spool: Spool;
  registry: Registry;
  logs: Record<string, unknown>[];
}

/** Open a spool with its own metrics registry and a captured log. */
export async function openSpool(dir: string, overrides: Partial<SpoolConfig> = {}, now?: () => number): Promise<OpenedSpool> {
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  let spool: Spool | undefined;
  const metrics = createSpoolMetrics(registry, () => spool);
  spool = await Spool.open(
    { dir, whenFull: 'block', segmentMaxBytes: 64 * 1024, fsync: { policy: 'group', intervalMs: 5 }, ...overrides },
    { log, metrics, ...(now ? { now } : {}) },
  );
  return { spool, registry, logs };
}

export { entry, sizeOf } from './spool-entries.mjs';

/** The integers from..to, inclusive. */
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function entryNumber(e: SpoolEntry): number {
  return Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).readUInt32LE(0);
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}

/** XOR one byte in place (damage for corruption tests). */
export function flipBits(buf: Buffer, index: number, mask: number): void {
  buf.writeUInt8(buf.readUInt8(index) ^ mask, index);
}
