// bench/summary: one table of the headline figures, each beside the reference measured in the same
// run and the issue's target, read from the JSON the benchmarks left in bench/results/. Written as
// the first section of bench/RESULTS.md; the last step of `npm run bench`.
//   npm run bench:summary
// A missing file or field drops its row (a missing reference shows "—"); nothing is re-measured.
import { readFile, stat } from 'node:fs/promises';
import { fmt, writeResults } from './lib/report.js';

interface Row {
  benchmark: string;
  what: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  met: string;
}

/** A parsed results file, whatever the benchmark wrote: read with optional chaining, every field may be missing. */
type Json = any;

const FILES = ['spool', 'kafka', 'c37118', 'avro', 'pipeline', 'modbus', 'opcua', 'e2e'] as const;
type Name = (typeof FILES)[number];

const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const ratio = (ours: unknown, reference: unknown, digits = 2): string => (ok(ours) && ok(reference) && reference !== 0 ? fmt(ours / reference, digits) : '—');
const met = (yes: boolean): string => (yes ? '**yes**' : 'no');
const pct = (share: number, digits = 1): string => `${fmt(100 * share, digits)}%`;
/** A figure in the text around the row's own ones: "?" when missing. */
const n = (x: unknown, digits = 0): string => (ok(x) ? fmt(x, digits) : '?');
/** The row, or nothing when its own figure is missing or anything else in it throws. */
const row = (ours: unknown, build: () => Row): Row[] => {
  try {
    return ok(ours) ? [build()] : [];
  } catch {
    return [];
  }
};

function spool(j: Json): Row[] {
  const g = j?.results?.find((r: Json) => r?.policy === 'group');
  const what = `${n(j?.records)} records of ${n(j?.valueBytes)}-byte values`;
  return [
    ...row(g?.recordsPerSecond, () => ({
      benchmark: 'spool',
      what: `append, 10 ms group commit (${what}, batches of ${n(j?.batch)})`,
      ours: `${fmt(g?.recordsPerSecond)} records/s, ${n(g?.mbPerSecond, 1)} MB/s`,
      reference: ok(g?.ddMbPerSecond) ? `dd, same bytes and fsyncs (${n(g?.fsyncs)}): ${fmt(g.ddMbPerSecond, 1)} MB/s` : '—',
      ratio: ratio(g?.mbPerSecond, g?.ddMbPerSecond),
      target: '≥ 500,000 records/s and ≥ 60% of dd',
      met: ok(g?.mbPerSecond) && ok(g?.ddMbPerSecond) ? met(g.recordsPerSecond >= 500_000 && g.mbPerSecond / g.ddMbPerSecond >= 0.6) : '—',
    })),
    ...row(g?.replayRecordsPerSecond, () => ({
      benchmark: 'spool',
      what: 'replay: read and acknowledge everything, page cache warm',
      ours: `${fmt(g?.replayRecordsPerSecond)} records/s, ${n(g?.replayMbPerSecond, 1)} MB/s`,
      reference: ok(g?.ddReadMbPerSecond) ? `dd reading the same segment files: ${fmt(g.ddReadMbPerSecond, 1)} MB/s` : '—',
      ratio: ratio(g?.replayMbPerSecond, g?.ddReadMbPerSecond),
      target: '≥ 1,000,000 records/s',
      met: met(g?.replayRecordsPerSecond >= 1_000_000),
    })),
  ];
}

function kafka(j: Json): Row[] {
  const kcat = ok(j?.kcat) ? `kcat (C librdkafka): ${fmt(j.kcat)} records/s` : '—';
  const ours10k = j?.latency?.['10k']?.p99;
  const c10k = j?.latency?.c10k?.p99;
  return [
    ...row(j?.viaSpool?.rate, () => ({
      benchmark: 'kafka',
      what: `end to end through the spool and Delivery, ${n(j?.records)} records of 200 B, acks=all`,
      ours: `${fmt(j?.viaSpool?.rate)} records/s`,
      reference: kcat,
      ratio: ratio(j?.viaSpool?.rate, j?.kcat),
      target: '≥ 250,000 records/s',
      met: met(j?.viaSpool?.rate >= 250_000),
    })),
    ...row(j?.bare, () => ({
      benchmark: 'kafka',
      what: 'bare node-rdkafka loop (KafkaProducer), no headers',
      ours: `${fmt(j?.bare)} records/s`,
      reference: kcat,
      ratio: ratio(j?.bare, j?.kcat),
      target: '—',
      met: '—',
    })),
    ...row(ours10k, () => ({
      benchmark: 'kafka',
      what: 'delivery latency p99, produce → acks=all report at 10,000 records/s',
      ours: `${fmt(ours10k, 2)} ms`,
      reference: ok(c10k) ? `rdkafka_performance (C, same librdkafka): ${fmt(c10k, 2)} ms` : '—',
      ratio: ratio(ours10k, c10k),
      target: '< 5 ms',
      met: met(ours10k < 5),
    })),
  ];
}

