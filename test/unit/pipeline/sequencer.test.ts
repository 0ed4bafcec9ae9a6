import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Sequencer } from '../../../src/pipeline/sequencer.js';
import { tempDir } from '../../helpers/spool.js';

const silent = pino({ level: 'silent' });

describe('epochs and per-stream seqs', () => {
  it('starts a new, durable epoch at every open', async () => {
    const dir = await tempDir('gridgate-seq-');
    for (const expected of [1, 2, 3]) {
      const s = await Sequencer.open(dir, silent);
      assert.equal(s.epoch, expected);
      assert.equal(JSON.parse(await readFile(join(dir, 'sequence.json'), 'utf8')).epoch, expected, 'on disk before any record');
      await s.close();
    }
  });

  it('hands out consecutive seqs per stream, independently, and batches of them', async () => {
    const s = await Sequencer.open(await tempDir('gridgate-seq-'), silent);
    assert.equal(await s.assign('a'), 1);
    assert.equal(await s.assign('a'), 2);
    assert.equal(await s.assign('b'), 1);
    assert.equal(await s.assign('a', 10), 3);
    assert.equal(await s.assign('a'), 13);
    assert.equal(await s.assign('b', 5000), 2, 'a burst larger than a block');
    assert.equal(await s.assign('b'), 5002);
    await s.close();
  });

  it('does not hand out a seq before its reservation is durable, and never waits in steady state', async () => {
    const s = await Sequencer.open(await tempDir('gridgate-seq-'), silent);
    assert.equal(s.tryAssign('new'), -1, 'a new stream waits for its first reservation');
    await s.ready();
    let waited = 0;
    for (let i = 0; i < 5000; i++) {
      if (s.tryAssign('new') < 0) {
        waited++;
        await s.ready();
        i--;
      }
      if (i % 100 === 0) await new Promise((r) => setImmediate(r)); // let renewals be written
    }
    assert.ok(waited <= 1, `waited ${waited} times in steady state`);
    await s.close();
  });

  it('reserves for every new stream of a batch at once: one wait covers 3,000 of them', async () => {
    const s = await Sequencer.open(await tempDir('gridgate-seq-'), silent);
    const streams = Array.from({ length: 3000 }, (_, i) => `site/pmu/${i}#pmu-frame`);
    s.prepare(streams);
    await s.ready();
    const waiting = streams.filter((stream) => s.tryAssign(stream) < 0);
    assert.deepEqual(waiting, []);
    await s.close();
  });

  it('continues exactly after a clean close: no gap', async () => {
    const dir = await tempDir('gridgate-seq-');
    const a = await Sequencer.open(dir, silent);
    for (let i = 0; i < 100; i++) await a.assign('pmu');
    await a.close();
    const b = await Sequencer.open(dir, silent);
    assert.equal(await b.assign('pmu'), 101);
    await b.close();
  });

  it('skips past its durable reservation after a crash, so no seq is ever handed out twice', async () => {
    const dir = await tempDir('gridgate-seq-');
    const a = await Sequencer.open(dir, silent);
    let last = 0;
    for (let i = 0; i < 3000; i++) {
      last = await a.assign('pmu');
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    await a.ready();
    // No close(): the process "died" here.
    const b = await Sequencer.open(dir, silent);
    const next = await b.assign('pmu');
    assert.ok(next > last, `${next} > ${last}`);
    assert.equal(b.epoch, 2);
    await b.close();
  });

  it('starts above anything used before when its state file is unreadable, and says so', async () => {
    const dir = await tempDir('gridgate-seq-');
    const a = await Sequencer.open(dir, silent);
    await a.assign('pmu', 50);
    await a.close();
    await writeFile(join(dir, 'sequence.json'), '{"version": 1, "epo');
    const logs: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => logs.push(JSON.parse(l) as Record<string, unknown>) });
    const now = 1_800_000_000_000;
    const b = await Sequencer.open(dir, log, () => now);
    assert.equal(b.epoch, 1_800_000_000);
    assert.equal(await b.assign('pmu'), now * 1000);
    assert.ok(logs.some((l) => l.level === 50 && /unreadable/.test(String(l.msg))));
    await b.close();
  });

  it('waits for a durable reservation while the state cannot be written, retrying once a second', async () => {
    const dir = await tempDir('gridgate-seq-');
    const errors: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    const s = await Sequencer.open(dir, log);
    // A directory where the temporary state file goes makes every write fail (even for root).
    await mkdir(join(dir, 'sequence.json.tmp'));
    let seq: number | undefined;
    const assigned = s.assign('new-stream').then((n) => (seq = n));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(seq, undefined, 'no seq without a durable ceiling');
    assert.ok(errors.length >= 1 && errors.length <= 3, `paced retries, not a flood: ${errors.length} errors in 1.5 s`);
    await rm(join(dir, 'sequence.json.tmp'), { recursive: true });
    await assigned;
    assert.equal(seq, 1);
    await s.close();
  });
});
