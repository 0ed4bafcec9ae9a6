import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditTopic, type AuditedRecord } from '../../../../src/sinks/kafka/topic-audit.js';

let offset = 0;
const rec = (key: string, epoch: number, seq: number, partition = 0): AuditedRecord => ({
  partition,
  offset: offset++,
  key,
  value: Buffer.from(JSON.stringify({ site: 'north', source: 'pmu', stream: key, epoch, seq, eventTime: 1 })),
});

describe('auditing a topic against the delivery contract', () => {
  it('calls a complete, ordered stream clean', () => {
    const report = auditTopic([1, 2, 3, 4].map((s) => rec('a', 1, s)));
    assert.equal(report.clean, true);
    assert.deepEqual(report.streams[0], {
      key: 'a', records: 4, first: { epoch: 1, seq: 1 }, last: { epoch: 1, seq: 4 }, epochs: 1, lost: 0, lostAcrossRestarts: 0, duplicates: 0, outOfOrder: 0,
    });
  });

  it('counts a gap inside an epoch as loss', () => {
    const report = auditTopic([1, 2, 5, 6].map((s) => rec('a', 1, s)));
    assert.equal(report.streams[0]?.lost, 2);
    assert.equal(report.clean, false);
  });

  it('reports a gap across a restart apart, without calling it loss', () => {
    const report = auditTopic([rec('a', 1, 1), rec('a', 1, 2), rec('a', 2, 1025), rec('a', 2, 1026)]);
    assert.deepEqual([report.streams[0]?.lost, report.streams[0]?.lostAcrossRestarts, report.streams[0]?.epochs], [0, 1022, 2]);
    assert.equal(report.clean, true);
  });

  it('counts a repeated (epoch, seq) as a duplicate and a lower seq as out of order', () => {
    const report = auditTopic([rec('a', 1, 1), rec('a', 1, 2), rec('a', 1, 2), rec('a', 1, 4), rec('a', 1, 3)]);
    const a = report.streams[0];
    assert.deepEqual([a?.duplicates, a?.outOfOrder, a?.lost], [1, 1, 1]);
    assert.equal(report.clean, false);
  });

  it('keeps streams apart and counts records that are not gridgate records', () => {
    const report = auditTopic([rec('a', 1, 1), rec('b', 1, 7), rec('a', 1, 2), { partition: 0, offset: 99, key: 'x', value: Buffer.from('not json') }, { partition: 0, offset: 100, key: 'y', value: null }]);
    assert.deepEqual(report.streams.map((s) => [s.key, s.records]), [['a', 2], ['b', 1]]);
    assert.equal(report.unparseable, 2);
    assert.equal(report.records, 5);
    assert.equal(report.clean, false);
  });
});
