// Event time of one stream: the largest time stamp seen and the watermark behind it.
//
//   watermark W = max event time − B          (B: the allowed out-of-orderness)
//
// Flink's BoundedOutOfOrdernessWatermarks emits maxTs − B − 1 ms and fires a window at
// W ≥ end − 1 ms; ours is maxTs − B firing at W ≥ end: the same instant, in microseconds. Flink
// emits watermarks every 200 ms of processing time; we advance W after every sample, so what
// fires when (and what is late) depends only on the input order, never on timing: a replay
// produces the same output.
//
// Idleness: a stream with no sample for the idle timeout (wall clock, measured against its last
// ingest time) moves W on by the wall time elapsed since, as if its clock kept running:
// W = maxTs + (now − lastIngest) − B. Windows then close (marked idle) instead of waiting forever
// (Kafka Streams' stream time never moves without input). A stream that comes back with time stamps
// that kept running lands past W and resumes cleanly; W never moves back.

export class EventClock {
  /** Largest event time seen, µs (−Infinity before the first sample). */
  maxUs = -Infinity;
  /** The watermark, µs; only ever increases. */
  watermarkUs = -Infinity;
  /** Ingest time (gateway wall clock) of the newest sample, µs. */
  lastIngestUs = -Infinity;
  /** True while the stream is idle (set by idle(), cleared by the next sample). */
  idle = false;

  constructor(readonly outOfOrdernessUs: number) {}

  /** Account for a sample; returns the new watermark. */
  observe(eventUs: number, ingestUs: number): number {
    if (eventUs > this.maxUs) this.maxUs = eventUs;
    if (ingestUs > this.lastIngestUs) this.lastIngestUs = ingestUs;
    this.idle = false;
    const w = this.maxUs - this.outOfOrdernessUs;
    if (w > this.watermarkUs) this.watermarkUs = w;
    return this.watermarkUs;
  }

  /**
   * Advance by wall clock if idle for idleTimeoutUs at nowUs. Returns true when the watermark
   * moved. `becameIdle` tells the caller the stream just went idle (stale).
   */
  idleAdvance(nowUs: number, idleTimeoutUs: number): { moved: boolean; becameIdle: boolean } {
    const silentUs = nowUs - this.lastIngestUs;
    if (!(silentUs >= idleTimeoutUs) || this.maxUs === -Infinity) return { moved: false, becameIdle: false };
    const becameIdle = !this.idle;
    this.idle = true;
    const w = this.maxUs + silentUs - this.outOfOrdernessUs;
    if (w <= this.watermarkUs) return { moved: false, becameIdle };
    this.watermarkUs = w;
    return { moved: true, becameIdle };
  }
}
