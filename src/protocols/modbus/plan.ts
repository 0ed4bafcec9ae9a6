import { AREAS, type Area } from './config.js';
import { isBitArea, MAX_ADDRESS, type ResolvedTag } from './resolve.js';

// The request plan, computed once at start (and again only when the device refuses an address):
// per (poll group, area), tags sorted by address and coalesced into reads while the hole between
// neighbours is ≤ maxGap registers (× 16 for bits) and the read stays within the limit. Tags may
// overlap (bits of one register, a float and its two halves): one read covers them all.
//
// Refused addresses. A device answers exception 2 (illegal data address) to a read that touches a
// register it does not implement (a hole or a tag), or, on some devices, that crosses a block
// boundary. The source then calls splitRejected(plan, rejected), which records in `rejected` what
// must not be read together again and returns smaller reads to try at once; it repeats on those
// that fail, and the next planReads(tags, limits, rejected) keeps the pieces apart. The rule: a
// tag starting at S is not merged into a read ending at E when a rejected address lies in
// [min(E, S), S] (the hole before it, or its own start).
//
//   holding, maxGap 8     f32 @100   u16 @102   ·  ·  ·   f32 @106
//   planReads             [100 ─────────────────────────────── 107]   one FC3, count 8
//                         exception 2 (103–105 not implemented)
//   split: holes          [100 ─────── 102]              [106 ─ 107]  one read per hole-free run;
//                         rejected += 103 104 105
//   split: a run          [u16 @0][u16 @1][f32 @2 ─ 3][u16 @4]  refused, no holes: halved at the
//                         first tag starting in its second half:  [0 ─ 1] [2 ──── 4], rejected += 2
//                         (a block boundary may be the cause); ⌈log₂ n⌉ such cuts find one culprit
//   split: one span       [u16 @1] refused: returns []; rejected += 1 and 2, so it is read alone
//                         from now on; its tags are quality bad, reason illegal-address
//   next planReads        [0] [1] [2 ──── 4]
//
// Plan again after a cycle in which `rejected` grew. The new plan may merge differently and meet
// another hole; but every refusal of a planned read adds an address, so it settles (within three
// cycles on the randomised maps of plan.test.ts). `rejected` holds addressKey(area, address)
// numbers and only grows; the source owns it (and may clear it on reconnect: the device may have
// been reconfigured).

export interface ReadLimits {
  /** Unmapped registers (× 16 bits for coils and discrete inputs) a read may span between tags. */
  maxGap: number;
  maxRegistersPerRead: number;
  maxBitsPerRead: number;
}

export interface PlannedTag {
  readonly tag: ResolvedTag;
  /** From the read's first register (or bit, for coils and discrete inputs). */
  readonly offset: number;
}

export interface ReadPlan {
  readonly group: string;
  readonly intervalMs: number;
  readonly area: Area;
  readonly functionCode: FunctionCode;
  readonly address: number;
  /** Registers, or bits for coils and discrete inputs. */
  readonly count: number;
  /** In address order. */
  readonly tags: readonly PlannedTag[];
}

export type FunctionCode = 1 | 2 | 3 | 4;

/** Read function per area (Modbus Application Protocol V1.1b3, 6.1–6.4). */
export const FUNCTION_CODE: Readonly<Record<Area, FunctionCode>> = {
  coil: 1,
  'discrete-input': 2,
  'holding-register': 3,
  'input-register': 4,
};

/** Protocol limits of one read (V1.1b3 6.1: 2000 coils; 6.3: 125 registers). */
export const PROTOCOL_MAX_BITS = 2000;
export const PROTOCOL_MAX_REGISTERS = 125;

/** The key of an area's address in a `rejected` set. */
export function addressKey(area: Area, address: number): number {
  return AREAS.indexOf(area) * (MAX_ADDRESS + 1) + address;
}

/** The reads of one device's tags, by group (name order), area (config.ts order), then address. */
export function planReads(tags: readonly ResolvedTag[], limits: ReadLimits, rejected?: ReadonlySet<number>): ReadPlan[] {
  const buckets = new Map<string, ResolvedTag[]>();
  for (const tag of tags) {
    const key = `${tag.group}\u0000${AREAS.indexOf(tag.area)}`;
    let bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, (bucket = []));
    bucket.push(tag);
  }
  const plans: ReadPlan[] = [];
  for (const key of [...buckets.keys()].sort()) {
    const bucket = buckets.get(key)!.sort((a, b) => a.address - b.address || b.count - a.count || a.index - b.index);
    plans.push(...coalesce(bucket, limits, rejected));
  }
  return plans;
}

