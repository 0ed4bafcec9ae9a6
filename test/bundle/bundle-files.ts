import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// What `npm run bundle` leaves in build/ (npm run test:bundle builds it first), and an install of
// it into a fresh root, for the tests in this folder.

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

export const TARBALL = resolve(`build/bundle/gridgate-${version}-linux-x64.tar.gz`);
export const DEB = resolve(`build/bundle/gridgate_${version}_amd64.deb`);
/** The staged tree both were packed from (scripts/bundle/assemble). */
export const STAGE = resolve('build/stage/root');
export const INSTALL_SH = resolve('scripts/install.sh');
export const VERSION = version;
/** The runtime the bundle pins (scripts/bundle/config.sh). */
export const NODE_VERSION = /^NODE_VERSION=(\S+)$/m.exec(readFileSync('scripts/bundle/config.sh', 'utf8'))![1]!;

export function assertBundleBuilt(): void {
  for (const file of [TARBALL, DEB, STAGE]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run bundle (npm run test:bundle does)`);
  }
}

export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  // No NODE_OPTIONS or NODE_PATH from this test runner: the installed gridgate must stand alone.
  const { NODE_OPTIONS: _options, NODE_PATH: _path, ...env } = process.env;
  return spawnSync(command, args, {
    encoding: 'utf8',
    cwd: options.cwd ?? tmpdir(),
    env: { ...env, ...options.env },
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024, // file lists of the 10,000-file tree
  });
}

/** scripts/install.sh --root into a fresh directory; returns it. */
export async function installFresh(tarball = TARBALL): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gridgate-root-'));
  const result = run('sh', [INSTALL_SH, '--root', root, tarball]);
  if (result.status !== 0) throw new Error(`install.sh failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return root;
}
