import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The CLI as an operator meets it, run from source through tsx.

function gridgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the gridgate command line', () => {
  it('prints the package version with --version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.deepEqual(gridgate('--version'), { status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('lists its commands with --help, and a command explains itself with --help', () => {
    const help = gridgate('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /run --config FILE/);
    assert.match(help.stdout, /check-config FILE/);
    const own = gridgate('check-config', '--help');
    assert.equal(own.status, 0);
    assert.match(own.stdout, /^Usage: gridgate check-config FILE/);
  });

  it('exits 64 with usage on an unknown command, a missing argument or an unknown flag', () => {
    assert.equal(gridgate().status, 64);
    const unknown = gridgate('frobnicate');
    assert.equal(unknown.status, 64);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.match(gridgate('run').stderr, /--config FILE is required/);
    assert.equal(gridgate('run', '--config', 'x', '--bogus').status, 64);
    assert.equal(gridgate('check-config').status, 64);
  });

  it('check-config exits 0 on the example and says which site it is', () => {
    assert.deepEqual(gridgate('check-config', 'config/example-site.yaml'), {
      status: 0,
      stdout: 'config/example-site.yaml: ok (site north-substation)\n',
      stderr: '',
    });
  });

  it('check-config exits 1 on an unknown key or broken YAML, naming file:line:column and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-cli-'));
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'site: north\nkafka:\n  brokers: [127.0.0.1:9092]\n  lingerms: 5\n');
    const r1 = gridgate('check-config', unknown);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, new RegExp(`^${unknown}:4:3 kafka\\.lingerms: unknown key "lingerms" \\(did you mean "lingerMs"\\?\\)`, 'm'));
    assert.match(r1.stderr, /: 1 problem \[GW_ERR_CONFIG_INVALID\]$/m);
    assert.equal(r1.stdout, '');

    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'site: north\nkafka:\n  brokers: [127.0.0.1:9092\n  lingerMs: 5\n');
    const r2 = gridgate('check-config', broken);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, new RegExp(`^${broken}:4:3 kafka\\.brokers\\[0\\]: Flow sequence .* end with a \\]$`, 'm'));
  });

  it('check-config exits 1 on a missing file', () => {
    const r = gridgate('check-config', 'nope.yaml');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^nope\.yaml: cannot read config file: ENOENT$/m);
  });
});