function avro(j: Json): Row[] {
  return row(j?.oursUs, () => ({
    benchmark: 'avro',
    what: `encode a whole pmu-frame record (envelope + body, ${n(j?.bytesPerRecord)} B), one core`,
    ours: `${n(j?.oursUs, 2)} µs per record`,
    reference: ok(j?.avscUs) ? `avsc, same records: ${fmt(j.avscUs, 2)} µs` : '—',
    ratio: ratio(j?.oursUs, j?.avscUs),
    target: '—',
    met: '—',
  }));
}

function c37118(j: Json): Row[] {
  const a = j?.results?.find((r: Json) => r?.name === 'a');
  const fps = a?.capture?.framesPerSecond;
  const tshark = a?.tshark?.find((t: Json) => String(t?.mode).startsWith('tshark -T fields'))?.framesPerSecond;
  const target = ok(j?.targetFramesPerSecond) ? j.targetFramesPerSecond : 2_000_000;
  return row(fps, () => ({
    benchmark: 'c37118',
    what: `decode, capture (a) 1 PMU, ${n(a?.frameBytes)} B frames: Framer + StreamDecoder, one core`,
    ours: `${fmt(fps)} frames/s`,
    reference: ok(tshark) ? `tshark -T fields: ${fmt(tshark)} frames/s` : '—',
    ratio: ratio(fps, tshark, 0),
    target: `≥ ${fmt(target)} frames/s`,
    met: met(fps >= target),
  }));
}

function pipeline(j: Json): Row[] {
  const workers = j?.results?.find((r: Json) => r?.mode === 'workers' && r?.threads === 1);
  const main = j?.results?.find((r: Json) => r?.mode === 'main-thread');
  const ours = workers?.eventLoopDelay?.p99Ms;
  const reference = main?.eventLoopDelay?.p99Ms;
  const target = ok(j?.targetEventLoopDelayP99Ms) ? j.targetEventLoopDelayP99Ms : 5;
  return row(ours, () => ({
    benchmark: 'pipeline',
    what: `main-thread event-loop delay p99, analytics of ${n(j?.pmus)} PMUs × ${n(j?.rate)} frames/s in workers (1 thread)`,
    ours: `${fmt(ours, 2)} ms`,
    reference: ok(reference) ? `main-thread mode: ${fmt(reference, 2)} ms` : '—',
    ratio: ratio(ours, reference),
    target: `< ${fmt(target)} ms`,
    met: met(ours < target),
  }));
}

function modbus(j: Json): Row[] {
  const run = j?.sustained?.find((r: Json) => r?.coalesced === true && r?.intervalMs === 100);
  const bare = j?.reference?.find((r: Json) => r?.intervalMs === 100 && r?.requestsPerCycle === run?.requestsPerCycle);
  const ours = run?.pollDurationMs?.p50;
  return row(ours, () => ({
    benchmark: 'modbus',
    what: `one poll p50, ${n(j?.tags)} tags coalesced into ${n(run?.requestsPerCycle)} requests, every 100 ms`,
    ours: `${fmt(ours, 2)} ms`,
    reference: ok(bare?.cycleMs?.p50) ? `bare modbus-serial loop, same reads on the same grid: ${fmt(bare.cycleMs.p50, 2)} ms` : '—',
    ratio: ratio(ours, bare?.cycleMs?.p50),
    target: '—',
    met: '—',
  }));
}

function opcua(j: Json): Row[] {
  /** CPU of the client (share of one core) per 1,000 good values/s. */
  const perThousand = (c: Json): number => c?.cpu / (c?.good / c?.seconds / 1000);
  return (Array.isArray(j?.runs) ? j.runs : []).flatMap((r: Json) => {
    const ours = perThousand(r?.gateway?.client);
    const reference = perThousand(r?.bare?.client);
    const granted = r?.bare?.client?.revisedSamplingMs;
    const grantedText = ok(granted?.min) && granted.min === granted.max && granted.min !== r?.samplingMs ? ` (granted ${granted.min} ms)` : '';
    return row(ours, () => ({
      benchmark: 'opcua',
      what: `client CPU per 1,000 values/s, ${n(r?.items)} items sampled every ${n(r?.samplingMs)} ms${grantedText}, SignAndEncrypt`,
      ours: `${pct(ours, 2)} of a core`,
      reference: ok(reference) ? `bare node-opcua client: ${pct(reference, 2)}` : '—',
      ratio: ratio(ours, reference),
      target: '—',
      met: '—',
    }));
  });
}

