import { AREAS, TAG_TYPES, WORD_ORDERS, type Area, type ModbusDeviceConfig, type ModbusTagConfig, type TagType, type WordOrder } from './config.js';

// A device's register map resolved once at start (STYLE.md, after Telegraf): protocol addresses,
// register counts, the effective word order and poll interval are computed here, so the poll loop
// (plan.ts, tag-codec.ts) never looks at the config again. Pure and synchronous.
//
// Addressing (config.ts). The address is a YAML integer, so a modicon reference loses its leading
// zeros: the area is read from the value's magnitude.
//   zero-based  0–65535 as written
//   one-based   written − 1 (1–65536)
//   modicon     1–9999           coil n                         (0xxxx, or 00xxxx)
//               10001–49999      5 digits: area digit + n 1–9999  (1xxxx, 3xxxx, 4xxxx)
//               100001–465536    6 digits: area digit + n 1–65536 (1xxxxx, 3xxxxx, 4xxxxx)
//               protocol address = n − 1. Digit 2 (and 5–9) is no area. A 6-digit coil
//               reference 010000–065536 reads as a 5-digit one: it cannot be written as an integer.
//
// A tag with a problem is left out of `tags`; every problem is reported with its path relative to
// the device (['tags', 3, 'address']), so `check-config` can show them all at once.

/** A tag as the poll loop sees it. Strings are the interned constants of config.ts. */
export interface ResolvedTag {
  /** Position in the device's `tags`. */
  readonly index: number;
  readonly name: string;
  readonly area: Area;
  /** Protocol address of the first register or bit, 0–65535. */
  readonly address: number;
  /** Registers for the register areas; 1 (bit) for coils and discrete inputs. */
  readonly count: number;
  readonly type: TagType;
  /** type bit: the bit, 0 = least significant; −1 for other types. */
  readonly bit: number;
  /** type string: registers; 0 for other types. */
  readonly length: number;
  /** The tag's order, or the device's. */
  readonly order: WordOrder;
  /** CDAB, DCBA: the least significant register comes first (the register order is reversed). */
  readonly wordSwap: boolean;
  /** BADC, DCBA: the low byte comes first within each register. */
  readonly byteSwap: boolean;
  readonly scale: number;
  /**
   * 1/scale when that is a whole number (0.1, 0.01, 0.001 …), else 0: dividing by 1000 gives
   * −0.95 for −950 where multiplying by 0.001 gives −0.9500000000000001.
   */
  readonly scaleDivisor: number;
  readonly offset: number;
  readonly unit: string;
  readonly deadband: number;
  readonly group: string;
  readonly intervalMs: number;
}

export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

export interface ResolvedDevice {
  tags: ResolvedTag[];
  problems: ConfigProblem[];
}

/** Optional read limits (the source's maxRegistersPerRead, maxBitsPerRead): a longer tag is a problem. */
export interface TagLimits {
  maxRegistersPerRead: number;
  maxBitsPerRead: number;
}

