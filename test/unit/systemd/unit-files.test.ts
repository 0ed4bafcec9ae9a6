import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { devicesDropin } from '../../../src/cli/systemd-dropin.js';

// The unit, sysusers.d and tmpfiles.d files, checked by systemd's own tools against a root
// directory laid out as the bundle installs (systemd-analyze reads units, and checks that
// ExecStart= binaries exist, under --root). systemd-analyze verify exits 0 even on warnings, so
// any output at all fails.

const UNIT = 'systemd/gridgate@.service';

const site = (sources: string): string => `site: north
kafka: { brokers: ["127.0.0.1:9092"] }
spool: { dir: /var/lib/gridgate/north/spool }
state: { dir: /var/lib/gridgate/north }
sources:${sources}
`;
const RTU = `
  - name: meters
    type: modbus
    transport: rtu
    serial: { path: /dev/ttyUSB0, baudRate: 19200 }
    devices:
      - { name: m1, unitId: 1, tags: [{ name: v, area: holding-register, address: 0, type: uint16 }] }`;
const PMU = `
  - { name: pmu-a, type: c37118, address: "10.0.0.5:4712", idcode: 1 }`;

const exposureOf = (output: string): number => Number(/Overall exposure level for gridgate@north\.service: (\d+\.\d+)/.exec(output)?.[1]);

function run(command: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('systemd unit files', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gridgate-unit-root-'));
    // The targets and units ours refers to come from the host; the binaries from the install layout.
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    cpSync(UNIT, join(root, 'usr/lib/systemd/system/gridgate@.service'));
    for (const kind of ['sysusers.d', 'tmpfiles.d']) {
      mkdirSync(join(root, 'usr/lib', kind), { recursive: true });
      cpSync(`systemd/${kind}/gridgate.conf`, join(root, 'usr/lib', kind, 'gridgate.conf'));
    }
    mkdirSync(join(root, 'usr/lib/gridgate/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/lib/gridgate/bin/gridgate'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/lib/gridgate/bin/gridgate'), 0o755);
    mkdirSync(join(root, 'etc'), { recursive: true });
  });

  it('passes systemd-analyze verify without a single warning', () => {
    const r = run('systemd-analyze', ['verify', `--root=${root}`, 'gridgate@north.service']);
    assert.equal(r.output, '');
    assert.equal(r.status, 0);
  });

  it('scores an exposure of 2.0 or lower in systemd-analyze security --offline', () => {
    const r = run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, 'gridgate@north.service']);
    const exposure = exposureOf(r.output);
    process.stdout.write(`# exposure ${exposure}\n`);
    assert.ok(exposure <= 2.0, `exposure ${exposure}:\n${r.output}`);
  });

  it('narrows device access to the configured serial ports with `gridgate systemd-dropin`, and takes it away for a site without any', () => {
    const dropinDir = join(root, 'etc/systemd/system/gridgate@north.service.d');
    mkdirSync(dropinDir, { recursive: true });
    const withDropin = (text: string): { verify: string; exposure: number } => {
      writeFileSync(join(dropinDir, 'devices.conf'), text);
      const verify = run('systemd-analyze', ['verify', `--root=${root}`, 'gridgate@north.service']).output;
      const exposure = exposureOf(run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, 'gridgate@north.service']).output);
      return { verify, exposure };
    };
    try {
      const rtu = devicesDropin(parseConfig(site(RTU + PMU), 'north.yaml', {}), 'north.yaml');
      assert.match(rtu, /^DeviceAllow=\nDeviceAllow=\/dev\/ttyUSB0 rw$/m);
      const serial = withDropin(rtu);
      assert.equal(serial.verify, '');
      const tcpOnly = devicesDropin(parseConfig(site(PMU), 'north.yaml', {}), 'north.yaml');
      assert.match(tcpOnly, /^SupplementaryGroups=\nPrivateDevices=yes$/m);
      const none = withDropin(tcpOnly);
      assert.equal(none.verify, '');
      process.stdout.write(`# exposure with the drop-in: serial site ${serial.exposure}, TCP-only site ${none.exposure}\n`);
      assert.ok(serial.exposure <= 2.0 && none.exposure < serial.exposure, `${serial.exposure}, ${none.exposure}`);
    } finally {
      rmSync(dropinDir, { recursive: true, force: true });
    }
  });

  it('keeps what the notes say breaks Node out, and what they say Node needs in', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const keys = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
    assert.deepEqual(keys('MemoryDenyWriteExecute'), []);
    assert.deepEqual(keys('ProcSubset'), []);
    assert.deepEqual(keys('SystemCallErrorNumber'), ['EPERM']);
    assert.ok(keys('RestrictAddressFamilies')[0]!.split(' ').includes('AF_NETLINK'));
    assert.deepEqual(keys('RestartPreventExitStatus'), ['78']);
    // RestartPreventExitStatus= sees only the main process: a failing ExecStartPre would restart-loop.
    assert.match(keys('ExecStartPre')[0]!, /^-\/usr\/lib\/gridgate\/bin\/gridgate check-config /);
    assert.match(keys('ExecReload')[0]!, /^\/usr\/lib\/gridgate\/bin\/gridgate reload --config \S+ --pid \$MAINPID$/);
    assert.deepEqual([keys('Type'), keys('NotifyAccess')], [['notify'], ['main']]);
    // TimeoutStopSec must cover the daemon's drain (shutdown.drainTimeoutMs, 10 s by default).
    assert.ok(Number(/^(\d+)s$/.exec(keys('TimeoutStopSec')[0]!)?.[1]) > 10);
  });

  it('creates the service user (in dialout) and the config and state directories with their modes', () => {
    const users = run('systemd-sysusers', [`--root=${root}`, 'gridgate.conf']);
    assert.equal(users.status, 0, users.output);
    assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^gridgate:x:\d+:\d+:gridgate substation gateway:\/var\/lib\/gridgate:\/usr\/sbin\/nologin$/m);
    assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^dialout:x:\d+:gridgate$/m);
    const dirs = run('systemd-tmpfiles', [`--root=${root}`, '--create', 'gridgate.conf']);
    assert.equal(dirs.status, 0, dirs.output);
    const mode = (path: string): string => (statSync(join(root, path)).mode & 0o777).toString(8);
    assert.deepEqual(
      ['etc/gridgate', 'etc/gridgate/sites', 'etc/gridgate/credentials', 'var/lib/gridgate'].map(mode),
      ['750', '750', '700', '750'],
    );
  });
});
