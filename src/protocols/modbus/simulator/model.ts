import type { Area, TagType, WordOrder } from '../config.js';
import type { ExceptionRule, GarbageSpec, HoleRange, RegisterMap, Schedule, UnitSpec } from './map-schema.js';
import { BIT_AREAS, widthOf } from './map.js';
import { compileValue, toBit, writeValue, type CompiledValue } from './values.js';

// The served device, compiled once from the map: per unit and area, the points (one per served
// value) sorted by address, so a read is a binary search and a walk over the points it touches.
// A point's value at t is computed on each read; nothing changes between reads but time, so a
// read at t is the same on every run with the same seed.
//
//   unit ─┬─ holding-register: [p(0, 2 regs)] [p(2, 2 regs)] [p(10, bit 0)] [p(10, bit 3)] …
//         ├─ input-register:   …
//         └─ coil, discrete-input: one point per bit
//
// Invariant (map.ts checks it): points of an area do not overlap, except `bit` points sharing a
// register; so the end address (address + width) never decreases along the sorted array.
// Faults (delay, dead, garbage, exceptions) start as the map says and can be changed while
// serving (RunningModbusSimulator.setFaults).

export interface Point {
  label: string;
  area: Area;
  address: number;
  /** Registers (bits in a bit area). */
  width: number;
  type: TagType;
  order: WordOrder;
  bit: number;
  length: number;
  value: CompiledValue;
}

export interface Faults {
  delayMs: number;
  dead: boolean | Schedule;
  garbage: GarbageSpec | null;
  exceptions: ExceptionRule[];
}

export type ReadResult = { exception: number } | null;

const AREA_INDEX: Record<Area, number> = { coil: 0, 'discrete-input': 1, 'holding-register': 2, 'input-register': 3 };
export const FUNCTION_AREA: Readonly<Record<number, Area>> = { 1: 'coil', 2: 'discrete-input', 3: 'holding-register', 4: 'input-register' };

export class UnitModel {
  readonly unitId: number;
  readonly faults: Faults;
  readonly unmapped: UnitSpec['unmapped'];
  readonly #areas: Point[][] = [[], [], [], []];
  readonly #holes: HoleRange[];
  readonly #scratch = Buffer.alloc(8);
  readonly #word = Buffer.alloc(256);

