import { loadConfig } from '../../../config/load.js';
import { GatewayError } from '../../../errors.js';
import type { ModbusSourceConfig } from '../config.js';
import { isBitArea, resolveDevice, type ResolvedTag } from '../resolve.js';
import type { RegisterMapInput, RegisterSpec, ValueInput } from './map-schema.js';
import type { Endpoint } from './options.js';
import { registersOf } from './values.js';

// `--config SITE [--source NAME]`: serve what the gateway will poll. The site config is loaded
// and validated exactly as `gridgate run` does (config/load.ts: ${ENV} interpolation, schema,
// Modbus cross-checks, every problem as file:line:column), then each device of the source becomes
// a unit and each tag a served value, addressed as resolve.ts resolves it (zero-based,
// one-based, modicon). Values are plausible for the tag's unit and name, in engineering units,
// converted to raw with the tag's scale and offset (raw = (value − offset) / scale), and change
// slowly (a sine of 2–10 % with a 10–60 s period chosen from the tag's name, so repeatable).
// Counters (kWh, MWh …) count up; bool and bit tags toggle; strings read "SIM <tag>".
//
// Tags that overlap an earlier tag of the same unit (the same register read as two types, which a
// gateway config may do) are not served on their own: the earlier tag's value fills the register.

export interface SiteMap {
  map: RegisterMapInput;
  source: ModbusSourceConfig;
  /** Tags served through an earlier overlapping tag, as device/tag. */
  overlapped: string[];
  /** The source's own address, to serve on when no transport flag is given. */
  listen: { tcp?: Endpoint; rtuOverTcp?: Endpoint; serial?: string };
}

const usage = (message: string): GatewayError => new GatewayError('GW_ERR_USAGE', `simulate modbus: ${message}`);

export async function mapFromSite(file: string, sourceName: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SiteMap> {
  const config = await loadConfig(file, env);
  const modbus = config.sources.filter((s): s is ModbusSourceConfig => s.type === 'modbus');
  const names = modbus.map((s) => s.name).join(', ') || 'none';
  let source: ModbusSourceConfig | undefined;
  if (sourceName === undefined) {
    if (modbus.length !== 1) throw usage(`${file} has ${modbus.length} Modbus sources (${names}): choose one with --source NAME`);
    source = modbus[0];
  } else {
    source = modbus.find((s) => s.name === sourceName);
    if (!source) throw usage(`${file} has no Modbus source "${sourceName}" (Modbus sources: ${names})`);
  }
  return mapFromSource(source!);
}

/** The register map serving a (validated) Modbus source's devices. */
export function mapFromSource(source: ModbusSourceConfig): SiteMap {
  const overlapped: string[] = [];
  const units = new Map<number, RegisterSpec[]>();
  const orders = new Map<number, ModbusSourceConfig['devices'][number]['order']>();
  for (const device of source.devices) {
    const { tags } = resolveDevice(device);
    const registers = units.get(device.unitId) ?? [];
    units.set(device.unitId, registers);
    if (!orders.has(device.unitId)) orders.set(device.unitId, device.order);
    for (const tag of tags) {
      if (registers.some((r) => overlaps(r, tag))) {
        overlapped.push(`${device.name}/${tag.name}`);
        continue;
      }
      registers.push({
        name: `${device.name}/${tag.name}`,
        area: tag.area,
        address: tag.address,
        type: tag.type,
        order: tag.order,
        ...(tag.type === 'bit' ? { bit: tag.bit } : {}),
        ...(tag.type === 'string' ? { length: tag.length } : {}),
        value: plausible(tag, `${device.name}/${tag.name}`) as RegisterSpec['value'],
        repeat: 1,
      });
    }
  }
  const listen: SiteMap['listen'] = {};
  const address = source.address ? parseAddress(source.address) : undefined;
  if (source.transport === 'tcp') listen.tcp = address;
  else if (source.transport === 'rtu-over-tcp') listen.rtuOverTcp = address;
  else listen.serial = source.serial?.path;
  return {
    map: {
      units: [...units].map(([unitId, registers]) => ({ unitId, order: orders.get(unitId) ?? 'ABCD', registers })),
    },
    source,
    overlapped,
    listen,
  };
}

/** Registers (bits) a served value takes. */
const width = (r: RegisterSpec): number => (isBitArea(r.area) ? 1 : registersOf(r.type ?? 'uint16', r.length ?? 1));

function overlaps(r: RegisterSpec, tag: ResolvedTag): boolean {
  if (r.area !== tag.area) return false;
  if (r.address + width(r) <= tag.address || tag.address + tag.count <= r.address) return false;
  return !(r.type === 'bit' && tag.type === 'bit' && r.bit !== tag.bit);
}

function parseAddress(text: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return { host: m?.[1] ?? '127.0.0.1', port: Number(m?.[2] ?? 502) };
}

/** FNV-1a: a stable small hash of a name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Nominal {
  value: number;
  /** Peak deviation, fraction of value. */
  swing: number;
  /** Counts up this much per second instead (energy). */
  perS?: number;
}

