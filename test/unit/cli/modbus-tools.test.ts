import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { startModbusSimulator, type RunningModbusSimulator } from '../../../src/protocols/modbus/simulator/simulator.js';
import { runCli } from '../../helpers/gridgate.js';
import { tempDir } from '../../helpers/spool.js';

// `gridgate probe modbus --config SITE` as a commissioning engineer runs it, against the product
// simulator serving a unit with a hole in its map and a unit that never answers.


describe('gridgate probe modbus', () => {
  const sims: RunningModbusSimulator[] = [];
  let sim: RunningModbusSimulator;
  after(async () => {
    for (const s of sims) await s.close();
  });

  async function site(): Promise<string> {
    sim = await startModbusSimulator({
      listen: { host: '127.0.0.1', port: 0 },
      log: pino({ level: 'silent' }),
      map: {
        units: [
          {
            unitId: 1,
            registers: [
              { name: 'v', address: 0, type: 'float32', value: 230.5 },
              { name: 'pf', address: 2, type: 'int16', value: -950 },
            ],
            holes: [{ from: 10, to: 10 }],
          },
          { unitId: 9, registers: [{ name: 'x', address: 0, value: 1 }], dead: true },
        ],
      },
    });
    sims.push(sim);
    const dir = await tempDir('gridgate-probe-modbus-');
    const file = join(dir, 'site.yaml');
    await writeFile(
      file,
      `site: north
kafka: { brokers: ["127.0.0.1:9092"] }
spool: { dir: ${dir}/spool }
state: { dir: ${dir} }
sources:
  - name: meters
    type: modbus
    address: 127.0.0.1:${sim.port}
    timeoutMs: 200
    devices:
      - name: feeder
        unitId: 1
        tags:
          - { name: v, area: holding-register, address: 0, type: float32, unit: V }
          - { name: pf, area: holding-register, address: 2, type: int16, scale: 0.001 }
          - { name: gone, area: holding-register, address: 10 }
      - name: spare
        unitId: 9
        tags:
          - { name: x, area: holding-register, address: 0 }
`,
    );
    return file;
  }

  it('reads every tag once and reports value, raw registers, quality and latency; exit 1 when any is not good', async () => {
    const config = await site();
    const r = await runCli(['probe', 'modbus', '--config', config]);
    assert.equal(r.status, 1, r.stderr);
    const line = (tag: string): string => r.stdout.split('\n').find((l) => l.trimStart().startsWith(tag)) ?? '';
    assert.match(line('feeder/v'), /230\.5 V\s+raw 4366 8000\s+good/);
    assert.match(line('feeder/pf'), /-0\.95\s+raw fc4a\s+good/);
    assert.match(line('feeder/gone'), /bad \(rejected\).*exception 2/);
    assert.match(line('spare/x'), /bad \(comms_failure\).*timeout/);
    assert.match(r.stdout, /requests per poll cycle: feeder\/default \d+, spare\/default 1/);
    assert.equal(sim.stats.writes, 0);
  });

  it('probes one device with --device and exits 0 when its tags all read good; --json for machines', async () => {
    const config = await site();
    const r = await runCli(['probe', 'modbus', '--config', config, '--device', 'spare', '--json']);
    assert.equal(r.status, 1);
    const [report] = JSON.parse(r.stdout) as { tags: { device: string }[] }[];
    assert.deepEqual(report!.tags.map((t) => t.device), ['spare']);
    const usage = await runCli(['probe', 'modbus', '--config', config, '--device', 'nope']);
    assert.equal(usage.status, 64);
    assert.match(usage.stderr, /no Modbus device named nope/);
  });
});
