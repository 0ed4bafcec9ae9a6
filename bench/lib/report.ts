import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';

// Where benchmarks leave their figures: bench/results/<name>.json (everything measured) and their
// own section of bench/RESULTS.md (the table a reader compares), between markers.

export function machine(): string {
  return `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

/**
 * Writes bench/results/<name>.json and the <name> section of bench/RESULTS.md. An existing section
 * is replaced where it stands; a new one goes at the end, or with `first` before every other
 * section, right after the file's title and intro.
 */
export async function writeResults(name: string, json: unknown, markdown: string, options: { first?: boolean } = {}): Promise<void> {
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${name}.json`, `${JSON.stringify(json, null, 2)}\n`);
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  const current = await readFile('bench/RESULTS.md', 'utf8').catch(() => '# Benchmark results\n\nWritten by the benchmarks in bench/; each section is replaced by its own run.\n');
  const section = `${begin}\n${markdown.trim()}\n${end}`;
  const at = current.indexOf(begin);
  const firstSection = options.first ? current.search(/^<!-- BEGIN /m) : -1;
  const next =
    at >= 0
      ? current.slice(0, at) + section + current.slice(current.indexOf(end) + end.length)
      : firstSection >= 0
        ? `${current.slice(0, firstSection)}${section}\n\n${current.slice(firstSection)}`
        : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile('bench/RESULTS.md', next);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