function e2e(j: Json): Row[] {
  // The issue's targets, as bench/e2e.ts records them (its RSS figure compared in MB, as here).
  const t = j?.targets;
  const p99Target = ok(t?.p99MsAt100) ? t.p99MsAt100 : 10;
  const cpuTarget = ok(t?.cpuShareAt100) ? t.cpuShareAt100 : 0.25;
  const rssTarget = ok(t?.rssMiB) ? t.rssMiB : 250;
  return (Array.isArray(j?.runs) ? j.runs : []).flatMap((r: Json) => {
    const pmus = r?.pmus;
    if (!ok(pmus)) return [];
    const off = r?.analytics === 'off';
    // Runs from before kafka.encoding existed wrote JSON.
    const what = `end to end, ${fmt(pmus)} PMUs × 60 frames/s, ${r?.encoding ?? 'json'}${off ? ', analytics off' : ''}`;
    // The targets are for the gateway as shipped (analytics on); the analytics-off run shows the transport's share.
    const at100 = pmus === 100 && !off;
    const p99 = r?.latencyMs?.p99;
    const refP99 = r?.reference?.latencyMs?.p99;
    const mb = r?.rssMaxMiB * 1.048576;
    return [
      ...row(p99, () => ({
        benchmark: 'e2e',
        what: `${what}: frame sent → Kafka ack p99`,
        ours: `${fmt(p99, 2)} ms`,
        reference: ok(refP99) ? `${r?.reference?.label ?? 'reference'}: ${fmt(refP99, 2)} ms` : '—',
        ratio: ratio(p99, refP99),
        target: at100 ? `< ${fmt(p99Target)} ms` : '—',
        met: at100 ? met(p99 < p99Target) : '—',
      })),
      ...row(r?.cpuShare, () => ({
        benchmark: 'e2e',
        what: `${what}: gateway CPU`,
        ours: `${pct(r?.cpuShare)} of one core`,
        reference: '—',
        ratio: '—',
        target: at100 ? `< ${pct(cpuTarget, 0)} of one core` : '—',
        met: at100 ? met(r?.cpuShare < cpuTarget) : '—',
      })),
      ...row(mb, () => ({
        benchmark: 'e2e',
        what: `${what}: gateway RSS max`,
        ours: `${fmt(mb)} MB (${fmt(r?.rssMaxMiB)} MiB)`,
        reference: '—',
        ratio: '—',
        target: `< ${fmt(rssTarget)} MB`,
        met: met(mb < rssTarget),
      })),
      ...(pmus === 1000
        ? row(r?.lost, () => ({
            benchmark: 'e2e',
            what: `${what}: sustained without loss`,
            ours: `${fmt(r?.lost)} lost; ${n(r?.recordsAcknowledged)} of ${n(r?.recordsExpected)} PMU records acknowledged in the measured window`,
            reference: '—',
            ratio: '—',
            // Sustained: keeping up (the offered rate acknowledged), not only losing nothing.
            target: 'nothing lost, ≥ 99 % of the offered rate acknowledged',
            met: met(r?.lost === 0 && r?.recordsAcknowledged >= 0.99 * r?.recordsExpected),
          }))
        : []),
    ];
  });
}

const BUILD: Record<Name, (j: Json) => Row[]> = { spool, kafka, c37118, avro, pipeline, modbus, opcua, e2e };

/** The file's own date (or its modification time) and machine, for the line under the table. */
async function source(name: Name, j: Json): Promise<string> {
  const file = `bench/results/${name}.json`;
  const date = typeof j?.date === 'string' ? `${j.date.slice(0, 16).replace('T', ' ')} UTC` : await stat(file).then(
    (s) => `${s.mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC (file time)`,
    () => 'date unknown',
  );
  return `- \`${file}\`: ${date}${typeof j?.machine === 'string' ? `, ${j.machine}` : ''}`;
}

const rows: Row[] = [];
const sources: string[] = [];
for (const name of FILES) {
  const j: Json = await readFile(`bench/results/${name}.json`, 'utf8').then(JSON.parse).catch(() => undefined);
  if (j === undefined) {
    if (name !== 'e2e') sources.push(`- \`bench/results/${name}.json\`: missing or unreadable (no rows)`);
    continue;
  }
  try {
    rows.push(...BUILD[name](j));
  } catch (err) {
    console.warn(`summary: skipped ${name}.json (${(err as Error).message})`);
  }
  sources.push(await source(name, j));
}

const cells = (r: Row): string => `| ${[r.benchmark, r.what, r.ours, r.reference, r.ratio, r.target, r.met].join(' | ')} |`;
const markdown = [
  '## summary (bench/summary.ts)',
  '',
  "The headline figure of each benchmark below, beside the reference measured in the same run and the issue's target; rebuilt from bench/results/*.json by `npm run bench:summary` (the last step of `npm run bench`). For latencies and CPU a ratio under 1 is better; the sections below have every figure and the conditions.",
  '',
  '| benchmark | what | ours | reference (measured in the same run) | ours ÷ reference | target | met? |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(cells),
  '',
  'Measured:',
  '',
  ...sources,
].join('\n');
await writeResults('summary', { date: new Date().toISOString(), rows, sources }, markdown, { first: true });
console.log(markdown);
