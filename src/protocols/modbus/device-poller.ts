import type { SourceRecord } from '../../pipeline/record.js';
import { Quality } from '../shared/quality.js';
import { Backoff, type BackoffConfig } from '../shared/backoff.js';
import type { ModbusConnection, ReadFailure } from './connection.js';
import type { ModbusDeviceConfig, ModbusSourceConfig } from './config.js';
import { planReads, splitRejected, type ReadPlan } from './plan.js';
import { scadaValueRecord } from './records.js';
import type { ResolvedTag } from './resolve.js';
import { decodeBit, decodeTag } from './tag-codec.js';

// One device's polling: its read plan per poll group, the state of each tag (last value, last
// published value, quality, last good read), and its health. A poll of a group runs the group's
// reads in order on the shared connection and turns the answers into records:
//
//   answer        → decode each tag → publish when its value moved beyond the deadband or its
//                   quality changed (first value always)
//   exception 2   (illegal data address) → plan.ts splitRejected: the read is split around what
//                   the device refused, the pieces are tried at once, the refused addresses are
//                   remembered and the group is planned again without them; a tag read alone
//                   and still refused is `rejected`
//   other failure → every tag of the read gets the failure's quality; a timeout or a closed
//                   connection also degrades the device: its polls are skipped for a back-off
//                   delay (growing, with jitter), so a dead unit costs the bus one timeout per
//                   back-off, not one per poll, and its neighbours keep their schedule
//   no good read  for staleAfterIntervals intervals → `stale`

export interface PollOutcome {
  records: SourceRecord[];
  /** Per result kind, for the request counter. */
  results: Record<'ok' | 'exception' | 'timeout' | 'malformed' | 'closed', number>;
  latenciesUs: number[];
  malformed: string[];
}

interface TagState {
  value: number | boolean | string | null;
  published: boolean;
  publishedValue: number | boolean | string | null;
  quality: number;
  lastGoodUs: number;
}

const NO_RAW = (): readonly number[] => [];
const FUNCTION_AREA: Readonly<Record<number, string>> = { 1: 'coil', 2: 'discrete-input', 3: 'holding-register', 4: 'input-register' };

export class DevicePoller {
  readonly name: string;
  readonly unitId: number;
  readonly tags: readonly ResolvedTag[];
  /** Poll group → its reads, in address order. */
  readonly plans = new Map<string, ReadPlan[]>();
  readonly intervals = new Map<string, number>();
  readonly #state: TagState[];
  readonly #backoff: Backoff;
  #degradedUntilMs = 0;
  readonly #staleAfter: number;
  readonly #limits: { maxGap: number; maxRegistersPerRead: number; maxBitsPerRead: number };
  /** Addresses the device refused (plan.ts addressKey): reads are never planned across them again. */
  readonly #rejected = new Set<number>();

  constructor(device: ModbusDeviceConfig, tags: ResolvedTag[], source: ModbusSourceConfig, backoff: BackoffConfig) {
    this.name = device.name;
    this.unitId = device.unitId;
    this.tags = tags;
    this.#limits = { maxGap: source.maxGap, maxRegistersPerRead: source.maxRegistersPerRead, maxBitsPerRead: source.maxBitsPerRead };
    this.#plan();
    this.#state = tags.map(() => ({ value: null, published: false, publishedValue: null, quality: 0, lastGoodUs: 0 }));
    this.#backoff = new Backoff(backoff);
    this.#staleAfter = source.staleAfterIntervals;
  }

  #plan(): void {
    this.plans.clear();
    for (const plan of planReads(this.tags, this.#limits, this.#rejected)) {
      const list = this.plans.get(plan.group) ?? [];
      list.push(plan);
      this.plans.set(plan.group, list);
      this.intervals.set(plan.group, plan.intervalMs);
    }
  }

  /** Backed off after failures until this time (ms since the epoch); 0 when healthy. */
  get degradedUntilMs(): number {
    return this.#degradedUntilMs;
  }

  isDegraded(nowMs: number): boolean {
    return nowMs < this.#degradedUntilMs;
  }

