import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Component, Deadline, Readiness } from '../../../src/daemon/component.js';
import { Daemon } from '../../../src/daemon/daemon.js';

const silent = pino({ level: 'silent' });

class Probe implements Component {
  constructor(
    readonly name: string,
    private readonly events: string[],
    private readonly behaviour: { failStart?: boolean; stopMs?: number; failStop?: boolean } = {},
  ) {}
  async start(): Promise<void> {
    this.events.push(`start ${this.name}`);
    if (this.behaviour.failStart) throw new Error(`${this.name} cannot start`);
  }
  async stop(deadline: Deadline): Promise<void> {
    this.events.push(`stop ${this.name}`);
    if (this.behaviour.stopMs) await new Promise((r) => setTimeout(r, this.behaviour.stopMs).unref());
    if (this.behaviour.failStop) throw new Error('stop failed');
    assert.ok(deadline.remainingMs() >= 0);
  }
  readiness(): Readiness {
    return { ready: true };
  }
}

describe('the daemon lifecycle', () => {
  it('starts components in order and stops them in reverse', async () => {
    const events: string[] = [];
    const daemon = new Daemon([new Probe('http', events), new Probe('sink', events), new Probe('source', events)], silent, 1000);
    await daemon.start();
    assert.deepEqual(await daemon.stop(), { clean: true, failed: [] });
    assert.deepEqual(events, ['start http', 'start sink', 'start source', 'stop source', 'stop sink', 'stop http']);
  });

  it('rolls back what started when a component fails to start', async () => {
    const events: string[] = [];
    const daemon = new Daemon([new Probe('http', events), new Probe('sink', events, { failStart: true }), new Probe('source', events)], silent, 1000);
    await assert.rejects(daemon.start(), /sink cannot start/);
    assert.deepEqual(events, ['start http', 'start sink', 'stop http']);
  });

  it('gives up on a component that overruns the drain budget and still stops the rest', async () => {
    const events: string[] = [];
    const daemon = new Daemon([new Probe('http', events), new Probe('slow', events, { stopMs: 5000 })], silent, 200);
    await daemon.start();
    const began = Date.now();
    const result = await daemon.stop();
    assert.ok(Date.now() - began < 1000, 'bounded by the budget');
    assert.deepEqual(result, { clean: false, failed: ['slow'] });
    assert.deepEqual(events.slice(-2), ['stop slow', 'stop http']);
  });

  it('reports a component that throws while stopping, and stops the others', async () => {
    const events: string[] = [];
    const daemon = new Daemon([new Probe('http', events), new Probe('bad', events, { failStop: true })], silent, 1000);
    await daemon.start();
    assert.deepEqual(await daemon.stop(), { clean: false, failed: ['bad'] });
    assert.deepEqual(events.slice(-2), ['stop bad', 'stop http']);
  });

  it('stops once however often it is asked, and reports readiness per component', async () => {
    const events: string[] = [];
    const daemon = new Daemon([new Probe('http', events)], silent, 1000);
    assert.deepEqual(daemon.readiness(), { http: { ready: false, detail: 'not started' } });
    await daemon.start();
    assert.deepEqual(daemon.readiness(), { http: { ready: true } });
    const [a, b] = await Promise.all([daemon.stop(), daemon.stop()]);
    assert.equal(a, b);
    assert.equal(events.filter((e) => e.startsWith('stop')).length, 1);
    assert.deepEqual(daemon.readiness(), { http: { ready: false, detail: 'stopped' } });
  });

  it('replaces a component in place for a reload: the old one stops, the new one starts and stops in its place at shutdown', async () => {
    const events: string[] = [];
    const [http, sink, a, b] = ['http', 'sink', 'source-a', 'source-b'].map((n) => new Probe(n, events));
    const daemon = new Daemon([http!, sink!, a!, b!], silent, 1000);
    await daemon.start();
    const a2 = new Probe('source-a', events);
    await daemon.replace(a, a2);
    await daemon.replace(undefined, new Probe('source-c', events));
    await daemon.replace(b, undefined);
    assert.deepEqual(Object.keys(daemon.readiness()), ['http', 'sink', 'source-a', 'source-c']);
    events.length = 0;
    await daemon.stop();
    assert.deepEqual(events, ['stop source-c', 'stop source-a', 'stop sink', 'stop http']);
  });

  it('leaves out a replacement that fails to start, and refuses replacements once stopping', async () => {
    const events: string[] = [];
    const a = new Probe('source-a', events);
    const daemon = new Daemon([new Probe('sink', events), a], silent, 1000);
    await daemon.start();
    await assert.rejects(daemon.replace(a, new Probe('source-a', events, { failStart: true })), /cannot start/);
    assert.deepEqual(Object.keys(daemon.readiness()), ['sink']);
    await daemon.stop();
    await assert.rejects(daemon.replace(undefined, new Probe('late', events)), /stopping/);
  });
});
