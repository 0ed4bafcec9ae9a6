import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBundleBuilt, DEB, INSTALL_SH, installFresh, NODE_VERSION, run, STAGE, TARBALL, VERSION } from './bundle-files.js';

// The offline install of issue #10, as an operator gets it: the tarball through scripts/install.sh
// into a fresh root (--root), then the installed gridgate run with no network; and the packaging
// itself: reproducible bytes, a sane .deb, checksums that catch a changed file.

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const groupId = (root: string, name: string): number =>
  Number(readFileSync(join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))?.split(':')[2]);
/** Runs a command in a new network namespace: no interface is up, not even loopback. */
const offline = (command: string, args: string[], cwd?: string) => run('unshare', ['--net', command, ...args], cwd ? { cwd } : {});

describe('the bundle installed with install.sh --root', () => {
  let root = '';
  before(async () => {
    assertBundleBuilt();
    root = await installFresh();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('puts the runtime, the app, the command, the systemd files, the gridgate user and /etc/gridgate/sites/ into a fresh root', () => {
    const lib = join(root, 'usr/lib/gridgate');
    assert.equal(readlinkSync(join(root, 'usr/bin/gridgate')), '../lib/gridgate/bin/gridgate');
    assert.deepEqual(readdirSync(join(lib, 'node')).sort(), ['LICENSE', 'bin'], 'the runtime without headers, npm or corepack');
    assert.deepEqual(readdirSync(join(lib, 'node/bin')), ['node']);
    const app = join(lib, 'app');
    assert.deepEqual(readdirSync(app).sort(), ['dist', 'node_modules', 'package-lock.json', 'package.json', 'schemas']);
    assert.deepEqual(readdirSync(join(app, 'dist')), ['src'], 'no tests, benchmarks or scripts');
    assert.ok(existsSync(join(app, 'dist/src/main.js')));
    assert.ok(!readdirSync(join(app, 'dist'), { recursive: true }).some((f) => String(f).endsWith('.map')), 'no source maps');
    assert.ok(!existsSync(join(app, 'node_modules/node-rdkafka/deps')), 'no librdkafka sources or objects');

    const units = readdirSync('systemd').filter((f) => f.endsWith('.service')).sort();
    assert.ok(units.length > 0);
    assert.deepEqual(readdirSync(join(root, 'usr/lib/systemd/system')).sort(), units);
    for (const kind of ['sysusers.d', 'tmpfiles.d']) {
      assert.equal(readFileSync(join(root, 'usr/lib', kind, 'gridgate.conf'), 'utf8'), readFileSync(join('systemd', kind, 'gridgate.conf'), 'utf8'));
    }
    assert.equal(readFileSync(join(root, 'usr/share/gridgate/examples/site.yaml'), 'utf8'), readFileSync('config/example-site.yaml', 'utf8'));
    assert.ok(existsSync(join(root, 'usr/share/doc/gridgate/README.md')));

    assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^gridgate:x:\d+:\d+:/m, 'systemd-sysusers made the user');
    const sites = statSync(join(root, 'etc/gridgate/sites'));
    assert.equal(sites.mode & 0o777, 0o750);
    assert.equal(sites.gid, groupId(root, 'gridgate'));
    assert.equal(readFileSync(join(root, 'etc/gridgate/sites/example.yaml.sample'), 'utf8'), readFileSync('config/example-site.yaml', 'utf8'));
  });

  it('runs the installed gridgate on the bundled Node with no network: --version, and check-config passes the shipped example', (t) => {
    const interfaces = offline(join(root, 'usr/lib/gridgate/node/bin/node'), ['-p', 'JSON.stringify(require("os").networkInterfaces())']);
    assert.equal(interfaces.stdout.trim(), '{}', `no interface with an address: ${interfaces.stderr}`);

    const node = offline(join(root, 'usr/lib/gridgate/node/bin/node'), ['-p', 'process.version']);
    assert.equal(node.stdout.trim(), `v${NODE_VERSION}`, node.stderr);
    assert.match(node.stdout, /^v(24|22)\./, 'a supported LTS, not Node 20');
    t.diagnostic(`bundled runtime ${node.stdout.trim()}; this test runs on ${process.version}`);

    const gridgate = join(root, 'usr/bin/gridgate');
    const version = offline(gridgate, ['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    for (const config of ['usr/share/gridgate/examples/site.yaml', 'etc/gridgate/sites/example.yaml.sample']) {
      const check = offline(gridgate, ['check-config', join(root, config)]);
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /: ok \(site north-substation\)/);
    }
  });

  it('loads node-rdkafka from the installed tree on the bundled Node, with zstd, TLS and SASL compiled in', (t) => {
    const app = join(root, 'usr/lib/gridgate/app');
    const probe = run(join(root, 'usr/lib/gridgate/node/bin/node'), [
      '-e',
      `const kafka = require('node-rdkafka');
       const mapped = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5] ?? '').filter((p) => p.includes('rdkafka'));
       console.log(JSON.stringify({ version: kafka.librdkafkaVersion, features: kafka.features, mapped: [...new Set(mapped)] }));`,
    ], { cwd: app });
    assert.equal(probe.status, 0, probe.stderr);
    const { version, features, mapped } = JSON.parse(probe.stdout) as { version: string; features: string[]; mapped: string[] };
    t.diagnostic(`librdkafka ${version}: ${features.join(', ')}`);
    assert.match(version, /^2\.\d+\.\d+$/);
    for (const feature of ['gzip', 'snappy', 'lz4', 'zstd', 'ssl', 'sasl_plain', 'sasl_scram']) assert.ok(features.includes(feature), `librdkafka lacks ${feature}`);
    assert.equal(mapped.length, 3, `the addon, librdkafka and librdkafka++: ${mapped.join(', ')}`);
    assert.ok(mapped.every((p) => p.startsWith(`${app}/node_modules/node-rdkafka/build/`)), `only the bundled librdkafka, not a system one: ${mapped.join(', ')}`);

    const elves = run('find', [join(root, 'usr'), '-type', 'f', '(', '-name', '*.node', '-o', '-name', '*.so.*', '-o', '-path', '*/bin/node', ')']).stdout.trim().split('\n');
    assert.ok(elves.length >= 6, elves.join('\n'));
    for (const file of elves) assert.doesNotMatch(run('ldd', [file]).stdout, /not found/, `${file} needs a library the system lacks`);
  });

  it('refuses a bundle with a changed file, or with a file its SHA256SUMS does not list, and installs nothing', async () => {
    const unpacked = await mkdtemp(join(tmpdir(), 'gridgate-tampered-'));
    assert.equal(run('tar', ['-xzf', TARBALL, '-C', unpacked]).status, 0);
    const tarball = `${unpacked}.tar.gz`;
    const repack = (): string => {
      const packed = run('sh', ['-c', `tar -C "${unpacked}" -cf - usr | gzip -1 >"${tarball}"`]);
      assert.equal(packed.status, 0, packed.stderr);
      return tarball;
    };
    const refused = async (tarball: string, why: RegExp): Promise<string> => {
      const target = await mkdtemp(join(tmpdir(), 'gridgate-root-'));
      const result = run('sh', [INSTALL_SH, '--root', target, tarball]);
      assert.equal(result.status, 1, result.stdout + result.stderr);
      assert.match(result.stderr, why);
      assert.deepEqual(readdirSync(target, { recursive: true }).sort(), ['usr', 'usr/lib'], 'nothing installed');
      rmSync(target, { recursive: true });
      return result.stdout + result.stderr;
    };

    const main = join(unpacked, 'usr/lib/gridgate/app/dist/src/main.js');
    const original = readFileSync(main);
    appendFileSync(main, '\n// changed\n');
    const changed = await refused(repack(), /is damaged/);
    assert.match(changed, /usr\/lib\/gridgate\/app\/dist\/src\/main\.js: FAILED/);

    writeFileSync(main, original);
    writeFileSync(join(unpacked, 'usr/lib/gridgate/app/dist/src/extra.js'), 'export {};\n');
    const extra = await refused(repack(), /does not list/);
    assert.match(extra, /usr\/lib\/gridgate\/app\/dist\/src\/extra\.js/);
    rmSync(unpacked, { recursive: true });
    rmSync(tarball);
  });

  it('installs again over itself: replaces the app whole and keeps every file in /etc/gridgate', () => {
    const stale = join(root, 'usr/lib/gridgate/app/stale.js');
    writeFileSync(stale, '');
    const sample = join(root, 'etc/gridgate/sites/example.yaml.sample');
    writeFileSync(sample, '# edited\n');
    const site = join(root, 'etc/gridgate/sites/north.yaml');
    writeFileSync(site, 'site: north\n');
    const again = run('sh', [INSTALL_SH, '--root', root, TARBALL]);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.ok(!existsSync(stale), 'a file of the previous install is gone');
    assert.equal(readFileSync(sample, 'utf8'), '# edited\n');
    assert.equal(readFileSync(site, 'utf8'), 'site: north\n');
    assert.equal(readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^gridgate:/gm)?.length, 1);
    assert.equal(offline(join(root, 'usr/bin/gridgate'), ['--version']).stdout.trim(), VERSION);
  });

  it('uninstalls: removes every installed file and keeps /etc/gridgate and the gridgate user', () => {
    const result = run('sh', [INSTALL_SH, '--root', root, '--uninstall']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    for (const gone of ['usr/lib/gridgate', 'usr/bin/gridgate', 'usr/lib/sysusers.d/gridgate.conf', 'usr/lib/tmpfiles.d/gridgate.conf', 'usr/share/gridgate', 'usr/share/doc/gridgate']) {
      assert.ok(!existsSync(join(root, gone)) && !lstatSync(join(root, gone), { throwIfNoEntry: false }), `${gone} is removed`);
    }
    assert.deepEqual(readdirSync(join(root, 'usr/lib/systemd/system')), []);
    assert.ok(existsSync(join(root, 'etc/gridgate/sites/north.yaml')));
    assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^gridgate:/m);
  });
});

