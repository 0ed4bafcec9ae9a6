// The spool's bound and what it means in hours. The ingest rate is an exponentially weighted
// moving average over one-second samples with a one-minute time constant: steady enough to size a
// disk with, quick enough to follow a site that adds PMUs.

const TIME_CONSTANT_S = 60;

export class RateMeter {
  #bytesThisSecond = 0;
  #rate = 0;
  #samples = 0;

  observe(bytes: number): void {
    this.#bytesThisSecond += bytes;
  }

  /** Call once a second. */
  tick(elapsedSeconds = 1): void {
    const instant = this.#bytesThisSecond / elapsedSeconds;
    this.#bytesThisSecond = 0;
    const alpha = 1 - Math.exp(-elapsedSeconds / TIME_CONSTANT_S);
    this.#rate = this.#samples === 0 ? instant : this.#rate + alpha * (instant - this.#rate);
    this.#samples++;
  }

  /** Bytes per second; 0 until the first tick. */
  get bytesPerSecond(): number {
    return this.#rate;
  }

  /** A minute of samples: enough to size anything on. */
  get settled(): boolean {
    return this.#samples >= TIME_CONSTANT_S;
  }
}

export interface BoundInputs {
  maxBytes: number | undefined;
  capacityHours: number | undefined;
  bytesPerSecond: number;
  settled: boolean;
  /** Free bytes on the filesystem plus what the spool already holds. */
  diskAvailableBytes: number;
  segmentMaxBytes: number;
}

/**
 * The byte bound in force. maxBytes when given (1 GiB when neither is given); with capacityHours
 * alone, rate × hours once the rate has settled, and the disk until then. Never less than two
 * segments, so that the oldest can be released while the newest is written.
 */
export function effectiveBound(i: BoundInputs, defaultMaxBytes: number): number {
  let bound: number;
  if (i.maxBytes !== undefined) bound = i.maxBytes;
  else if (i.capacityHours === undefined) bound = defaultMaxBytes;
  else if (!i.settled) bound = i.diskAvailableBytes;
  else bound = i.bytesPerSecond * i.capacityHours * 3600;
  return Math.max(Math.floor(bound), 2 * i.segmentMaxBytes);
}

/** Bytes needed to hold capacityHours at the current rate; undefined when not asked for. */
export function bytesNeeded(capacityHours: number | undefined, bytesPerSecond: number): number | undefined {
  return capacityHours === undefined ? undefined : Math.ceil(bytesPerSecond * capacityHours * 3600);
}
