import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// `npm run demo -- --outage N` as a newcomer runs it (without a terminal: plain lines), on its own
// broker (127.0.0.1:9092, not the test broker), shortened: the broker is cut mid-run, the spool
// replays, and verify-topic finds every topic clean, twice.

test('the demo runs a simulated substation through an outage and every topic verifies clean', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gridgate-demo-test-'));
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['dist/scripts/demo/demo.js', '--seconds', '45', '--outage', '8', '--outage-at', '10', '--dir', dir],
        { encoding: 'utf8', timeout: 200_000 },
        (err, out, errOut) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      );
    });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /cutting the broker for 8 s/);
    assert.match(stdout, /spool drained [\d.]+ s after the broker came back/);
    const verdicts = stdout.split('\n').filter((l) => /^ {2}grid\.[a-z.]+: \d+ records/.test(l));
    assert.equal(verdicts.length, 6, stdout);
    for (const line of verdicts) assert.match(line, /clean \(0 lost, 0 duplicates, 0 out of order, 0 missing across restarts\)/);
    const count = (topic: string): number => Number(new RegExp(`  ${topic.replace(/\./g, '\\.')}: (\\d+) records`).exec(stdout)?.[1] ?? 0);
    // 7 PMUs at 60 frames/s for ~45 s, the outage's included (spooled, then replayed).
    assert.ok(count('grid.pmu.frames') > 7 * 60 * 35, stdout);
    assert.ok(count('grid.scada.values') > 0, stdout);
    assert.ok(count('grid.features') > 0, stdout);
    // The scenario's frequency ramp at 20 s trips the under-frequency flag on every PMU.
    assert.ok(count('grid.anomalies') >= 7, stdout);
    assert.match(stdout, /gateway exited with 0/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
