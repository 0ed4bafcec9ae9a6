// Proves the tshark harness (test/peers/helpers/tshark.ts): Wireshark's synphasor dissector,
// fed our hand-written pcaps, recovers the values listed in the shared C37.118 vectors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  splitFrames,
  subtrees,
  tsharkDecode,
  tsharkVersion,
  writePcap,
  type TsharkDecoded,
  type TsharkFrame,
} from './helpers/tshark.js';
import { FIXTURES, loadVector, VECTOR_NAMES, type ExpectedFrame, type ExpectedPhasor } from '../helpers/c37118.js';

const FRAME_TYPES: Record<ExpectedFrame['type'], number> = { data: 0, header: 1, cfg1: 2, cfg2: 3, command: 4, cfg3: 5 };

const num = (s: string | undefined): number => {
  assert.ok(s !== undefined, 'tshark printed no such field');
  return Number(s);
};
const one = (frame: TsharkFrame, name: string): string => {
  const values = frame.get(name);
  assert.equal(values.length, 1, `expected one ${name}, tshark printed ${values.length}`);
  return values[0]!;
};
const unquote = (show: string): string => {
  const m = /"(.*)"$/s.exec(show);
  assert.ok(m, `no quoted name in ${show}`);
  return m[1]!.trimEnd();
};

/** Default tolerance for tshark's 3-decimal display: half a unit in the last place, plus 1e-4 relative. */
function assertClose(actual: number, expected: number, what: string, abs = 0.5e-3 + 1e-9, rel = 1e-4): void {
  const tol = abs + rel * Math.abs(expected);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: tshark ${actual}, expected ${expected} (±${tol})`);
}

/** Parses 'Phasor #1: "VA  ", 133987.376V ∠  0.000° alt 133987.376+j  0.000V; unscaled: ...'. */
function phasorNumbers(showname: string): { magnitude: number; angleDeg: number; re: number; im: number; unit: string } {
  const m = /",\s*(\S+)([VA]) ∠\s*(\S+)° alt\s*(\S+)\+j\s*(\S+?)[VA](?:;|$)/.exec(showname);
  assert.ok(m, `unexpected phasor line: ${showname}`);
  return { magnitude: Number(m[1]), unit: m[2]!, angleDeg: Number(m[3]), re: Number(m[4]), im: Number(m[5]) };
}

interface StationConfig {
  idcode: number;
  fnom: number;
  phasorNames: string[];
  floatPhasors: boolean;
  polar: boolean;
}

function stationsOfConfig(cfg: TsharkFrame): StationConfig[] {
  return subtrees(cfg, (f) => f.name === '' && /^Station #\d+: /.test(f.show)).map(({ frame }) => ({
    idcode: num(one(frame, 'synphasor.idcode_data_source')),
    fnom: one(frame, 'synphasor.conf.fnom') === '1' ? 50 : 60,
    phasorNames: frame
      .all('synphasor.channel_name')
      .filter((f) => f.showname.startsWith('Phasor name #'))
      .map((f) => f.show.trimEnd()),
    floatPhasors: one(frame, 'synphasor.conf.phasor_format') === '1',
    polar: one(frame, 'synphasor.conf.phasor_notation') === '1',
  }));
}

function assertConfig(t: TsharkDecoded, want: ExpectedFrame): void {
  assert.equal(num(one(t, 'synphasor.conf.timebase')), want.time_base);
  assert.equal(num(one(t, 'synphasor.rate_of_transmission')), want.data_rate);
  assert.equal(num(one(t, 'synphasor.conf.numpmu')), want.pmus!.length);
  const blocks = subtrees(t, (f) => f.name === '' && /^Station #\d+: /.test(f.show));
  const stations = stationsOfConfig(t);
  assert.equal(blocks.length, want.pmus!.length);
  want.pmus!.forEach((pmu, i) => {
    const { head, frame } = blocks[i]!;
    const station = stations[i]!;
    assert.equal(unquote(head.show), pmu.stn, `station #${i + 1} name`);
    assert.equal(station.idcode, pmu.idcode);
    assert.equal(station.fnom, pmu.fnom);
    assert.equal(num(one(frame, 'synphasor.conf.cfgcnt')), pmu.cfgcnt);
    assert.equal(num(one(frame, 'synphasor.num_phasors')), station.phasorNames.length);
    const names = pmu.phasors as string[];
    // four_pmu_tcp.expected.json lists only some of PMU2-4's 14 phasors.
    if (names.length === station.phasorNames.length) assert.deepEqual(station.phasorNames, names);
    else for (const name of names) assert.ok(station.phasorNames.includes(name), `${name} not among ${station.phasorNames}`);
  });
}