function coalesce(sorted: readonly ResolvedTag[], limits: ReadLimits, rejected: ReadonlySet<number> | undefined): ReadPlan[] {
  const first = sorted[0]!;
  const bits = isBitArea(first.area);
  const limit = Math.min(bits ? limits.maxBitsPerRead : limits.maxRegistersPerRead, bits ? PROTOCOL_MAX_BITS : PROTOCOL_MAX_REGISTERS);
  const gap = bits ? limits.maxGap * 16 : limits.maxGap;
  const plans: ReadPlan[] = [];
  let members: ResolvedTag[] = [];
  let start = 0;
  let end = 0;
  for (const tag of sorted) {
    if (tag.count > limit || tag.address + tag.count - 1 > MAX_ADDRESS) {
      throw new RangeError(`tag ${tag.name}: ${tag.count} at ${tag.address} does not fit one read (limit ${limit}); resolveDevice with limits reports this`);
    }
    const tagEnd = tag.address + tag.count;
    const merge =
      members.length > 0 &&
      tag.address - end <= gap &&
      Math.max(end, tagEnd) - start <= limit &&
      !crossesRejected(rejected, tag.area, Math.min(end, tag.address), tag.address);
    if (merge) {
      members.push(tag);
      end = Math.max(end, tagEnd);
      continue;
    }
    if (members.length > 0) plans.push(readOf(members, start, end));
    members = [tag];
    start = tag.address;
    end = tagEnd;
  }
  plans.push(readOf(members, start, end));
  return plans;
}

function crossesRejected(rejected: ReadonlySet<number> | undefined, area: Area, from: number, to: number): boolean {
  if (rejected === undefined || rejected.size === 0) return false;
  for (let x = from; x <= to; x++) if (rejected.has(addressKey(area, x))) return true;
  return false;
}

function readOf(tags: readonly ResolvedTag[], start: number, end: number): ReadPlan {
  const first = tags[0]!;
  return {
    group: first.group,
    intervalMs: first.intervalMs,
    area: first.area,
    functionCode: FUNCTION_CODE[first.area],
    address: start,
    count: end - start,
    tags: tags.map((tag) => ({ tag, offset: tag.address - start })),
  };
}

/**
 * After `plan` was answered with exception 2: record in `rejected` what must not be read together
 * again, and return the smaller reads to try now (see the head comment). [] means the read cannot
 * be made smaller: its tags' own registers are refused (quality bad, reason illegal-address).
 * Every piece holds fewer tags than `plan`, so retrying pieces until none is refused ends.
 */
export function splitRejected(plan: ReadPlan, rejected: Set<number>): ReadPlan[] {
  const tags = plan.tags.map((p) => p.tag);
  // Hole-free runs; the holes between them are remembered.
  const runs: ResolvedTag[][] = [];
  let end = -1;
  for (const tag of tags) {
    const last = runs[runs.length - 1];
    if (last !== undefined && tag.address <= end) last.push(tag);
    else {
      if (last !== undefined) for (let x = end; x < tag.address; x++) rejected.add(addressKey(plan.area, x));
      runs.push([tag]);
    }
    end = Math.max(end, tag.address + tag.count);
  }
  if (runs.length > 1) return runs.map((run) => readOf(run, run[0]!.address, spanEnd(run)));
  // One span: nothing smaller to try; its start and end are remembered so it is read alone.
  if (tags.every((t) => t.address === plan.address && t.count === plan.count)) {
    rejected.add(addressKey(plan.area, plan.address));
    if (plan.address + plan.count <= MAX_ADDRESS) rejected.add(addressKey(plan.area, plan.address + plan.count));
    return [];
  }
  // A hole-free run: halve it at the first tag starting in its second half.
  const middle = plan.address + Math.floor(plan.count / 2);
  let k = tags.findIndex((t) => t.address >= middle);
  k = k < 1 ? Math.max(1, tags.length >> 1) : k;
  const at = tags[k]!.address;
  if (at > plan.address) rejected.add(addressKey(plan.area, at));
  const left = tags.slice(0, k);
  const right = tags.slice(k);
  return [readOf(left, left[0]!.address, spanEnd(left)), readOf(right, at, spanEnd(right))];
}

function spanEnd(tags: readonly ResolvedTag[]): number {
  let end = 0;
  for (const tag of tags) end = Math.max(end, tag.address + tag.count);
  return end;
}

export interface GroupSummary {
  group: string;
  intervalMs: number;
  /** Reads per cycle of this group. */
  requests: number;
  /** Registers (FC3, FC4) and bits (FC1, FC2) read per cycle, holes included. */
  registers: number;
  bits: number;
  tags: number;
}

export interface PlanSummary {
  groups: GroupSummary[];
  /** Reads when every group polls once. */
  requests: number;
  /** Reads per second at the groups' intervals. */
  requestsPerSecond: number;
}

/** What a plan costs, for the probe and the benchmark. */
export function summarisePlan(plans: readonly ReadPlan[]): PlanSummary {
  const groups = new Map<string, GroupSummary>();
  for (const plan of plans) {
    let g = groups.get(plan.group);
    if (g === undefined) groups.set(plan.group, (g = { group: plan.group, intervalMs: plan.intervalMs, requests: 0, registers: 0, bits: 0, tags: 0 }));
    g.requests++;
    if (isBitArea(plan.area)) g.bits += plan.count;
    else g.registers += plan.count;
    g.tags += plan.tags.length;
  }
  const list = [...groups.values()].sort((a, b) => a.intervalMs - b.intervalMs || (a.group < b.group ? -1 : 1));
  let requests = 0;
  let requestsPerSecond = 0;
  for (const g of list) {
    requests += g.requests;
    requestsPerSecond += (g.requests * 1000) / g.intervalMs;
  }
  return { groups: list, requests, requestsPerSecond };
}
