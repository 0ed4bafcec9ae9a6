import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReloadResult } from './reloader.js';

// The outcome of the last reload, in the state directory, for `gridgate reload` (systemd's
// ExecReload) to wait on: a SIGHUP carries no answer, and systemd 252 does not wait for READY=1
// after RELOADING=1, so without this `systemctl reload` would return before anything was applied.

export interface ReloadReport {
  pid: number;
  /** Date.now() when the reload finished. */
  atMs: number;
  result: ReloadResult;
  /** What was applied, what needs a restart, or what is wrong with the file. */
  detail: string[];
}

const FILE = 'reload.json';

export async function writeReloadReport(stateDir: string, report: ReloadReport): Promise<void> {
  const path = join(stateDir, FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(report)}\n`);
  await rename(`${path}.tmp`, path);
}

export async function readReloadReport(stateDir: string): Promise<ReloadReport | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, FILE), 'utf8')) as ReloadReport;
  } catch {
    return undefined;
  }
}
