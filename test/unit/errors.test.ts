import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, GatewayError, codeOf } from '../../src/errors.js';

describe('the error catalogue', () => {
  const docs = readFileSync('docs/errors.md', 'utf8');
  const documented = new Set([...docs.matchAll(/^\| `(GW_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]));

  it('documents every code in docs/errors.md', () => {
    for (const code of Object.keys(ERROR_CODES)) assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  });

  it('documents no code that does not exist', () => {
    for (const code of documented) assert.ok(code && code in ERROR_CODES, `docs/errors.md lists unknown ${code}`);
  });

  it('keeps the code and the cause of an error', () => {
    const cause = new Error('root');
    const err = new GatewayError('GW_ERR_KAFKA_CONNECT', 'no broker', { cause });
    assert.equal(err.code, 'GW_ERR_KAFKA_CONNECT');
    assert.equal(err.cause, cause);
    assert.equal(codeOf(err), 'GW_ERR_KAFKA_CONNECT');
    assert.equal(codeOf(new TypeError('x')), 'GW_ERR_INTERNAL');
  });
});
