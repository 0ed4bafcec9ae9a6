import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { interpolateEnv } from '../../../src/config/interpolate.js';

describe('${ENV} interpolation', () => {
  it('replaces references anywhere in a string, in nested maps and lists, and records where', () => {
    const tree = { a: 'x-${A}-${B}', list: ['${A}', 'plain'], n: 5, nested: { 'we/ird~key': '${B}' } };
    const { interpolated, problems } = interpolateEnv(tree, { A: '1', B: '2' });
    assert.deepEqual(tree, { a: 'x-1-2', list: ['1', 'plain'], n: 5, nested: { 'we/ird~key': '2' } });
    assert.deepEqual([...interpolated].sort(), ['/a', '/list/0', '/nested/we~1ird~0key']);
    assert.deepEqual(problems, []);
  });

  it('writes a literal ${ for $${ and does not count it as a reference', () => {
    const tree = { a: 'cost $${X} and $5' };
    const { interpolated } = interpolateEnv(tree, {});
    assert.equal(tree.a, 'cost ${X} and $5');
    assert.equal(interpolated.size, 0);
  });

  it('reports unset, malformed and unterminated references by pointer', () => {
    const { problems } = interpolateEnv({ a: '${NOPE}', b: '${not valid}', c: 'x${OPEN' }, {});
    assert.deepEqual(problems, [
      { pointer: '/a', message: 'environment variable NOPE is not set' },
      { pointer: '/b', message: '"${not valid}" is not a valid environment variable reference' },
      { pointer: '/c', message: 'unterminated ${...} reference (write $${ for a literal ${)' },
    ]);
  });

  it('falls back to a ${VAR:-default} default when the variable is unset or empty, and does not count it as from the environment', () => {
    const tree = { a: '${STATE_DIRECTORY:-/var/lib/gridgate/x}/spool', b: '${E:-d}', c: '${SET:-d}' };
    const { interpolated, problems } = interpolateEnv(tree, { E: '', SET: 'v' });
    assert.deepEqual(tree, { a: '/var/lib/gridgate/x/spool', b: 'd', c: 'v' });
    assert.deepEqual([...interpolated], ['/c']);
    assert.deepEqual(problems, []);
  });

  it('treats a variable set to the empty string as set', () => {
    const tree = { a: '${EMPTY}' };
    assert.deepEqual(interpolateEnv(tree, { EMPTY: '' }).problems, []);
    assert.equal(tree.a, '');
  });

  it('reads ${credential:ID} from $CREDENTIALS_DIRECTORY/ID without its trailing newline, and counts it as a reference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-creds-'));
    writeFileSync(join(dir, 'kafka-password'), 's3cret\n');
    const tree = { password: '${credential:kafka-password}' };
    const { interpolated, problems } = interpolateEnv(tree, { CREDENTIALS_DIRECTORY: dir });
    assert.deepEqual(problems, []);
    assert.equal(tree.password, 's3cret');
    assert.deepEqual([...interpolated], ['/password']);
  });

  it('names the credential, never a value, when it cannot be had: no CREDENTIALS_DIRECTORY, no file, an empty file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-creds-'));
    writeFileSync(join(dir, 'empty'), '');
    assert.deepEqual(interpolateEnv({ a: '${credential:kafka-password}' }, {}).problems, [
      { pointer: '/a', message: 'credential kafka-password: CREDENTIALS_DIRECTORY is not set (the unit needs LoadCredential=kafka-password:FILE)' },
    ]);
    const { problems } = interpolateEnv({ a: '${credential:missing}', b: '${credential:empty}' }, { CREDENTIALS_DIRECTORY: dir });
    assert.deepEqual(problems, [
      { pointer: '/a', message: `credential missing: cannot read ${join(dir, 'missing')} (ENOENT)` },
      { pointer: '/b', message: 'credential empty is empty (is its file under /etc/gridgate/credentials/ missing?)' },
    ]);
  });
});
