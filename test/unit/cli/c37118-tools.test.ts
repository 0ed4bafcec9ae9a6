import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startSimulator } from '../../../src/protocols/c37118/simulator/simulator.js';
import pino from 'pino';

// The field engineer's C37.118 tools as they are run: `gridgate decode c37118` and
// `gridgate probe pmu`, from source through tsx.

const ANNEX_D = 'test/fixtures/c37118/annex_d.bin';
const run = (args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { encoding: 'utf8', timeout: 30_000, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const lines = (stdout: string): Record<string, any>[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

describe('gridgate decode c37118', () => {
  it('prints one JSON line per frame of the Annex D capture, with offsets, and exits 0', () => {
    const r = run(['decode', 'c37118', ANNEX_D]);
    assert.equal(r.status, 0, r.stderr);
    const out = lines(r.stdout);
    assert.deepEqual(out.map((l) => [l.type, l.offset, l.idcode]), [
      ['cfg2', 0, 7734],
      ['data', 454, 7734],
      ['command', 506, 7734],
    ]);
    const data = out[1]!;
    assert.equal(data.time.iso, '2006-06-06T08:00:00.016817000Z');
    assert.equal(data.time.epochNs, '1149580800016817000');
    assert.equal(data.pmus[0].freq, 62.5);
    assert.equal(data.pmus[0].phasors[0].name, 'VA');
    assert.ok(Math.abs(data.pmus[0].phasors[0].magnitude - 133987.37645) < 1e-6);
    assert.equal(out[2]!.commandName, 'data-on');
  });

  it('reads stdin with "-", reports damaged bytes as error lines with their offset, goes on and exits 1', () => {
    const capture = readFileSync(ANNEX_D);
    const damaged = Buffer.concat([capture.subarray(0, 460), Buffer.from([capture[460]! ^ 0xff]), capture.subarray(461), Buffer.from('tail')]);
    const r = run(['decode', 'c37118', '-'], damaged);
    assert.equal(r.status, 1);
    const out = lines(r.stdout);
    assert.deepEqual(out.map((l) => [l.type, l.offset, l.reason]), [
      ['cfg2', 0, undefined],
      ['error', 454, 'crc-mismatch'],
      ['command', 506, undefined],
      ['error', 524, 'bad-sync'],
    ]);
    assert.equal(out[1]!.length, 52);
  });

  it('exits 64 on a wrong protocol and 1 naming the file it cannot read', () => {
    assert.equal(run(['decode', 'modbus', ANNEX_D]).status, 64);
    const missing = run(['decode', 'c37118', 'no/such/file.bin']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read no\/such\/file\.bin.*GW_ERR_INPUT/u);
  });
});

describe('gridgate probe pmu', () => {
  it('summarises a PMU: configuration, measured rate and values, and exits 0', async () => {
    const sim = await startSimulator({ idcode: 9, pmus: 2, dataRate: 50, fnom: 50, seed: 3, listen: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }) });
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'probe', 'pmu', `127.0.0.1:${sim.port}`, '--idcode', '9', '--frames', '10', '--json']);
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      const report = JSON.parse(stdout) as Record<string, any>;
      assert.equal(report.configFrame, 'cfg2');
      assert.deepEqual(report.config.pmus.map((p: { idcode: number }) => p.idcode), [101, 102]);
      assert.equal(report.frames.length, 10);
      assert.ok(Math.abs(report.measuredRate - 50) < 0.5, `measured ${report.measuredRate} frames/s`);
      assert.equal(report.frames[0].pmus[0].phasors.length, 6);
      assert.deepEqual(report.errors, {});
    } finally {
      await sim.close();
    }
  });

  it('exits 1 and says what to check when the PMU does not answer with a configuration', async () => {
    const sim = await startSimulator({ idcode: 9, listen: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }) });
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'probe', 'pmu', `127.0.0.1:${sim.port}`, '--idcode', '8', '--timeout-ms', '500']);
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 1);
      assert.match(stdout, /configuration NOT RECEIVED: check --idcode/u);
    } finally {
      await sim.close();
    }
  });
});
