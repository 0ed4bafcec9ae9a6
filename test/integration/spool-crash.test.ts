import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { seededRandom, within } from '../helpers/wait.js';
import { entry, openSpool, sizeOf, tempDir } from '../helpers/spool.js';

// kill -9 of a writer, 200 times at random moments (during open and recovery too). After each,
// every record whose append was reported durable must be there, intact and in order, and nothing
// else may come back: no garbage, no gap, no reordering. A writer that dies before it is killed
// (an exception at open, say) fails the test with its stderr, and each step of the check has a
// deadline, so that a step that never settles fails the run instead of hanging it.

// A kill and its check take under 0.5 s; the test allows 3 s a kill in all.
const KILLS = Number(process.env.GRIDGATE_SPOOL_KILLS ?? 200);

describe('the spool under SIGKILL', () => {
  it(`keeps every record reported durable across ${KILLS} kills of a writer process`, { timeout: KILLS * 3_000 }, async () => {
    assert.ok(existsSync('dist/src/buffer/spool.js'), 'run npm run build first (npm test does)');
    const dir = await tempDir('gridgate-crash-');
    let durable = 0;
    const random = seededRandom(12345);
    let checked = 0;
    let maxPrefix = 0;
    let compared = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawn(process.execPath, ['test/fixtures/spool-writer.mjs', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Listened for from the start: a writer that dies on its own must not be waited for forever.
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      // Mostly within the first 300 ms (open, recovery, first appends); every 20th run lives past
      // a ledger update (once a second) so that segment release is killed mid-way too.
      await new Promise((r) => setTimeout(r, kill % 20 === 19 ? 1500 + random() * 500 : 40 + random() * 260));
      child.kill('SIGKILL');
      const [code, signal] = await within(exited, 10_000, `kill ${kill}: the writer's exit`);
      assert.equal(signal, 'SIGKILL', `kill ${kill}: the writer exited by itself (code ${code}): ${err}`);
      for (const m of out.matchAll(/^D (\d+)$/gm)) durable = Math.max(durable, Number(m[1]));

      const { spool } = await within(openSpool(dir, { segmentMaxBytes: 32 * 1024 }), 30_000, `kill ${kill}: opening the spool`);
      try {
        const from = spool.ackedThrough;
        maxPrefix = Math.max(maxPrefix, from);
        const records = await within(spool.read(1_000_000), 30_000, `kill ${kill}: reading the spool`);
        const ids = records.map((r) => r.id);
        // Contiguous from the acknowledged prefix: kill -9 keeps the page cache, so nothing written
        // may go missing, and no id may repeat or come out of order.
        ids.forEach((id, i) => assert.equal(id, from + 1 + i, `kill ${kill}: record ${i} after prefix ${from}`));
        // Content: records first seen now are compared in full (older ones were, and read() checks
        // every record's CRC again on the way out).
        for (const r of records) {
          if (r.id > compared) assert.deepEqual(r.entry, entry(r.id, sizeOf(r.id)), `kill ${kill}: record ${r.id} intact`);
        }
        const last = ids.length > 0 ? (ids[ids.length - 1] as number) : from;
        assert.ok(last >= durable, `kill ${kill}: durable through ${durable} but the spool ends at ${last}`);
        checked += ids.length;
        compared = Math.max(compared, last);
      } finally {
        await within(spool.close(), 30_000, `kill ${kill}: closing the spool`);
      }
    }
    assert.ok(durable > 1000, `the writer made progress (${durable} durable)`);
    if (KILLS >= 20) assert.ok(maxPrefix > 0, 'acknowledgements survived some kills (ledger and release exercised)');
    console.log(`# ${KILLS} kills, ${durable} records durable, acknowledged prefix reached ${maxPrefix}, ${checked} records checked after the kills`);
  });
});
