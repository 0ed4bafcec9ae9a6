import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seededRandom, until } from '../helpers/wait.js';
import { tempDir } from '../helpers/spool.js';

// kill -9 of a process handing out seqs, at random moments: after each restart the epoch is higher
// and every stream's first seq lies above every seq handed out before. No seq is ever reused.

describe('seqs under SIGKILL', () => {
  it('never hands out a seq twice for a stream across 40 kills', async () => {
    const dir = await tempDir('gridgate-seqcrash-');
    const highest = new Map<string, number>();
    let epoch = 0;
    const random = seededRandom(7);
    for (let kill = 0; kill < 40; kill++) {
      const logFile = join(dir, `run-${kill}.log`);
      const child = spawn(process.execPath, ['test/fixtures/seq-writer.mjs', dir, logFile], { stdio: ['ignore', 'ignore', 'inherit'] });
      const exited = once(child, 'exit');
      // Three kills in four land after the process opened its epoch (how long that takes depends
      // on the machine's load, so wait for it), the fourth wherever the start has got to.
      if (kill % 4 !== 0) await until(async () => /^E \d+$/m.test(await readFile(logFile, 'utf8').catch(() => '')), `run ${kill} opened its epoch`, 30_000);
      await new Promise((r) => setTimeout(r, 60 + random() * 240));
      child.kill('SIGKILL');
      await exited;
      const out = await readFile(logFile, 'utf8').catch(() => '');
      const seenFirst = new Set<string>();
      for (const line of out.split('\n')) {
        const e = /^E (\d+)$/.exec(line);
        if (e) {
          assert.ok(Number(e[1]) > epoch, `kill ${kill}: epoch ${e[1]} after ${epoch}`);
          epoch = Number(e[1]);
        }
        const m = /^S (\S+) (\d+)$/.exec(line);
        if (!m) continue;
        const [, stream, seqText] = m as unknown as [string, string, string];
        const seq = Number(seqText);
        const before = highest.get(stream) ?? 0;
        if (!seenFirst.has(stream)) {
          assert.ok(seq > before, `kill ${kill}: ${stream} restarted at ${seq}, at or below ${before} handed out before`);
          seenFirst.add(stream);
        } else {
          assert.ok(seq > before, `kill ${kill}: ${stream} went back from ${before} to ${seq}`);
        }
        highest.set(stream, seq);
      }
    }
    assert.ok(epoch >= 30, `epochs advanced (${epoch})`);
    assert.ok((highest.get('pmu-0') ?? 0) > 1000, 'seqs were handed out');
  });
});