function assertData(t: TsharkDecoded, want: ExpectedFrame, config: { timeBase: number; stations: StationConfig[] }): void {
  assert.ok(t.get('synphasor.data.conf_frame').length === 1, 'tshark found no configuration for the data frame');
  const soc = Buffer.from(t.all('synphasor.soc')[0]!.value!, 'hex').readUInt32BE(0);
  const fracsec = num(one(t, 'synphasor.fracsec_raw'));
  assertClose(soc + fracsec / config.timeBase, want.time!, 'time', 1e-9);
  assertClose(num(one(t, 'synphasor.fracsec_ms')), (1000 * fracsec) / config.timeBase, 'fracsec_ms', 1e-6);

  const blocks = subtrees(t, (f) => f.name === '' && f.show.startsWith('Station: '));
  assert.equal(blocks.length, want.pmus!.length);
  want.pmus!.forEach((pmu, i) => {
    const station = config.stations[i]!;
    const block = blocks[i]!.frame;
    assert.equal(station.idcode, pmu.idcode, `PMU block ${i + 1} is IDCODE ${pmu.idcode} by configuration order`);

    if (pmu.stat !== undefined) {
      const flags = subtrees(block, (f) => f.name === '' && f.show === 'Flags')[0]!;
      assert.equal(parseInt(flags.head.value!, 16), pmu.stat, 'STAT');
      assert.equal(one(flags.frame, 'synphasor.data.trigger'), pmu.stat & 0x0800 ? '1' : '0');
      assert.equal(one(flags.frame, 'synphasor.data.sync'), pmu.stat & 0x2000 ? '1' : '0');
    }

    const floatFreq = block.get('synphasor.actual_frequency_value');
    if (floatFreq.length > 0) assertClose(num(floatFreq[0]), pmu.freq!, 'FREQ', 0);
    else {
      const deviation = block.all('synphasor.frequency_deviation_from_nominal')[0]!;
      const actual = /actual frequency: (\S+)Hz/.exec(deviation.showname);
      assertClose(num(actual?.[1]), pmu.freq!, 'FREQ (from the deviation)');
      assertClose(station.fnom + num(deviation.show) / 1000, pmu.freq!, 'FNOM + FREQ mHz', 1e-9);
    }
    assertClose(num(one(block, 'synphasor.rate_change_frequency')), pmu.rocof!, 'DFREQ', 1e-9);

    const phasors = block.all('synphasor.phasor');
    const expected = pmu.phasors as ExpectedPhasor[];
    const abbreviated = expected.length !== station.phasorNames.length; // four_pmu_tcp, PMU2-4
    assert.equal(phasors.length, station.phasorNames.length);
    expected.forEach((want, j) => {
      const field = phasors[j]!;
      const got = phasorNumbers(field.showname);
      const what = `PMU ${pmu.idcode} phasor #${j + 1}`;
      assertClose(got.magnitude, want.magnitude, `${what} magnitude`);
      assertClose(got.re, want.re, `${what} real`);
      assertClose(got.im, want.im, `${what} imaginary`);
      if (want.magnitude > 1e-3) {
        const wantDeg = (want.angle_rad * 180) / Math.PI;
        const diff = ((((got.angleDeg - wantDeg) % 360) + 540) % 360) - 180;
        assert.ok(Math.abs(diff) <= 0.5e-3 + 1e-4 * Math.abs(wantDeg), `${what} angle: ${got.angleDeg}° vs ${wantDeg}°`);
      }
      // The raw bytes in `value` allow a bit-exact comparison; check them for float phasors with
      // the README's 1e-5 relative tolerance. The expected.json values are decimal transcriptions
      // (relay_float's to 4 decimals: its 0.0032 is 0.0032087 on the wire), hence the 1e-5
      // absolute part.
      if (station.floatPhasors) {
        const raw = Buffer.from(field.value!, 'hex');
        const [a, b] = [raw.readFloatBE(0), raw.readFloatBE(4)];
        const [wa, wb] = station.polar ? [want.magnitude, want.angle_rad] : [want.re, want.im];
        assertClose(a, wa, `${what} raw first word`, 1e-5, 1e-5);
        assertClose(b, wb, `${what} raw second word`, 1e-5, 1e-5);
      }
    });

    const analogs = block.all('synphasor.analog_value');
    if (!abbreviated) assert.equal(analogs.length, pmu.analogs!.length);
    pmu.analogs!.forEach((want, j) => {
      const m = /", (\S+)(?: \(conversion factor: [^)]*\))?$/.exec(analogs[j]!.showname);
      assertClose(num(m?.[1]), want.value, `analog #${j + 1}`);
    });
    assert.deepEqual(block.get('synphasor.digital_status_word').map(Number), pmu.digitals);
  });
}

const vectors = VECTOR_NAMES;