  constructor(spec: UnitSpec, seed: number) {
    this.unitId = spec.unitId;
    this.unmapped = spec.unmapped;
    this.#holes = spec.holes;
    this.faults = { delayMs: spec.delayMs, dead: spec.dead, garbage: spec.garbage ?? null, exceptions: spec.exceptions };
    let channel = spec.unitId << 16;
    for (const reg of spec.registers) {
      const type = reg.type ?? (BIT_AREAS.has(reg.area) ? 'bool' : 'uint16');
      const width = widthOf(reg);
      for (let k = 0; k < reg.repeat; k++) {
        this.#areas[AREA_INDEX[reg.area]]!.push({
          label: reg.repeat > 1 ? `${reg.name ?? `${reg.area} ${reg.address}`}[${k}]` : (reg.name ?? `${reg.area} ${reg.address}`),
          area: reg.area,
          address: reg.address + k * width,
          width,
          type,
          order: reg.order ?? spec.order,
          bit: reg.bit ?? 0,
          length: reg.length ?? 1,
          value: compileValue(reg.value, seed, channel++, 10 * k),
        });
      }
    }
    for (const points of this.#areas) points.sort((a, b) => a.address - b.address || a.bit - b.bit);
  }

  /** Points served, all areas. */
  get points(): number {
    return this.#areas.reduce((n, a) => n + a.length, 0);
  }

  pointsIn(area: Area): readonly Point[] {
    return this.#areas[AREA_INDEX[area]]!;
  }

  isDead(t: number): boolean {
    return active(this.faults.dead, t);
  }

  /**
   * The exception a read of [start, start + count) in `area` gets at t, or null: scheduled
   * exceptions first, then holes, then (unmapped: illegal-address) addresses no point covers.
   * `draw` gives the uniform number for a probabilistic rule.
   */
  exceptionFor(area: Area, start: number, count: number, t: number, draw: () => number): number | null {
    const end = start + count - 1;
    for (const rule of this.faults.exceptions) {
      if (rule.area !== undefined && rule.area !== area) continue;
      if (rule.to < start || rule.from > end) continue;
      if (!active({ at: rule.at, durationS: rule.durationS }, t)) continue;
      if (rule.probability < 1 && draw() >= rule.probability) continue;
      return rule.code;
    }
    for (const hole of this.#holes) {
      if (hole.area !== undefined && hole.area !== area) continue;
      if ((hole.to ?? hole.from) < start || hole.from > end) continue;
      return 2;
    }
    if (this.unmapped === 'illegal-address' && !this.#covered(area, start, count)) return 2;
    return null;
  }

  /** Registers [start, start + count) at t, big-endian words into out[offset…]; unmapped ones 0. */
  readRegisters(area: Area, start: number, count: number, t: number, out: Buffer, offset: number): void {
    out.fill(0, offset, offset + count * 2);
    const points = this.pointsIn(area);
    const end = start + count;
    for (let i = firstEndingAfter(points, start); i < points.length; i++) {
      const p = points[i]!;
      if (p.address >= end) break;
      const v = p.value.at(t);
      if (p.type === 'bit') {
        if (toBit(v)) {
          // The bit numbers the register's value, which BADC and DCBA store byte-swapped.
          const at = offset + (p.address - start) * 2;
          const swapped = p.order === 'BADC' || p.order === 'DCBA';
          out[at + ((p.bit >> 3) ^ (swapped ? 0 : 1))]! |= 1 << (p.bit & 7);
        }
        continue;
      }
      // Encode whole, copy the part inside the read (a read may cut a float in half).
      const word = this.#word;
      writeValue(p.type, p.order, v, p.value.wraps, p.length, word, 0, this.#scratch);
      const from = Math.max(p.address, start);
      const to = Math.min(p.address + p.width, end);
      word.copy(out, offset + (from - start) * 2, (from - p.address) * 2, (to - p.address) * 2);
    }
  }

  /** Bits [start, start + count) at t, packed LSB first (§6.1) into out[offset…]. */
  readBits(area: Area, start: number, count: number, t: number, out: Buffer, offset: number): void {
    out.fill(0, offset, offset + Math.ceil(count / 8));
    const points = this.pointsIn(area);
    const end = start + count;
    for (let i = firstEndingAfter(points, start); i < points.length; i++) {
      const p = points[i]!;
      if (p.address >= end) break;
      if (toBit(p.value.at(t))) {
        const k = p.address - start;
        out[offset + (k >> 3)]! |= 1 << (k & 7);
      }
    }
  }

  #covered(area: Area, start: number, count: number): boolean {
    const points = this.pointsIn(area);
    let next = start;
    const end = start + count;
    for (let i = firstEndingAfter(points, start); i < points.length && next < end; i++) {
      const p = points[i]!;
      if (p.address > next) return false;
      next = Math.max(next, p.address + p.width);
    }
    return next >= end;
  }
}

/** Index of the first point whose end (address + width) is past `address`. */
function firstEndingAfter(points: readonly Point[], address: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = points[mid]!;
    if (p.address + p.width <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function active(when: boolean | Schedule, t: number): boolean {
  if (typeof when === 'boolean') return when;
  return t >= when.at && (when.durationS === undefined || t < when.at + when.durationS);
}

/** Every unit of the map. */
export class SimModel {
  readonly seed: number;
  readonly unknownUnits: RegisterMap['unknownUnits'];
  readonly #units = new Map<number, UnitModel>();

  constructor(map: RegisterMap, seed: number) {
    this.seed = seed;
    this.unknownUnits = map.unknownUnits;
    for (const spec of map.units) this.#units.set(spec.unitId, new UnitModel(spec, seed));
  }

  unit(id: number): UnitModel | undefined {
    return this.#units.get(id);
  }

  get unitIds(): number[] {
    return [...this.#units.keys()];
  }

  get units(): IterableIterator<UnitModel> {
    return this.#units.values();
  }

  /**
   * What a read returns at scenario time t: register words (function 3/4 areas) or bits, as the
   * client would decode them, or the exception (probabilistic rules count as failing).
   */
  read(unitId: number, area: Area, start: number, count: number, t: number): number[] | boolean[] | { exception: number } {
    const unit = this.unit(unitId);
    if (!unit) throw new Error(`no unit ${unitId} in the map`);
    const exception = unit.exceptionFor(area, start, count, t, () => 0);
    if (exception !== null) return { exception };
    if (BIT_AREAS.has(area)) {
      const out = Buffer.alloc(Math.ceil(count / 8));
      unit.readBits(area, start, count, t, out, 0);
      return Array.from({ length: count }, (_, k) => ((out[k >> 3]! >> (k & 7)) & 1) === 1);
    }
    const out = Buffer.alloc(count * 2);
    unit.readRegisters(area, start, count, t, out, 0);
    return Array.from({ length: count }, (_, k) => out.readUInt16BE(k * 2));
  }
}
