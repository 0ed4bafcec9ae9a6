import type { AlarmTransition } from '../anomalies/alarm.js';
import { finite } from '../record.js';
import type { AnalyticsOutput } from './output.js';

// One `anomaly` record (schemas/anomaly.avsc): a flag raised or cleared. Flags are state machines
// (pickup, dropout, hysteresis), so a condition gives exactly one raised and one cleared record,
// never a record per frame. Event time = when the transition happened (event time of the window
// or sample that completed the timer); onsetTime = when the condition began.

export type Severity = 'critical' | 'warning';

export interface FlagIdentity {
  source: string;
  stream: string;
  kind: string;
  /** The channel or band the flag is about ('' when the kind says it all). */
  channel: string;
  severity: Severity;
  unit: string;
}

export interface FlagContext {
  /** Window the decision was made on: [startUs, endUs) of `name`. */
  window: { name: string; startUs: number; endUs: number };
  threshold: number;
  quality: number;
  ingestUs: number;
  /** Extra numbers about the decision (schemas/anomaly.avsc `detail`); an empty object when none. */
  detail: Readonly<Record<string, number | null>>;
}

/** The detail of a flag that has none to give. */
export const NO_DETAIL: FlagContext['detail'] = Object.freeze({});

export function anomalyRecord(id: FlagIdentity, t: AlarmTransition, value: number, ctx: FlagContext): AnalyticsOutput {
  const body = {
    kind: id.kind,
    channel: id.channel,
    state: t.state,
    severity: id.severity,
    value: finite(value),
    peak: finite(t.peak),
    threshold: finite(ctx.threshold),
    unit: id.unit,
    onsetTime: t.onsetUs,
    window: { name: ctx.window.name, start: ctx.window.startUs, end: ctx.window.endUs },
    detail: ctx.detail,
  };
  return { kind: 'anomaly', source: id.source, stream: id.stream, eventTimeUs: t.atUs, ingestTimeUs: ctx.ingestUs, quality: ctx.quality, body };
}
