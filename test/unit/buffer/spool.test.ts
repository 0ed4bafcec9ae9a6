import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { entry, entryNumber, metricValue, openSpool, range, tempDir } from '../../helpers/spool.js';


describe('the spool', () => {
  it('gives records back in append order with ids from 1, and each intact', async () => {
    const { spool } = await openSpool(await tempDir());
    const receipt = spool.append(range(1, 100).map((n) => entry(n)));
    assert.deepEqual([receipt.firstId, receipt.lastId], [1, 100]);
    await receipt.durable;
    const records = await spool.read(1000);
    assert.deepEqual(records.map((r) => r.id), range(1, 100));
    for (const r of records) assert.deepEqual(r.entry, entry(r.id));
    assert.deepEqual(await spool.read(10), [], 'nothing more');
    await spool.close();
  });

  it('resolves durable only after an fdatasync covered the append', async () => {
    const { spool, registry } = await openSpool(await tempDir(), { fsync: { policy: 'group', intervalMs: 50 } });
    const { durable } = spool.append([entry(1)]);
    assert.equal(spool.durableThrough, 0);
    await durable;
    assert.equal(spool.durableThrough, 1);
    const fsyncs = (await registry.getSingleMetric('gridgate_spool_fsync_seconds')?.get())?.values.find((v) => (v as { metricName?: string }).metricName === 'gridgate_spool_fsync_seconds_count');
    assert.ok((fsyncs?.value ?? 0) >= 1);
    await spool.close();
  });

  it('resumes after a restart exactly after the acknowledged prefix, with ids continuing', async () => {
    const dir = await tempDir();
    const first = await openSpool(dir);
    await first.spool.append(range(1, 50).map((n) => entry(n))).durable;
    const read = await first.spool.read(50);
    for (const r of read.slice(0, 20)) first.spool.ack(r.id);
    await first.spool.close();

    const second = await openSpool(dir);
    assert.equal(second.spool.ackedThrough, 20);
    assert.deepEqual((await second.spool.read(100)).map((r) => r.id), range(21, 50));
    const { firstId } = second.spool.append([entry(51)]);
    assert.equal(firstId, 51, 'ids never restart');
    await second.spool.close();
  });

  it('advances over the acknowledged prefix only, whatever order acknowledgements come in', async () => {
    const dir = await tempDir();
    const a = await openSpool(dir);
    await a.spool.append(range(1, 10).map((n) => entry(n))).durable;
    await a.spool.read(10);
    for (const id of [3, 1, 5, 2]) a.spool.ack(id);
    assert.equal(a.spool.ackedThrough, 3);
    await a.spool.close();
    const b = await openSpool(dir);
    // 5 was acknowledged above the prefix: only the prefix is persisted, so it comes back.
    assert.deepEqual((await b.spool.read(10)).map((r) => r.id), range(4, 10));
    await b.spool.close();
  });

  it('rolls segments at segmentMaxBytes and deletes a segment only once all of it is acknowledged and persisted', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir, { segmentMaxBytes: 64 * 1024 });
    await spool.append(range(1, 1000).map((n) => entry(n))).durable; // ~270 KB → 5 segments
    const segments = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
    const before = await segments();
    assert.ok(before.length >= 4, `${before.length} segments`);
    for (const f of before) assert.ok((await stat(`${dir}/${f}`)).size <= 64 * 1024);
    const records = await spool.read(1000);
    for (const r of records.slice(0, 500)) spool.ack(r.id);
    await spool.close(); // persists the ledger and releases covered segments
    const after = await segments();
    assert.ok(after.length < before.length && after.length >= 2, `${before.length} → ${after.length}`);
    const reopened = await openSpool(dir);
    assert.deepEqual((await reopened.spool.read(1000)).map((r) => r.id), range(501, 1000));
    await reopened.spool.close();
  });

  it('keeps reading in order while the segments it has read are released underneath it', async () => {
    const { spool } = await openSpool(await tempDir(), { segmentMaxBytes: 16 * 1024 });
    const got: number[] = [];
    for (let round = 0; round < 6; round++) {
      await spool.append(range(round * 100 + 1, round * 100 + 100).map((n) => entry(n))).durable;
      for (const r of await spool.read(1000)) {
        got.push(r.id);
        spool.ack(r.id);
      }
      if (round % 2 === 1) await new Promise((r) => setTimeout(r, 1100)); // an upkeep round releases segments
    }
    assert.deepEqual(got, range(1, 600));
    assert.ok(spool.segmentCount() <= 3, `${spool.segmentCount()} segments left`);
    await spool.close();
  });

  it('counts an acknowledgement once, however often it is repeated', async () => {
    const { spool, registry } = await openSpool(await tempDir());
    await spool.append(range(1, 5).map((n) => entry(n))).durable;
    await spool.read(5);
    for (const id of [3, 3, 1, 1, 3]) spool.ack(id);
    assert.equal(await metricValue(registry, 'gridgate_spool_acknowledged_records_total'), 2);
    assert.equal(spool.ackedThrough, 1);
    await spool.close();
  });

  it('hands back records not yet acknowledged again after a rewind', async () => {
    const { spool } = await openSpool(await tempDir());
    await spool.append(range(1, 10).map((n) => entry(n))).durable;
    await spool.read(10);
    spool.ack(1);
    spool.ack(2);
    spool.ack(4);
    spool.rewind();
    assert.deepEqual((await spool.read(10)).map((r) => r.id), [3, 5, 6, 7, 8, 9, 10]);
    await spool.close();
  });

  it('reads only durable records when asked (WAL mode sends nothing a crash could take back)', async () => {
    const { spool } = await openSpool(await tempDir(), { fsync: { policy: 'group', intervalMs: 200 } });
    const { durable } = spool.append([entry(1), entry(2)]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20)); // written, not yet synced
    assert.deepEqual(await spool.read(10, { durableOnly: true }), []);
    await durable;
    assert.deepEqual((await spool.read(10, { durableOnly: true })).map((r) => r.id), [1, 2]);
    await spool.close();
  });

  it('serves appends that arrive while it reads, with batch and never fsync policies too', async () => {
    for (const policy of ['batch', 'never'] as const) {
      const { spool } = await openSpool(await tempDir(), { fsync: { policy, intervalMs: 10 } });
      const got: number[] = [];
      for (let batch = 0; batch < 20; batch++) {
        await spool.append(range(batch * 50 + 1, batch * 50 + 50).map((n) => entry(n))).durable;
        for (const r of await spool.read(37)) got.push(entryNumber(r.entry));
      }
      for (const r of await spool.read(10_000)) got.push(entryNumber(r.entry));
      assert.deepEqual(got, range(1, 1000), policy);
      await spool.close();
    }
  });

  it('refuses a second process on the same directory, and takes over a lock left by a dead one', async () => {
    const dir = await tempDir();
    const { spool } = await openSpool(dir);
    await assert.rejects(openSpool(dir), (err: Error & { code?: string }) => err.code === 'GW_ERR_SPOOL_LOCKED');
    await spool.close();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/lock`, '999999999\n'); // a pid that does not exist
    const again = await openSpool(dir);
    await again.spool.close();
  });

  it('counts appends, payload and disk bytes, and reports write amplification near 1', async () => {
    const { spool, registry } = await openSpool(await tempDir());
    await spool.append(range(1, 1000).map((n) => entry(n))).durable;
    assert.equal(await metricValue(registry, 'gridgate_spool_appended_records_total'), 1000);
    const payload = await metricValue(registry, 'gridgate_spool_appended_bytes_total');
    const written = await metricValue(registry, 'gridgate_spool_written_bytes_total');
    assert.equal(written - payload, 16 * 1000, 'only the 16-byte headers on top of the payload');
    const amplification = await metricValue(registry, 'gridgate_spool_write_amplification');
    assert.ok(amplification > 1 && amplification < 1.1, String(amplification));
    assert.equal(await metricValue(registry, 'gridgate_spool_records'), 1000);
    assert.ok((await metricValue(registry, 'gridgate_spool_disk_free_bytes')) > 0);
    await spool.close();
  });
});