  /** Poll one group: its reads in order on the connection. */
  async poll(group: string, connection: ModbusConnection): Promise<PollOutcome> {
    const out: PollOutcome = { records: [], results: { ok: 0, exception: 0, timeout: 0, malformed: 0, closed: 0 }, latenciesUs: [], malformed: [] };
    // A copy: refused reads are replaced by their pieces in this poll's list as it goes.
    const plans = [...(this.plans.get(group) ?? [])];
    const rejectedBefore = this.#rejected.size;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const r = await connection.read(this.unitId, plan.functionCode, plan.address, plan.count);
      out.latenciesUs.push(r.receivedUs - r.sentUs);
      if (r.ok) {
        out.results.ok++;
        this.#answered(plan, r.registers, r.bits, r, out.records);
        continue;
      }
      out.results[r.failure.kind]++;
      if (r.failure.kind === 'malformed') out.malformed.push(r.failure.reason);
      if (r.failure.kind === 'exception' && r.failure.code === 2) {
        const pieces = splitRejected(plan, this.#rejected);
        if (pieces.length > 0) {
          plans.splice(i, 1, ...pieces);
          i--;
          continue;
        }
      }
      this.#failed(plan, r.failure, r, out.records);
      if (r.failure.kind === 'timeout' || r.failure.kind === 'closed') {
        // The device is not answering: the rest of this poll would only cost more timeouts.
        this.#degradedUntilMs = Date.now() + this.#backoff.next();
        for (const rest of plans.slice(i + 1)) this.#failed(rest, r.failure, r, out.records);
        break;
      }
    }
    if (this.#rejected.size > rejectedBefore) this.#plan();
    if (out.results.ok > 0 && out.results.timeout === 0 && out.results.closed === 0) {
      this.#backoff.reset();
      this.#degradedUntilMs = 0;
    }
    this.#checkStale(group, out.records);
    return out;
  }

  /** Mark stale what a degraded or paused device could not refresh. */
  checkStale(group: string): SourceRecord[] {
    const records: SourceRecord[] = [];
    this.#checkStale(group, records);
    return records;
  }

  #answered(plan: ReadPlan, registers: number[], bits: boolean[], times: { sentUs: number; receivedUs: number }, records: SourceRecord[]): void {
    for (const { tag, offset } of plan.tags) {
      const bit = plan.functionCode <= 2;
      const value = bit ? decodeBit(bits, offset) : decodeTag(tag, registers, offset);
      const s = this.#state[tag.index]!;
      s.value = value;
      s.lastGoodUs = times.receivedUs;
      // The raw registers are copied only for a record that is published.
      this.#publish(tag, plan, s, value, () => (bit ? [bits[offset] ? 1 : 0] : registers.slice(offset, offset + tag.count)), 0, times, undefined, records);
    }
  }

  #failed(plan: ReadPlan, failure: ReadFailure, times: { sentUs: number; receivedUs: number }, records: SourceRecord[]): void {
    const quality = failure.kind === 'exception' ? Quality.REJECTED : Quality.COMMS_FAILURE;
    for (const { tag } of plan.tags) this.#publish(tag, plan, this.#state[tag.index]!, null, NO_RAW, quality, times, failure, records);
  }

  #checkStale(group: string, records: SourceRecord[]): void {
    const interval = this.intervals.get(group);
    if (interval === undefined) return;
    const nowUs = Date.now() * 1000;
    const limitUs = this.#staleAfter * interval * 1000;
    for (const plan of this.plans.get(group) ?? []) {
      for (const { tag } of plan.tags) {
        const s = this.#state[tag.index]!;
        if (s.lastGoodUs === 0 || s.quality & Quality.STALE || nowUs - s.lastGoodUs < limitUs) continue;
        this.#publish(tag, plan, s, s.value, NO_RAW, s.quality | Quality.STALE, { sentUs: nowUs, receivedUs: nowUs }, undefined, records);
      }
    }
  }

  #publish(
    tag: ResolvedTag,
    plan: ReadPlan,
    s: TagState,
    value: number | boolean | string | null,
    raw: () => readonly number[],
    quality: number,
    times: { sentUs: number; receivedUs: number },
    failure: ReadFailure | undefined,
    records: SourceRecord[],
  ): void {
    const qualityChanged = quality !== s.quality;
    s.quality = quality;
    if (s.published && !qualityChanged && !moved(s.publishedValue, value, tag.deadband)) return;
    s.published = true;
    s.publishedValue = value;
    const fields = { device: this.name, tag: tag.name, unitId: this.unitId, area: FUNCTION_AREA[plan.functionCode]!, address: tag.address, functionCode: plan.functionCode, type: tag.type, unit: tag.unit };
    records.push(scadaValueRecord(fields, value, raw(), times, quality, failure));
  }

  /** Current quality of every tag (for the tags gauge). */
  qualities(): number[] {
    return this.#state.map((s) => s.quality);
  }
}

/** Has the value moved enough to publish? Numbers by the deadband, everything else by equality. */
function moved(before: number | boolean | string | null, after: number | boolean | string | null, deadband: number): boolean {
  if (typeof before === 'number' && typeof after === 'number') return deadband > 0 ? Math.abs(after - before) > deadband : after !== before;
  return before !== after;
}
