import { qualityJson } from '../shared/quality.js';
import type { ModbusSourceConfig } from './config.js';
import { ModbusConnection } from './connection.js';
import { DevicePoller } from './device-poller.js';
import { resolveDevice } from './resolve.js';
import { summarisePlan } from './plan.js';

// `gridgate probe modbus`: read every mapped tag of a source's devices once, with the site's own
// register map and plan, and report value, raw registers, quality and latency per tag: the
// commissioning report. The same DevicePoller as the running source (a first poll publishes every
// tag), so what the probe shows is what the gateway will publish.

export interface ProbedTag {
  device: string;
  tag: string;
  value: number | boolean | string | null;
  unit: string;
  raw: number[];
  quality: { level: string; reasons: string[] };
  latencyMs: number;
  error: string | null;
}

export interface ModbusProbeReport {
  source: string;
  transport: string;
  address: string;
  connectMs: number | null;
  error: string | null;
  requestsPerCycle: Record<string, number>;
  tags: ProbedTag[];
}

export async function probeModbus(source: ModbusSourceConfig, device?: string): Promise<ModbusProbeReport> {
  const devices = source.devices.filter((d) => device === undefined || d.name === device);
  const report: ModbusProbeReport = {
    source: source.name,
    transport: source.transport,
    address: source.address ?? source.serial?.path ?? '',
    connectMs: null,
    error: null,
    requestsPerCycle: {},
    tags: [],
  };
  const pollers = devices.map((d) => new DevicePoller(d, resolveDevice(d).tags, source, source.deviceBackoff));
  for (const p of pollers) for (const [group, plans] of p.plans) report.requestsPerCycle[`${p.name}/${group}`] = summarisePlan(plans).requests;
  const connection = new ModbusConnection(source);
  const started = performance.now();
  try {
    await connection.open(() => undefined);
    report.connectMs = Math.round(performance.now() - started);
    for (const poller of pollers) {
      for (const group of poller.plans.keys()) {
        const outcome = await poller.poll(group, connection);
        for (const r of outcome.records) {
          const b = r.body as { device: string; tag: string; value: ProbedTag['value']; unit: string; raw: number[]; latencyUs: number; error: { kind: string; code: number | null; detail: string } | null };
          report.tags.push({
            device: b.device,
            tag: b.tag,
            value: b.value,
            unit: b.unit,
            raw: b.raw,
            quality: qualityJson(r.quality),
            latencyMs: b.latencyUs / 1000,
            error: b.error ? `${b.error.kind}${b.error.code === null ? '' : ` ${b.error.code}`}: ${b.error.detail}` : null,
          });
        }
      }
    }
  } catch (err) {
    report.error = (err as Error).message;
  } finally {
    await connection.close();
  }
  return report;
}

export function probeSummary(r: ModbusProbeReport): string {
  const lines = [`Modbus ${r.transport} ${r.address} (source ${r.source}): ${r.error ? `FAILED: ${r.error}` : `connected in ${r.connectMs} ms`}`];
  lines.push(`  requests per poll cycle: ${Object.entries(r.requestsPerCycle).map(([k, n]) => `${k} ${n}`).join(', ') || '-'}`);
  const hex = (raw: number[]): string => raw.map((w) => w.toString(16).padStart(4, '0')).join(' ');
  for (const t of r.tags) {
    const value = t.value === null ? '-' : `${typeof t.value === 'string' ? JSON.stringify(t.value) : String(t.value)}${t.unit ? ` ${t.unit}` : ''}`;
    const quality = t.quality.level + (t.quality.reasons.length ? ` (${t.quality.reasons.join(', ')})` : '');
    lines.push(`  ${`${t.device}/${t.tag}`.padEnd(32)} ${value.padEnd(20)} raw ${hex(t.raw).padEnd(20)} ${quality.padEnd(24)} ${t.latencyMs.toFixed(1)} ms${t.error ? `  ${t.error}` : ''}`);
  }
  const bad = r.tags.filter((t) => t.quality.level !== 'good').length;
  lines.push(`  ${r.tags.length} tags read, ${bad} not good`);
  return `${lines.join('\n')}\n`;
}