const BY_UNIT: Readonly<Record<string, Nominal>> = {
  v: { value: 230, swing: 0.02 },
  kv: { value: 11, swing: 0.02 },
  a: { value: 100, swing: 0.1 },
  ka: { value: 1, swing: 0.1 },
  w: { value: 50_000, swing: 0.1 },
  kw: { value: 500, swing: 0.1 },
  mw: { value: 5, swing: 0.1 },
  var: { value: 15_000, swing: 0.1 },
  kvar: { value: 150, swing: 0.1 },
  mvar: { value: 1.5, swing: 0.1 },
  va: { value: 52_000, swing: 0.1 },
  kva: { value: 520, swing: 0.1 },
  mva: { value: 5.2, swing: 0.1 },
  hz: { value: 50, swing: 0.001 },
  '°c': { value: 45, swing: 0.05 },
  degc: { value: 45, swing: 0.05 },
  c: { value: 45, swing: 0.05 },
  '%': { value: 50, swing: 0.2 },
  pu: { value: 1, swing: 0.02 },
  rpm: { value: 1500, swing: 0.01 },
  bar: { value: 5, swing: 0.05 },
  wh: { value: 0, swing: 0, perS: 140 },
  kwh: { value: 0, swing: 0, perS: 0.14 },
  mwh: { value: 0, swing: 0, perS: 0.00014 },
  varh: { value: 0, swing: 0, perS: 40 },
  kvarh: { value: 0, swing: 0, perS: 0.04 },
};

const BY_NAME: readonly [RegExp, Nominal][] = [
  [/energy|kwh|counter|count/i, { value: 0, swing: 0, perS: 1 }],
  [/freq/i, BY_UNIT.hz!],
  [/volt|^u\d?$|^v[a-c]?n?$/i, BY_UNIT.v!],
  [/curr|amp|^i[a-c123]?$/i, BY_UNIT.a!],
  [/\bpf\b|power.?factor|cos/i, { value: 0.95, swing: 0.02 }],
  [/temp/i, BY_UNIT.c!],
  [/power|^p$/i, BY_UNIT.kw!],
];

/** A changing value plausible for the tag, in raw units. */
export function plausible(tag: ResolvedTag, key: string): ValueInput {
  const h = hash(key);
  if (tag.type === 'bool' || tag.type === 'bit') return { toggle: { periodS: 20 + (h % 41) } };
  if (tag.type === 'string') return `SIM ${tag.name}`.slice(0, tag.length * 2);
  const nominal = BY_UNIT[tag.unit.trim().toLowerCase()] ?? BY_NAME.find(([re]) => re.test(tag.name))?.[1] ?? { value: 100, swing: 0.1 };
  const scale = tag.scale === 0 ? 1 : tag.scale;
  if (nominal.perS !== undefined) return { counter: { perS: Math.abs(nominal.perS / scale), from: Math.max(0, -tag.offset / scale) } };
  return {
    sine: {
      offset: (nominal.value - tag.offset) / scale,
      amplitude: (nominal.value * nominal.swing) / scale,
      periodS: 10 + (h % 51),
      phaseDeg: h % 360,
    },
  };
}
