import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../../src/errors.js';
import { entry, metricValue, openSpool, range, tempDir } from '../../helpers/spool.js';

// The bound is 2 segments at least; with 64 KiB segments and maxBytes 128 KiB that is ~470 records.
const small = { segmentMaxBytes: 64 * 1024, maxBytes: 128 * 1024 };

async function appendUntilFull(spool: import('../../../src/buffer/spool.js').Spool, start: number): Promise<number> {
  let n = start;
  for (;;) {
    try {
      await spool.append([entry(n)]).durable;
      n++;
    } catch (err) {
      assert.ok(err instanceof GatewayError && err.code === 'GW_ERR_SPOOL_FULL', String(err));
      return n;
    }
  }
}

describe('spool bounds', () => {
  it('whenFull=block refuses an append whole at the bound, says so once (log, gridgate_spool_full), then takes more once acknowledgements free a segment', async () => {
    const { spool, registry, logs } = await openSpool(await tempDir(), { ...small, whenFull: 'block' });
    assert.equal(await metricValue(registry, 'gridgate_spool_max_bytes'), small.maxBytes);
    const refused = await appendUntilFull(spool, 1);
    assert.equal(await appendUntilFull(spool, refused), refused, 'refused again');
    assert.equal(await metricValue(registry, 'gridgate_spool_full'), 1);
    assert.equal(logs.filter((l) => l.msg === 'spool full: appends refused until Kafka acknowledges records (sources are held back)').length, 1, 'logged once per episode');
    assert.ok(refused > 400 && refused < 500, `refused at ${refused}`);
    assert.equal(spool.stats().nextId, refused, 'a refused append assigns no id');
    assert.equal(spool.hasRoomFor(300), false);
    const room = spool.waitForRoom(300);
    for (const r of await spool.read(250)) spool.ack(r.id);
    await room; // the upkeep persists the ledger and deletes the first segment
    assert.equal(spool.hasRoomFor(300), true);
    const { firstId } = spool.append([entry(refused)]);
    assert.equal(firstId, refused);
    assert.equal(await metricValue(registry, 'gridgate_spool_full'), 0);
    assert.ok(logs.some((l) => l.msg === 'spool has room again: appends accepted'));
    await spool.close();
  });

  it('whenFull=drop_oldest drops the oldest segment, counts the loss and logs it at ERROR', async () => {
    const { spool, registry, logs } = await openSpool(await tempDir(), { ...small, whenFull: 'drop_oldest' });
    for (let n = 1; n <= 1000; n++) await spool.append([entry(n)]).durable;
    const dropped = await metricValue(registry, 'gridgate_spool_dropped_records_total', { reason: 'full' });
    assert.ok(dropped > 400, `dropped ${dropped}`);
    assert.ok(spool.heldBytes() <= small.maxBytes);
    const loss = logs.find((l) => l.msg === 'spool dropped unacknowledged records (data loss)');
    assert.equal(loss?.level, 50);
    const ids = (await spool.read(2000)).map((r) => r.id);
    assert.equal(ids[ids.length - 1], 1000, 'the newest records are kept');
    assert.deepEqual(ids, range(ids[0] as number, 1000), 'what is kept is contiguous and in order');
    assert.equal(ids.length + dropped, 1000, 'every record is either held or counted as dropped');
    await spool.close();
  });

  it('drops segments older than maxAgeHours by record timestamp, counted with reason age', async () => {
    let now = 1_700_000_000_000;
    const { spool, registry } = await openSpool(await tempDir(), { segmentMaxBytes: 64 * 1024, maxAgeHours: 1 }, () => now);
    await spool.append(range(1, 600).map((n) => entry(n))).durable; // timestamps ≈ 1_700_000_000_000
    now += 2 * 3_600_000;
    await spool.append([{ ...entry(601), timestampMs: now }]).durable;
    await new Promise((r) => setTimeout(r, 1300)); // one upkeep round
    const dropped = await metricValue(registry, 'gridgate_spool_dropped_records_total', { reason: 'age' });
    assert.ok(dropped >= 200, `dropped ${dropped}`);
    const ids = (await spool.read(1000)).map((r) => r.id);
    assert.equal(ids.length + dropped, 601);
    assert.equal(ids[ids.length - 1], 601);
    await spool.close();
  });

  it('sizes capacity from what it appends plus what went to Kafka directly (observeIngest)', async () => {
    const { spool, registry } = await openSpool(await tempDir(), { maxBytes: 3_600_000_000 });
    spool.observeIngest(1_000_000); // spill mode: records that never touched the disk still count
    await new Promise((r) => setTimeout(r, 1100)); // one upkeep tick
    assert.equal(await metricValue(registry, 'gridgate_spool_ingest_bytes_per_second'), 1_000_000);
    assert.equal(await metricValue(registry, 'gridgate_spool_capacity_seconds'), 3600);
    await spool.close();
  });

  it('reports the age of the oldest unacknowledged record and how many hours it can hold', async () => {
    let now = 1_700_000_000_000;
    const { spool, registry } = await openSpool(await tempDir(), { capacityHours: 4 }, () => now);
    await spool.append([{ ...entry(1), timestampMs: now - 5000 }]).durable;
    now += 1000;
    assert.equal(await metricValue(registry, 'gridgate_spool_oldest_record_age_seconds'), 6);
    for (const r of await spool.read(1)) spool.ack(r.id);
    assert.equal(await metricValue(registry, 'gridgate_spool_oldest_record_age_seconds'), 0);
    await spool.close();
  });
});
