import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Spool } from '../../../src/buffer/spool.js';
import { entry, openSpool, tempDir } from '../../helpers/spool.js';

// Model-based test: random sequences of append / read / ack / rewind / reopen against a plain
// in-memory model of what the spool promises. The model:
// - appended: every id appended, in order (ids are 1, 2, 3, …)
// - prefix: the acknowledged prefix; acked: acknowledgements above it
// - cursor: the last id handed out by read since open or rewind
// A reopen (clean close, open) persists the prefix only: acknowledgements above it come back.

interface Model {
  appended: number;
  prefix: number;
  acked: Set<number>;
  cursor: number;
  delivered: number[]; // ids handed out and not yet acknowledged, for Ack to pick from
}

interface Real {
  dir: string;
  spool: Spool;
}

const advance = (m: Model): void => {
  while (m.acked.delete(m.prefix + 1)) m.prefix++;
};

class Append implements fc.AsyncCommand<Model, Real> {
  constructor(readonly n: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const receipt = r.spool.append(Array.from({ length: this.n }, (_, i) => entry(m.appended + i + 1, 50 + ((m.appended + i) % 300))));
    assert.deepEqual([receipt.firstId, receipt.lastId], [m.appended + 1, m.appended + this.n]);
    await receipt.durable;
    m.appended += this.n;
  }
  toString = (): string => `Append(${this.n})`;
}

class Read implements fc.AsyncCommand<Model, Real> {
  constructor(readonly max: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const expected: number[] = [];
    for (let id = m.cursor + 1; id <= m.appended && expected.length < this.max; id++) {
      if (id > m.prefix && !m.acked.has(id)) expected.push(id);
    }
    const got = await r.spool.read(this.max);
    assert.deepEqual(got.map((x) => x.id), expected);
    for (const x of got) assert.deepEqual(x.entry, entry(x.id, 50 + ((x.id - 1) % 300)));
    if (expected.length > 0) m.cursor = expected[expected.length - 1] as number;
    else m.cursor = Math.max(m.cursor, m.appended);
    m.delivered.push(...expected);
  }
  toString = (): string => `Read(${this.max})`;
}

class Ack implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.delivered.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const [id] = m.delivered.splice(this.pick % m.delivered.length, 1) as [number];
    r.spool.ack(id);
    if (id > m.prefix) m.acked.add(id);
    advance(m);
    assert.equal(r.spool.ackedThrough, m.prefix);
  }
  toString = (): string => `Ack(#${this.pick})`;
}

class Rewind implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    r.spool.rewind();
    m.cursor = m.prefix;
    m.delivered = [];
  }
  toString = (): string => 'Rewind';
}

class Reopen implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.spool.close();
    r.spool = (await openSpool(r.dir, { segmentMaxBytes: 4096 })).spool;
    m.acked.clear();
    m.cursor = m.prefix;
    m.delivered = [];
    assert.equal(r.spool.ackedThrough, m.prefix);
    assert.equal(r.spool.stats().nextId, m.appended + 1);
  }
  toString = (): string => 'Reopen';
}

describe('the spool against its model', () => {
  it('agrees with the model on any sequence of append, read, ack, rewind and reopen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(
          [
            fc.integer({ min: 1, max: 40 }).map((n) => new Append(n)),
            fc.integer({ min: 1, max: 30 }).map((n) => new Read(n)),
            fc.nat().map((n) => new Ack(n)),
            fc.constant(new Rewind()),
            fc.constant(new Reopen()),
          ],
          { maxCommands: 60 },
        ),
        async (commands) => {
          const dir = await tempDir();
          const real: Real = { dir, spool: (await openSpool(dir, { segmentMaxBytes: 4096 })).spool };
          const model: Model = { appended: 0, prefix: 0, acked: new Set(), cursor: 0, delivered: [] };
          try {
            await fc.asyncModelRun(() => ({ model, real }), commands);
          } finally {
            await real.spool.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
