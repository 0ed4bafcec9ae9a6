import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Analytics } from '../../../../src/pipeline/analytics/analytics.js';
import { nowUs, type SourceRecord } from '../../../../src/pipeline/record.js';
import { scadaValueRecord } from '../../../../src/protocols/modbus/records.js';
import { analyticsConfig } from '../../../helpers/analytics.js';

// SCADA values (Modbus scada-value records) in the analytics, for a source that opts in: one
// stream per tag, channel `value`, windowed as the values arrive; no reporting grid, no stale flag.

const fields = { device: 'feeder', tag: 'v', unitId: 1, area: 'holding-register', address: 0, functionCode: 3, type: 'float32', unit: 'V' };

describe('SCADA values in the analytics', () => {
  it('windows the values of each tag as they arrive, from sources that opt in only', async () => {
    const delivered: SourceRecord[] = [];
    const analytics = new Analytics({
      config: analyticsConfig({ mode: 'main-thread', windows: [{ sizeMs: 1000 }] }),
      site: 'north',
      sources: new Map([['meters', {}]]),
      deliver: (_source, rs) => delivered.push(...rs),
      onRoom: () => {},
      log: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    analytics.start();
    const t0 = Math.floor(nowUs() / 1e6) * 1e6 - 10e6;
    const values = [230, 231, 229.5, true, 'text', null];
    values.forEach((value, i) => {
      const t = t0 + i * 150_000;
      analytics.observe('meters', scadaValueRecord(fields, value as number, [], { sentUs: t, receivedUs: t + 1000 }, 0, undefined));
      analytics.observe('other', scadaValueRecord({ ...fields, tag: 'x' }, 1, [], { sentUs: t, receivedUs: t + 1000 }, 0, undefined));
    });
    analytics.observe('meters', scadaValueRecord(fields, 232, [], { sentUs: t0 + 2e6, receivedUs: t0 + 2e6 + 1000 }, 0, undefined));
    await analytics.stop();
    const windows = delivered.filter((r) => r.kind === 'feature-window').map((r) => ({ stream: r.stream, body: JSON.parse(r.encodedBody as string) }));
    assert.ok(windows.length >= 1 && windows.every((w) => w.stream === 'feeder/v'), 'only the opted-in source');
    const first = windows[0]!.body;
    assert.equal(first.channels.value.unit, 'V');
    // 230, 231, 229.5 and true (1); the string and the failed read are not numbers.
    assert.equal(first.channels.value.count, 4);
    assert.equal(first.channels.value.max, 231);
    assert.equal(first.expected, 0, 'no reporting grid');
    assert.deepEqual(delivered.filter((r) => r.kind === 'anomaly').map((r) => r.encodedBody), [], 'no stale flag for a tag that publishes on change');
  });
});
