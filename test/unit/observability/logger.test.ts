import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Secret } from '../../../src/config/secret.js';
import { createLogger, stdoutIsJournal } from '../../../src/observability/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the logger', () => {
  it('writes JSON lines with level labels, ISO time, site and component', () => {
    const out = capture();
    const log = createLogger({ level: 'info' }, { site: 'north' }, out.stream);
    log.child({ component: 'kafka-sink' }).info({ n: 1 }, 'hello');
    log.debug('not written at info');
    const [line, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(line?.level, 'info');
    assert.equal(line?.site, 'north');
    assert.equal(line?.component, 'kafka-sink');
    assert.equal(line?.msg, 'hello');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('never writes a secret, whether wrapped or as a plain password field', () => {
    const out = capture();
    const log = createLogger({ level: 'info' }, { site: 'north' }, out.stream);
    log.info({ sasl: { password: 'plain-hunter2' }, 'sasl.password': 'dotted-hunter2', wrapped: new Secret('wrapped-hunter2') }, 'connecting');
    log.info({ config: { kafka: { security: { sasl: { password: new Secret('deep-hunter2') } } } } }, 'config');
    const text = JSON.stringify(out.lines());
    assert.doesNotMatch(text, /hunter2/);
    assert.match(text, /\[redacted\]/);
  });

  it('prefixes each line with its syslog priority only when stdout is the journal (JOURNAL_STREAM = its device:inode)', () => {
    let raw = '';
    const journal = new Writable({
      write(chunk, _enc, done) {
        raw += String(chunk);
        done();
      },
    });
    const log = createLogger({ level: 'debug' }, { site: 'north' }, journal, true);
    log.fatal('f');
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    const lines = raw.trim().split('\n');
    assert.deepEqual(lines.map((l) => /^<(\d)>\{/.exec(l)?.[1]), ['2', '3', '4', '6', '7']);
    assert.equal(JSON.parse(lines[1]!.slice(3)).msg, 'e', 'journald strips the prefix: the rest is the JSON line');
    const plain = capture();
    createLogger({ level: 'info' }, { site: 'north' }, plain.stream, false).info('i');
    assert.equal(plain.lines()[0]?.msg, 'i', 'no prefix outside the journal');
    // Not the journal: unset, or naming another stream than this process's stdout.
    assert.equal(stdoutIsJournal({}), false);
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: '1:1' }), false);
  });
});
