// Reads the gateway's /metrics (Prometheus text format 0.0.4) into samples, and the few sums and
// histogram quantiles a status view or a soak test needs from two scrapes a few seconds apart.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Scrape {
  readonly at: number;
  readonly samples: Sample[];

  constructor(text: string, at = Date.now()) {
    this.at = at;
    this.samples = parseMetrics(text);
  }

  /** The sum of every sample of `name` whose labels include `match`. */
  sum(name: string, match: Record<string, string> = {}): number {
    let total = 0;
    for (const s of this.samples) if (s.name === name && matches(s.labels, match)) total += s.value;
    return total;
  }

  /** Values of `name` by one label, e.g. records per source. */
  byLabel(name: string, label: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) {
      const key = s.labels[label];
      if (s.name === name && key !== undefined) out.set(key, (out.get(key) ?? 0) + s.value);
    }
    return out;
  }

  /** Cumulative bucket counts of histogram `name`, by upper bound. */
  buckets(name: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.samples) {
      if (s.name !== `${name}_bucket`) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      out.set(le, (out.get(le) ?? 0) + s.value);
    }
    return out;
  }
}

export async function scrape(url: string, timeoutMs = 2000): Promise<Scrape> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Scrape(await response.text());
}

/** Per-second rate of a counter between two scrapes (0 across a counter reset: a restart). */
export function rate(before: Scrape | undefined, after: Scrape, name: string, match: Record<string, string> = {}): number {
  if (!before) return 0;
  const delta = after.sum(name, match) - before.sum(name, match);
  const seconds = (after.at - before.at) / 1000;
  return delta >= 0 && seconds > 0 ? delta / seconds : 0;
}

/**
 * Quantile q of what histogram `name` observed between two scrapes, interpolated linearly inside
 * the bucket it falls in (as PromQL's histogram_quantile); undefined when nothing was observed.
 */
export function quantileBetween(before: Scrape | undefined, after: Scrape, name: string, q: number): number | undefined {
  const now = after.buckets(name);
  const then = before?.buckets(name) ?? new Map<number, number>();
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => Math.max(0, (now.get(le) ?? 0) - (then.get(le) ?? 0)));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if ((counts[i] as number) < rank) continue;
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : (counts[i - 1] as number);
    const inBucket = (counts[i] as number) - below;
    return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
  }
  return bounds.at(-2);
}

function matches(labels: Record<string, string>, match: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(match)) if (labels[k] !== v) return false;
  return true;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}
