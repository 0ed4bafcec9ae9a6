import { readdir, readFile } from 'node:fs/promises';

// What /proc says about a process (Linux): resident memory, open file descriptors and CPU time of
// all its threads (the main thread, the analytics workers, librdkafka's and libuv's threads).

export interface ProcSample {
  at: number;
  rssBytes: number;
  fds: number;
  /** User + system CPU seconds since the process started, all threads. */
  cpuSeconds: number;
  /** The same, of the main thread alone (the event loop). */
  mainThreadCpuSeconds: number;
}

const TICKS_PER_SECOND = 100; // sysconf(_SC_CLK_TCK) on Linux

export async function sampleProcess(pid: number): Promise<ProcSample | undefined> {
  try {
    const [status, stat, mainStat, fds] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8'),
      readdir(`/proc/${pid}/fd`),
    ]);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    return { at: Date.now(), rssBytes: rssKb * 1024, fds: fds.length, cpuSeconds: cpuOf(stat), mainThreadCpuSeconds: cpuOf(mainStat) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function cpuOf(stat: string): number {
  // Fields after the command name (which may contain spaces), from its closing parenthesis:
  // utime and stime are fields 14 and 15 of the line, so 11 and 12 after the state.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU used between two samples, as a share of one core (1 = 100 %). */
export const cpuShare = (a: ProcSample, b: ProcSample): number => (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);
export const mainThreadCpuShare = (a: ProcSample, b: ProcSample): number => (b.mainThreadCpuSeconds - a.mainThreadCpuSeconds) / ((b.at - a.at) / 1000);

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] as number);
}
