import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { INSTALLED_NODE_FLAGS } from '../../scripts/substation/node-flags.js';

// The launcher's Node flags (scripts/bundle/gridgate.sh): a flag this Node does not know would stop
// the installed service from starting at all, so every one is tried on the Node running the tests.

describe('the installed command’s Node flags', () => {
  it('are read from the launcher and accepted by Node', () => {
    assert.ok(INSTALLED_NODE_FLAGS.includes('--heap-growing-percent=200'), JSON.stringify(INSTALLED_NODE_FLAGS));
    const node = spawnSync(process.execPath, [...INSTALLED_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    assert.equal(node.status, 0, node.stderr);
    assert.equal(node.stdout, 'ok');
  });

  it('a flag Node does not know makes it refuse to start (what the test above guards against)', () => {
    const node = spawnSync(process.execPath, ['--heap-growing-procent=100', '-e', '0'], { encoding: 'utf8' });
    assert.notEqual(node.status, 0);
  });
});