/** Registers per register type (Modbus registers are 16 bits). bool is one bit of a bit area. */
export const REGISTER_COUNT: Readonly<Record<Exclude<TagType, 'string'>, number>> = {
  bool: 1,
  bit: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** Highest protocol address: the PDU carries a 16-bit address (Modbus Application Protocol V1.1b3, 4.4). */
export const MAX_ADDRESS = 0xffff;

/** The area digit of a modicon reference (Modicon 984 convention; 2 was never an area). */
const MODICON_AREA: Readonly<Record<number, Area>> = { 0: 'coil', 1: 'discrete-input', 3: 'input-register', 4: 'holding-register' };

/** 1/scale when it is a whole number (within rounding), else 0. */
export function scaleDivisor(scale: number): number {
  if (!(scale > 0 && scale < 1)) return 0;
  const d = Math.round(1 / scale);
  return Math.abs(d * scale - 1) < 1e-12 ? d : 0;
}

export function isBitArea(area: Area): boolean {
  return area === 'coil' || area === 'discrete-input';
}

/** The order's two independent swaps (Telegraf's byte_order, type_conversions*.go). */
export function orderSwaps(order: WordOrder): { wordSwap: boolean; byteSwap: boolean } {
  return { wordSwap: order === 'CDAB' || order === 'DCBA', byteSwap: order === 'BADC' || order === 'DCBA' };
}

/** Resolve a device's tags once at start; `tags` holds only the tags without problems. */
export function resolveDevice(device: ModbusDeviceConfig, limits?: TagLimits): ResolvedDevice {
  const tags: ResolvedTag[] = [];
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  device.tags.forEach((tag, index) => {
    const before = problems.length;
    const report = (key: string, message: string): void => {
      problems.push({ path: ['tags', index, key], message });
    };
    const first = seen.get(tag.name);
    if (first === undefined) seen.set(tag.name, index);
    else report('name', `tag name "${tag.name}" is already used by tags[${first}]`);
    const located = locate(tag, device.addressing, report);
    const group = Object.hasOwn(device.pollGroups, tag.group) ? device.pollGroups[tag.group] : undefined;
    if (group === undefined) report('group', `poll group "${tag.group}" is not in the device's pollGroups (${Object.keys(device.pollGroups).join(', ')})`);
    const type = intern(TAG_TYPES, tag.type);
    const order = intern(WORD_ORDERS, tag.order ?? device.order);
    let count = 0;
    if (type === 'string') {
      if (tag.length === undefined) report('length', 'a string tag needs `length` (registers, two characters each)');
      else count = tag.length;
    } else {
      count = REGISTER_COUNT[type];
      if (tag.length !== undefined) report('length', `\`length\` applies to string tags only, not ${type}`);
    }
    if (type === 'bit' && tag.bit === undefined) report('bit', 'a bit tag needs `bit` (0–15, 0 = least significant)');
    if (type !== 'bit' && tag.bit !== undefined) report('bit', `\`bit\` applies to bit tags only, not ${type}`);
    if (located !== undefined) {
      const bits = isBitArea(located.area);
      if (bits && type !== 'bool') report('type', `a ${located.area} holds single bits: use type bool, not ${type}`);
      if (!bits && type === 'bool') report('type', `a ${located.area} holds 16-bit registers: use type bit (with \`bit\`) or a number type, not bool`);
      if (count > 0 && located.address + count - 1 > MAX_ADDRESS) {
        report('address', `the tag spans protocol addresses ${located.address}–${located.address + count - 1}, past ${MAX_ADDRESS}`);
      }
      const limit = limits === undefined ? undefined : bits ? limits.maxBitsPerRead : limits.maxRegistersPerRead;
      if (limit !== undefined && count > limit) {
        report(type === 'string' ? 'length' : 'type', `the tag needs ${count} registers, more than one read may carry (maxRegistersPerRead ${limit})`);
      }
    }
    if (problems.length > before || located === undefined || group === undefined) return;
    tags.push({
      index,
      name: tag.name,
      area: located.area,
      address: located.address,
      count,
      type,
      bit: type === 'bit' ? (tag.bit ?? 0) : -1,
      length: type === 'string' ? count : 0,
      order,
      ...orderSwaps(order),
      scale: tag.scale,
      scaleDivisor: scaleDivisor(tag.scale),
      offset: tag.offset,
      unit: tag.unit,
      deadband: tag.deadband,
      group: tag.group,
      intervalMs: group,
    });
  });
  return { tags, problems };
}

/** The tag's area and protocol address, or undefined after reporting why not. */
function locate(
  tag: ModbusTagConfig,
  addressing: ModbusDeviceConfig['addressing'],
  report: (key: string, message: string) => void,
): { area: Area; address: number } | undefined {
  const written = tag.address;
  const explicit = tag.area === undefined ? undefined : intern(AREAS, tag.area);
  if (addressing === 'modicon') {
    const ref = modicon(written);
    if (typeof ref === 'string') {
      report('address', ref);
      return undefined;
    }
    if (explicit !== undefined && explicit !== ref.area) {
      report('area', `area ${explicit} contradicts modicon reference ${written} (${ref.area})`);
      return undefined;
    }
    return ref;
  }
  if (explicit === undefined) {
    report('area', `a tag needs \`area\` unless the device's addressing is modicon`);
    return undefined;
  }
  if (addressing === 'one-based') {
    if (written === 0) {
      report('address', 'one-based addresses start at 1 (1 is protocol address 0)');
      return undefined;
    }
    if (written - 1 > MAX_ADDRESS) {
      report('address', `one-based address ${written} is past ${MAX_ADDRESS + 1}`);
      return undefined;
    }
    return { area: explicit, address: written - 1 };
  }
  if (written > MAX_ADDRESS) {
    report('address', `zero-based address ${written} is past ${MAX_ADDRESS}`);
    return undefined;
  }
  return { area: explicit, address: written };
}

/** A modicon reference's area and protocol address, or why it is not one. */
export function modicon(ref: number): { area: Area; address: number } | string {
  let digit: number;
  let n: number;
  let max: number;
  if (ref < 10_000) [digit, n, max] = [0, ref, 9999];
  else if (ref < 100_000) [digit, n, max] = [Math.floor(ref / 10_000), ref % 10_000, 9999];
  else [digit, n, max] = [Math.floor(ref / 100_000), ref % 100_000, 65_536];
  const area = MODICON_AREA[digit];
  if (area === undefined) return `modicon reference ${ref} starts with ${digit}, which is no area (0 coil, 1 discrete input, 3 input register, 4 holding register)`;
  if (n < 1 || n > max) return `modicon reference ${ref}: the number after the area digit must be 1–${max} (one-based: ${digit}0001 is the first)`;
  return { area, address: n - 1 };
}

/** The constant of `values` equal to `value` (an interned string, so comparisons are by pointer). */
function intern<const T extends readonly string[]>(values: T, value: T[number]): T[number] {
  for (const v of values) if (v === value) return v;
  return value;
}
