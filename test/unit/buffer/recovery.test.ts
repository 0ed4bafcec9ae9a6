import assert from 'node:assert/strict';
import { appendFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scanRecords } from '../../../src/buffer/record-format.js';
import { entry, flipBits, metricValue, openSpool, range, tempDir } from '../../helpers/spool.js';


async function filled(n: number, segmentMaxBytes = 1024 * 1024): Promise<{ dir: string; segment: string }> {
  const dir = await tempDir();
  const { spool } = await openSpool(dir, { segmentMaxBytes });
  await spool.append(range(1, n).map((i) => entry(i))).durable;
  await spool.close();
  const segment = (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort()[0] as string;
  return { dir, segment: join(dir, segment) };
}

async function offsetOf(segment: string, id: number): Promise<number> {
  const bytes = await readFile(segment);
  const record = scanRecords(bytes, 0, bytes.length, 0).records.find((r) => r.id === id);
  assert.ok(record);
  return record.offset;
}

/** Every record read must be exactly the entry appended under its id. */
async function readAllChecked(dir: string): Promise<{ ids: number[]; registry: import('prom-client').Registry; logs: Record<string, unknown>[] }> {
  const opened = await openSpool(dir);
  try {
    const records = await opened.spool.read(100_000);
    for (const r of records) assert.deepEqual(r.entry, entry(r.id), `record ${r.id} is intact`);
    return { ids: records.map((r) => r.id), registry: opened.registry, logs: opened.logs };
  } finally {
    await opened.spool.close();
  }
}

describe('spool recovery', () => {
  it('truncates a torn tail to the last valid record and appends after it', async () => {
    const { dir, segment } = await filled(100);
    const size = (await stat(segment)).size;
    await appendFile(segment, Buffer.from(await readFile(segment)).subarray(0, 150)); // half a record
    const opened = await openSpool(dir);
    assert.equal((await stat(segment)).size, size, 'cut back to the last complete record');
    assert.ok(opened.logs.some((l) => l.msg === 'spool: torn tail truncated (an append that never became durable)' && l.offset === size));
    assert.equal(opened.spool.append([entry(101)]).firstId, 101);
    await opened.spool.close();
    assert.deepEqual((await readAllChecked(dir)).ids, range(1, 101));
  });

  it('truncates a zero-filled tail (power loss on some filesystems) without calling it corruption', async () => {
    const { dir } = await filled(40);
    const segment = join(dir, (await readdir(dir)).find((f) => f.endsWith('.seg')) as string);
    await appendFile(segment, Buffer.alloc(8192));
    const { ids, registry } = await readAllChecked(dir);
    assert.deepEqual(ids, range(1, 40));
    assert.equal(await metricValue(registry, 'gridgate_spool_corrupt_ranges_total', { stage: 'recovery' }), 0);
  });

  it('skips a record with a flipped payload byte, counts it, logs file and offset, and returns the rest', async () => {
    const { dir, segment } = await filled(100);
    const at = await offsetOf(segment, 50);
    const bytes = await readFile(segment);
    flipBits(bytes, at + 100, 0x01);
    await writeFile(segment, bytes);
    const opened = await openSpool(dir);
    const ids = (await opened.spool.read(1000)).map((r) => r.id);
    assert.deepEqual(ids, [...range(1, 49), ...range(51, 100)]);
    assert.equal(await metricValue(opened.registry, 'gridgate_spool_corrupt_ranges_total', { stage: 'recovery' }), 1);
    assert.equal(await metricValue(opened.registry, 'gridgate_spool_corrupt_ranges_total', { stage: 'read' }), 0, 'counted once');
    const logged = opened.logs.find((l) => l.msg === 'spool: damaged range skipped at recovery (records in it are lost)');
    assert.deepEqual([logged?.segment, logged?.offset, logged?.level], [segment, at, 50]);
    for (const id of ids) opened.spool.ack(id);
    assert.equal(opened.spool.ackedThrough, 100, 'the lost record does not stall the acknowledged prefix');
    await opened.spool.close();
  });

  it('resynchronises after a damaged length field without trusting it', async () => {
    const { dir, segment } = await filled(100);
    const at = await offsetOf(segment, 30);
    const bytes = await readFile(segment);
    bytes.writeUInt32LE(5_000_000, at); // a plausible but wrong length
    await writeFile(segment, bytes);
    assert.deepEqual((await readAllChecked(dir)).ids, [...range(1, 29), ...range(31, 100)]);
  });

  it('delivers everything again when the ledger is missing: duplicates, never loss', async () => {
    const dir = await tempDir();
    const a = await openSpool(dir);
    await a.spool.append(range(1, 30).map((i) => entry(i))).durable;
    for (const r of await a.spool.read(30)) if (r.id <= 10) a.spool.ack(r.id);
    await a.spool.close();
    await rm(join(dir, 'ledger'));
    const b = await openSpool(dir);
    assert.ok(b.logs.some((l) => /ledger missing/.test(String(l.msg))));
    assert.deepEqual((await b.spool.read(100)).map((r) => r.id), range(1, 30));
    assert.equal(b.spool.append([entry(31)]).firstId, 31);
    await b.spool.close();
  });

  it('falls back to the older ledger slot when the newer one is torn', async () => {
    const dir = await tempDir();
    const a = await openSpool(dir);
    await a.spool.append(range(1, 30).map((i) => entry(i))).durable;
    const records = await a.spool.read(30);
    for (const r of records.slice(0, 10)) a.spool.ack(r.id);
    await a.spool.close(); // generation 1 → slot 1 says 10
    const b = await openSpool(dir);
    for (const r of (await b.spool.read(30)).slice(0, 10)) b.spool.ack(r.id);
    await b.spool.close(); // generation 2 → slot 0 says 20
    const ledger = await readFile(join(dir, 'ledger'));
    flipBits(ledger, 20, 0xff); // tear slot 0
    await writeFile(join(dir, 'ledger'), ledger);
    const c = await openSpool(dir);
    assert.equal(c.spool.ackedThrough, 10);
    await c.spool.close();
  });

  it('never returns garbage, whatever happens to the files (fuzzed damage)', async () => {
    const { dir } = await filled(60, 8 * 1024);
    const acked = await openSpool(dir); // acknowledge a prefix so the ledger has something to damage
    for (const r of (await acked.spool.read(5))) acked.spool.ack(r.id);
    await acked.spool.close();
    const pristine = new Map<string, Buffer>();
    for (const f of await readdir(dir)) if (f.endsWith('.seg') || f === 'ledger') pristine.set(f, await readFile(join(dir, f)));
    const names = [...pristine.keys()];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            file: fc.nat(names.length - 1),
            kind: fc.constantFrom('flip', 'zero', 'truncate', 'garbage'),
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            length: fc.integer({ min: 1, max: 600 }),
            seed: fc.nat(255),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        async (damages) => {
          for (const [f, b] of pristine) await writeFile(join(dir, f), b);
          for (const d of damages) {
            const path = join(dir, names[d.file] as string);
            const bytes = Buffer.from(await readFile(path));
            const at = Math.floor(d.at * bytes.length);
            if (d.kind === 'flip' && bytes.length > 0) flipBits(bytes, Math.min(at, bytes.length - 1), 1 << (d.seed % 8));
            if (d.kind === 'zero') bytes.fill(0, at, Math.min(bytes.length, at + d.length));
            if (d.kind === 'garbage') for (let i = at; i < Math.min(bytes.length, at + d.length); i++) bytes[i] = (i * 31 + d.seed) & 0xff;
            await writeFile(path, d.kind === 'truncate' ? bytes.subarray(0, at) : bytes);
          }
          const { ids } = await readAllChecked(dir); // asserts every record is intact
          for (let i = 1; i < ids.length; i++) assert.ok((ids[i] as number) > (ids[i - 1] as number), 'ids strictly increase');
          for (const f of await readdir(dir)) if (f.endsWith('.seg') && !pristine.has(f)) await rm(join(dir, f));
        },
      ),
      { numRuns: 60 },
    );
  });
});
