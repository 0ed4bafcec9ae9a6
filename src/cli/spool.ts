import { basename } from 'node:path';
import { inspectSpool, isDamaged, type SpoolReport } from '../buffer/inspect.js';
import { GatewayError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate spool stat DIR` and `gridgate spool verify DIR`: what a spool holds, and whether every
// record in it is intact. Read-only: safe on a live gateway's spool, and on a copy taken from a
// failed box.

export const spoolCommand: Command = {
  summary: 'spool stat|verify DIR  what a disk spool holds; check every record\'s CRC (read-only)',
  usage: `Usage: gridgate spool stat DIR [--json]
       gridgate spool verify DIR [--json]

stat    records held (not yet acknowledged by Kafka), bytes, segments, oldest and newest record
        time, records per topic.
verify  reads every record of every segment and checks its CRC-32C and encoding; prints each
        damaged range with its file and offset. Exit 0 when everything is intact, 1 otherwise.
Neither takes the spool's lock or changes a byte: both are safe beside a running gateway (whose
newest segment may then end in a record still being written, shown as a torn tail).`,

  async run(args) {
    const { values, positionals } = parseCommandArgs('spool', args, { json: { type: 'boolean' } }, true);
    const [action, dir, ...extra] = positionals;
    if ((action !== 'stat' && action !== 'verify') || !dir || extra.length > 0) {
      throw new GatewayError('GW_ERR_USAGE', 'spool: expected "stat DIR" or "verify DIR"');
    }
    const report = await inspectSpool(dir);
    const damaged = report.segments.filter(isDamaged);
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(action === 'stat' ? formatStat(report) : formatVerify(report));
    return action === 'verify' && damaged.length > 0 ? EXIT.FAILURE : EXIT.OK;
  },
};

function formatStat(r: SpoolReport): string {
  const lines = [`spool ${r.dir}${r.ownerPid ? ` (in use by pid ${r.ownerPid})` : ''}`];
  const ids = r.segments.filter((s) => s.lastId !== undefined);
  const first = ids[0]?.firstId;
  const last = ids[ids.length - 1]?.lastId;
  lines.push(
    `  records held   ${r.held}${last !== undefined ? ` (ids up to ${last}; acknowledged through ${r.ackedThrough ?? 'unknown: no ledger'})` : ''}`,
    `  bytes          ${r.bytes} in ${r.segments.length} segment${r.segments.length === 1 ? '' : 's'}${first !== undefined ? `, first id ${first}` : ''}`,
    `  oldest record  ${r.oldestMs === undefined ? '-' : `${new Date(r.oldestMs).toISOString()} (${age(r.oldestMs)} ago)`}`,
    `  newest record  ${r.newestMs === undefined ? '-' : `${new Date(r.newestMs).toISOString()} (${age(r.newestMs)} ago)`}`,
  );
  const topics = Object.entries(r.topics).sort(([a], [b]) => a.localeCompare(b));
  if (topics.length > 0) {
    lines.push('  per topic');
    const width = Math.max(...topics.map(([t]) => t.length));
    for (const [topic, n] of topics) lines.push(`    ${topic.padEnd(width)}  ${n}`);
  }
  const damaged = r.segments.filter(isDamaged).length;
  lines.push(`  damage         ${damaged === 0 ? 'none found' : `${damaged} segment(s): run gridgate spool verify ${r.dir}`}`);
  return `${lines.join('\n')}\n`;
}

function formatVerify(r: SpoolReport): string {
  const lines: string[] = [];
  for (const s of r.segments) {
    const problems: string[] = [];
    for (const c of s.corrupt) problems.push(`damaged ${c.bytes} B at offset ${c.offset} (skipped)`);
    if (s.tornTail) problems.push(`torn tail ${s.tornTail.bytes} B at offset ${s.tornTail.offset}`);
    for (const u of s.undecodable) problems.push(`record ${u.id} at offset ${u.offset} does not decode: ${u.reason}`);
    const ids = s.firstId === undefined ? 'no valid record' : `ids ${s.firstId}-${s.lastId}`;
    lines.push(`${basename(s.file)}  ${s.records} records, ${ids}, ${s.bytes} B: ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
  }
  const damaged = r.segments.filter(isDamaged).length;
  lines.push(`${r.dir}: ${r.segments.length} segments, ${damaged === 0 ? 'every record intact' : `${damaged} damaged`}`);
  return `${lines.join('\n')}\n`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}
