import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The peer tests' Python: the venv scripts/python-env makes at .venv in the repo root, with
// test/peers/requirements.txt installed. A missing or stale venv is an error that says how to make
// it, never a skip (STYLE.md: peer tests run every time).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The venv's interpreter. */
export const VENV_PYTHON = `${ROOT}.venv/bin/python`;

const REQUIREMENTS = `${ROOT}test/peers/requirements.txt`;
/** Written by scripts/python-env after a successful install: SHA-256 of requirements.txt. */
const STAMP = `${ROOT}.venv/.requirements.sha256`;

/** Throws unless .venv exists and holds what requirements.txt pins now. */
export function assertPythonEnv(): void {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(`no Python venv at ${VENV_PYTHON}: run scripts/python-env (it installs test/peers/requirements.txt)`);
  }
  const want = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  const have = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '(no stamp)';
  if (have !== want) {
    throw new Error(`the Python venv .venv is out of date with test/peers/requirements.txt (stamp ${have.slice(0, 12)}, file ${want.slice(0, 12)}): run scripts/python-env`);
  }
}

/**
 * Runs `script` (a path) with the venv's Python, `input` as JSON on stdin; returns its stdout
 * parsed as JSON. A non-zero exit, a signal or unparsable output throws with the script's stderr.
 */
export function runPythonJson<T = unknown>(script: string, input: unknown, timeoutMs = 120_000): T {
  assertPythonEnv();
  const result = spawnSync(VENV_PYTHON, [script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: timeoutMs,
  });
  const tail = (s: string | null): string => (s ?? '').trim().split('\n').slice(-20).join('\n');
  if (result.error) throw new Error(`${VENV_PYTHON} ${script}: ${result.error.message}\n${tail(result.stderr)}`);
  if (result.status !== 0) {
    throw new Error(`${VENV_PYTHON} ${script} exited with ${result.status ?? result.signal}:\n${tail(result.stderr)}`);
  }
  try {
    return JSON.parse(result.stdout) as T;
  } catch (cause) {
    throw new Error(`${script} printed no JSON: ${result.stdout.slice(0, 200)}`, { cause });
  }
}
