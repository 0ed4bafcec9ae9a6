import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/spool.js';

// A full disk, for real: a 512 KiB tmpfs mounted in a private mount namespace (unshare -rm works
// without root), the spool on it, a child process appending until ENOSPC.

describe('the spool on a full disk', () => {
  it('refuses appends while the disk is full, loses nothing, and resumes once segments are released', async () => {
    const dir = await tempDir('gridgate-diskfull-');
    const run = spawnSync(
      'unshare',
      ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=512k tmpfs "$1" && exec "$2" test/fixtures/spool-disk-full.mjs "$1"', 'sh', dir, process.execPath],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, `${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, unknown> & { logs: string[] };
    assert.equal(result.refusedWithRoom, false, 'hasRoomFor says no while the disk is full');
    assert.ok(result.logs.includes('spool write failed; appends refused until it succeeds'));
    assert.ok((result.fullAt as number) > 500 && (result.fullAt as number) < 3000, `full after ${result.fullAt}`);
    assert.ok((result.secondFullAt as number) > (result.fullAt as number), 'appends resumed after acknowledgements released space');
    assert.equal(result.intact, true);
    assert.equal(result.contiguous, true);
    assert.equal(result.lastBack, (result.secondFullAt as number) - 1, 'every record appended is back after reopening, the last one too');
    assert.ok((result.lastDurable as number) >= (result.secondFullAt as number) - 1, 'every append became durable once space was there');
  });
});
