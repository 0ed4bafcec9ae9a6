import type { AlarmTransition } from '../anomalies/alarm.js';
import { num, type AnalyticsOutput } from './output.js';

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
  /** Extra fields, as JSON object members text (`"a":1,"b":2`), or ''. */
  detail: string;
}

export function anomalyRecord(id: FlagIdentity, t: AlarmTransition, value: number, ctx: FlagContext): AnalyticsOutput {
  const body =
    `{"kind":${JSON.stringify(id.kind)},"channel":${JSON.stringify(id.channel)},"state":"${t.state}","severity":"${id.severity}",` +
    `"value":${num(value)},"peak":${num(t.peak)},"threshold":${num(ctx.threshold)},"unit":${JSON.stringify(id.unit)},` +
    `"onsetTime":${t.onsetUs},"window":{"name":${JSON.stringify(ctx.window.name)},"start":${ctx.window.startUs},"end":${ctx.window.endUs}},` +
    `"detail":{${ctx.detail}}}`;
  return { kind: 'anomaly', source: id.source, stream: id.stream, eventTimeUs: t.atUs, ingestTimeUs: ctx.ingestUs, quality: ctx.quality, bodyJson: body };
}