describe('the tshark harness', () => {
  it('finds tshark with the synphasor dissector', () => {
    assert.match(tsharkVersion(), /^\d+\.\d+\.\d+/);
    const protocols = execFileSync('tshark', ['-G', 'protocols'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.ok(protocols.split('\n').some((line) => line.endsWith('\tsynphasor')), 'tshark -G protocols lists no synphasor');
  });

  describe('writePcap', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'gridgate-pcap-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('writes packets whose IPv4, TCP and UDP checksums tshark verifies as good, with clean TCP sequencing', async () => {
      const payloads = splitFrames(readFileSync(join(FIXTURES, 'annex_d.bin')));
      const file = join(dir, 'checksums.pcap');
      await writePcap(file, [
        ...payloads.map((payload, i) => {
          const command = i === 2;
          return { payload, transport: 'tcp' as const, srcPort: command ? 50000 : 4712, dstPort: command ? 4712 : 50000 };
        }),
        { payload: payloads[1]!, transport: 'tcp', srcPort: 4712, dstPort: 50000 },
        { payload: payloads[1]!.subarray(0, 51), transport: 'udp', srcPort: 4713, dstPort: 50001 }, // odd length
      ]);
      const out = execFileSync(
        'tshark',
        ['-n', '-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
          '-T', 'fields', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status', '-e', 'udp.checksum.status',
          '-e', 'tcp.seq', '-e', 'tcp.ack', '-e', 'tcp.flags', '-e', 'tcp.analysis.flags'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const rows = out.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
      assert.equal(rows.length, 5);
      const [sizeCfg, sizeData] = [payloads[0]!.length, payloads[1]!.length];
      // ip, tcp, udp checksum status (1 = good), relative seq, relative ack, flags (PSH|ACK),
      // TCP analysis flags (none: no retransmission, lost segment or window complaints)
      assert.deepEqual(rows, [
        ['1', '1', '', '1', '1', '0x0018', ''],
        ['1', '1', '', String(1 + sizeCfg), '1', '0x0018', ''],
        ['1', '1', '', '1', String(1 + sizeCfg + sizeData), '0x0018', ''],
        ['1', '1', '', String(1 + sizeCfg + sizeData), String(1 + payloads[2]!.length), '0x0018', ''],
        ['1', '', '1', '', '', '', ''],
      ]);
    });
  });

  it('decodes every vector identically over TCP and UDP', async () => {
    for (const name of vectors) {
      const frames = splitFrames(readFileSync(join(FIXTURES, `${name}.bin`)));
      // Everything but the byte positions, which differ by the TCP and UDP header sizes.
      const strip = (decoded: TsharkDecoded[]) =>
        decoded.map((d) => ({
          dissected: d.dissected,
          fields: d.fields.map(({ name, show, showname, value, depth }) => ({ name, show, showname, value, depth })),
        }));
      const [tcp, udp] = await Promise.all([
        tsharkDecode(frames, { transport: 'tcp', port: 4712 }),
        tsharkDecode(frames, { transport: 'udp', port: 4713 }),
      ]);
      assert.deepEqual(strip(udp), strip(tcp), name);
    }
  });
});

describe('tshark on the shared C37.118 vectors', () => {
  it('has vectors to decode', () => assert.ok(vectors.length >= 5, `only ${vectors.length} vectors`));

  for (const name of vectors) {
    const sentence: Record<string, string> = {
      annex_d: 'decodes the Annex D stream to the listed configuration, phasors, analogs and command',
      blue_pmu_tcp: 'decodes the 1-PMU TCP capture to the listed float rectangular phasors and TIME_BASE 0xFFFFFF',
      udp_polar_pmu: 'decodes the 1-PMU UDP capture to the listed float polar phasors',
      relay_float: 'decodes the relay capture to the listed float frequency, STAT and ten phasors',
      four_pmu_tcp: 'decodes the 4-PMU capture to the listed per-PMU blocks',
    };
    it(`tshark ${sentence[name] ?? `decodes ${name} to the values in its expected.json`}`, async () => {
      const { bytes: stream, expected } = loadVector(name);
      const frames = splitFrames(stream);
      assert.equal(frames.length, expected.length, 'frames in the stream');
      const transport = name.startsWith('udp') ? 'udp' : 'tcp';
      const decoded = await tsharkDecode(frames, { transport, port: transport === 'udp' ? 4713 : 4712 });

      let config: { timeBase: number; stations: StationConfig[] } | undefined;
      expected.forEach((want, i) => {
        const t = decoded[i]!;
        const frame = frames[i]!;
        if (!t.dissected) {
          // tshark's dissector rejects PDUs shorter than 17 bytes (the empty header frame).
          assert.ok(want.type === 'header' && frame.length < 17, `tshark did not dissect frame ${i + 1} (${want.type})`);
          return;
        }
        assert.match(t.summary, /\[correct\]$/, 'checksum');
        assert.equal(num(one(t, 'synphasor.frtype')), FRAME_TYPES[want.type], `frame ${i + 1} type`);
        assert.equal(num(one(t, 'synphasor.idcode_stream_source')), want.idcode);
        assert.equal(num(one(t, 'synphasor.frsize')), frame.length);
        switch (want.type) {
          case 'command':
            assert.equal(num(one(t, 'synphasor.command')), want.command);
            break;
          case 'header':
            assert.equal(Buffer.from(t.all('synphasor.data')[0]!.value ?? '', 'hex').toString('latin1'), want.text);
            break;
          case 'cfg2':
          case 'cfg3':
            assertConfig(t, want);
            config = { timeBase: num(one(t, 'synphasor.conf.timebase')), stations: stationsOfConfig(t) };
            break;
          case 'data':
            assert.ok(config, 'a data frame before any configuration');
            assertData(t, want, config);
            break;
        }
      });
    });
  }
});