describe('the tarball and the .deb', () => {
  before(() => assertBundleBuilt());

  it('pack to the same bytes twice from the same tree and SOURCE_DATE_EPOCH', async () => {
    const out = await mkdtemp(join(tmpdir(), 'gridgate-repro-'));
    const env = { SOURCE_DATE_EPOCH: '1790000000' };
    for (const [step, ext] of [['make-tarball', 'tar.gz'], ['make-deb', 'deb']] as const) {
      const hashes = [1, 2].map((n) => {
        const file = join(out, `${n}.${ext}`);
        const result = run(`${process.cwd()}/scripts/bundle/${step}`, [STAGE, file], { env, timeoutMs: 300_000 });
        assert.equal(result.status, 0, result.stdout + result.stderr);
        return sha256(file);
      });
      assert.equal(hashes[0], hashes[1], `${step} twice: ${hashes.join(' ≠ ')}`);
    }
    rmSync(out, { recursive: true });
  });

  it('makes a .deb with sane control fields, maintainer scripts, and the same files as the tarball, owned by root', () => {
    const field = (name: string): string => run('dpkg-deb', ['--field', DEB, name]).stdout.trim();
    assert.equal(field('Package'), 'gridgate');
    assert.equal(field('Version'), VERSION.replaceAll('-', '~'));
    assert.equal(field('Architecture'), 'amd64');
    const depends = field('Depends').split(/,\s*/).map((d) => d.split(' ')[0] ?? '');
    for (const pkg of ['libc6', 'libstdc++6', 'libssl3', 'libsasl2-2', 'libzstd1', 'systemd-sysusers', 'systemd-tmpfiles']) assert.ok(depends.includes(pkg), `Depends: ${pkg}`);
    assert.ok(!depends.some((d) => d.startsWith('librdkafka') || d.startsWith('nodejs')), `bundled, not depended on: ${depends.join(', ')}`);
    assert.match(run('dpkg-deb', ['--info', DEB]).stdout, /\bpostinst\b[\s\S]*\bprerm\b/);
    const scripts = run('sh', ['-c', `d=$(mktemp -d) && dpkg-deb -e "${DEB}" "$d" && sh -n "$d/postinst" && sh -n "$d/prerm" && ls "$d" && rm -rf "$d"`]);
    assert.equal(scripts.status, 0, scripts.stderr);
    assert.deepEqual(scripts.stdout.trim().split('\n'), ['control', 'postinst', 'prerm'], 'no conffiles: nothing in /etc');

    const contents = run('dpkg-deb', ['--contents', DEB]).stdout.trim().split('\n');
    assert.ok(contents.every((l) => l.split(/\s+/)[1] === 'root/root'), 'every entry root/root');
    assert.ok(contents.some((l) => l.endsWith('./usr/bin/gridgate -> ../lib/gridgate/bin/gridgate')));
    // mode owner size date time ./name[/] [-> target]; some names hold spaces
    const names = (lines: string[]): string[] =>
      lines.map((l) => /^\S+ +\S+ +\d+ \S+ \S+ \.\/(.*?)\/?(?: -> .*)?$/.exec(l)?.[1] ?? `unparsed: ${l}`).filter(Boolean).sort();
    const tarNames = run('tar', ['-tzf', TARBALL], { timeoutMs: 120_000 }).stdout.trim().split('\n').map((n) => n.replace(/\/$/, '')).sort();
    assert.deepEqual(names(contents), tarNames);
  });
});
