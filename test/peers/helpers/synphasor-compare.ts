// Test helper for ../tshark-decoder.test.ts: runs tshark and our Framer + StreamDecoder over the
// same stream and compares every field tshark shows with ours, frame by frame. The common header,
// command and configuration frames are compared here, data frames in synphasor-compare-data.ts.
// Where tshark and our decoder legitimately differ is listed in the test's head comment and
// stated beside each assertion.
import assert from 'node:assert/strict';
import type { ConfigFrame, PmuConfig } from '../../../src/protocols/c37118/cfg-frame.js';
import { fracsecOf, frameSizeOf, frameTypeOf, socOf, timeQualityOf, versionOf } from '../../../src/protocols/c37118/frame-header.js';
import { Framer } from '../../../src/protocols/c37118/framer.js';
import { timeJson } from '../../../src/protocols/c37118/json.js';
import { StreamDecoder, type Decoded } from '../../../src/protocols/c37118/stream-decoder.js';
import { asAscii, heads, hex, int, one, oneField, padTrim, quoted, type Seen } from './synphasor-compare-common.js';
import { compareData } from './synphasor-compare-data.js';
import type { Stream } from './synphasor-streams.js';
import { tsharkDecode, type TsharkDecoded, type TsharkFrame } from './tshark.js';

export { newSeen, type Seen } from './synphasor-compare-common.js';

// ---------------------------------------------------------------------------------------------
// Running both decoders

/**
 * Runs tshark once over the stream (one frame per TCP segment, non-default port) and our Framer
 * + StreamDecoder over the same bytes, comparing frame by frame.
 */
export async function compareStream(stream: Stream, seen: Seen, deferred: (() => void)[] = []): Promise<void> {
  const decoded = await tsharkDecode(stream.frames, { transport: 'tcp', port: stream.port });
  const framer = new Framer();
  const decoder = new StreamDecoder();
  let activeConfigPacket = 0;
  stream.frames.forEach((frame, i) => {
    assert.ok(framer.push(frame));
    const out = framer.next();
    assert.equal(out.kind, 'frame', `frame ${i + 1}: our framer`);
    assert.equal(out.length, frame.length);
    const ours = decoder.decode(out.buf, out.offset, out.length);
    const t = decoded[i]!;
    const what = `frame ${i + 1} (${frame.length} bytes)`;
    if (!t.dissected) {
      // tshark's dissector rejects PDUs shorter than 17 bytes: only the empty header frame.
      assert.equal(frame.length, 16, `${what}: tshark did not dissect it`);
      assert.deepEqual(ours, { kind: 'header', idcode: frame.readUInt16BE(4), text: '' });
      return;
    }
    const timeBase = decoder.layout(ours.idcode)?.config.timeBase;
    compareHeader(t, frame, ours, timeBase, seen, what);
    switch (ours.kind) {
      case 'header':
        assert.equal(hex(oneField(t, 'synphasor.data').value).toString('latin1'), ours.text, `${what}: header text`);
        break;
      case 'command':
        compareCommand(t, ours, what);
        break;
      case 'config':
        compareConfig(t, ours.config, what);
        if (ours.active) activeConfigPacket = i + 1;
        break;
      case 'data':
        assert.equal(int(one(t, 'synphasor.data.conf_frame')), activeConfigPacket, `${what}: both decode with the same configuration`);
        compareData(t, ours.columns, seen, deferred, what);
        break;
      case 'fault':
        // Both refuse a data frame that arrives before any CFG-2/CFG-3 (CFG-1 does not count).
        assert.equal(ours.reason, 'no-config', `${what}: ours ${ours.detail}`);
        assert.equal(t.get('synphasor.data.conf_frame').length, 0);
        assert.match(oneField(t, 'synphasor.data').showname, /no configuration frame found/u);
        break;
      default:
        assert.fail(`${what}: unexpected ${ours.kind}`);
    }
  });
  assert.equal(framer.next().kind, 'none');
}

function compareHeader(t: TsharkDecoded, frame: Buffer, ours: Decoded, timeBase: number | undefined, seen: Seen, what: string): void {
  assert.match(t.summary, /\[correct\]$/u, `${what}: tshark's checksum verdict`);
  assert.equal(one(t, 'synphasor.checksum.status'), '1');
  const type = frameTypeOf(frame, 0);
  seen.frameTypes.add(type);
  assert.equal(int(one(t, 'synphasor.frtype')), type, `${what}: frame type`);
  const kinds: Record<number, string[]> = { 0: ['data', 'fault'], 1: ['header'], 2: ['config'], 3: ['config'], 4: ['command'], 5: ['config'] };
  assert.ok(kinds[type]!.includes(ours.kind), `${what}: frame type ${type} decoded as ${ours.kind}`);
  const configKinds: Record<number, string> = { 2: 'cfg1', 3: 'cfg2', 5: 'cfg3' };
  if (ours.kind === 'config') assert.equal(ours.config.kind, configKinds[type]);
  assert.equal(int(one(t, 'synphasor.version')), versionOf(frame, 0), `${what}: version`);
  if (ours.kind === 'config') assert.equal(ours.config.version, versionOf(frame, 0));
  assert.equal(int(one(t, 'synphasor.frsize')), frameSizeOf(frame, 0), `${what}: FRAMESIZE`);
  assert.equal(int(one(t, 'synphasor.idcode_stream_source')), ours.idcode, `${what}: stream IDCODE`);
  assert.equal(hex(oneField(t, 'synphasor.soc').value).readUInt32BE(0), socOf(frame, 0), `${what}: SOC`);

  // FRACSEC: time quality byte and fraction.
  const tq = heads(t, /^Time quality flags$/u);
  assert.equal(tq.length, 1);
  const byte = timeQualityOf(frame, 0);
  assert.equal(parseInt(tq[0]!.head.value!, 16), byte, `${what}: time quality byte`);
  const quality = timeJson(socOf(frame, 0), fracsecOf(frame, 0), timeBase ?? 1_000_000).quality;
  const flags = tq[0]!.frame;
  assert.equal(one(flags, 'synphasor.timeqal.lsdir'), quality.leapSecondDirection === 'delete' ? '1' : '0', `${what}: leap direction bit`);
  // Labels differ: Table 3 says bit 6 = 1 deletes a second (ours: 'delete'); tshark calls it "Add".
  assert.match(oneField(flags, 'synphasor.timeqal.lsdir').showname, quality.leapSecondDirection === 'delete' ? /: Add$/u : /: Delete$/u);
  assert.equal(one(flags, 'synphasor.timeqal.lsocc'), quality.leapSecondOccurred ? '1' : '0', `${what}: leap occurred`);
  assert.equal(one(flags, 'synphasor.timeqal.lspend'), quality.leapSecondPending ? '1' : '0', `${what}: leap pending`);
  assert.equal(parseInt(one(flags, 'synphasor.timeqal.timequalindic'), 16), quality.code, `${what}: time quality code`);
  seen.timeQuality.add(quality.code);
  seen.leapBits.add((byte >> 4) & 7);
  const fraction = fracsecOf(frame, 0) & 0xffffff;
  assert.equal(int(one(t, 'synphasor.fracsec_raw')), fraction, `${what}: FRACSEC`);
  const ms = t.get('synphasor.fracsec_ms');
  if (ours.kind === 'data') assert.equal(ms.length, 1, `${what}: tshark knows the TIME_BASE`);
  if (ms.length > 0 && timeBase !== undefined) {
    // Ours: the nanosecond time of the JSON output, as milliseconds into the second.
    const time = timeJson(socOf(frame, 0), fracsecOf(frame, 0), timeBase);
    const oursMs = Number(BigInt(time.epochNs) - BigInt(time.soc) * 1_000_000_000n) / 1e6;
    // tshark: 6 significant digits of the exact ratio; ours: rounded to the nanosecond (0.5e-6 ms).
    const shown = Number(ms[0]);
    assert.ok(Math.abs(shown - oursMs) <= 5e-6 * oursMs + 0.5e-6, `${what}: fraction of second: tshark ${ms[0]} ms, ours ${oursMs} ms`);
  }
}

function compareCommand(t: TsharkDecoded, ours: Extract<Decoded, { kind: 'command' }>, what: string): void {
  assert.equal(parseInt(one(t, 'synphasor.command'), 16), ours.command.command, `${what}: CMD`);
  const extended = t.all('synphasor.extended_frame_data');
  const unknown = t.all('synphasor.data.unknown');
  // CMD 8 carries extended frame data; other commands' extra bytes are "unknown" to tshark and
  // land in the same `extended` field on our side.
  const extra = ours.command.command === 8 ? extended : unknown;
  assert.equal(extended.length + unknown.length, extra.length);
  assert.equal(extra[0]?.value ?? '', ours.command.extended.toString('hex'), `${what}: extra command bytes`);
}

// ---------------------------------------------------------------------------------------------
// Configuration frames

const ANALOG_TYPE_TEXT = (type: number): string =>
  type === 0 ? 'single point-on-wave' : type === 1 ? 'rms of analog input' : type === 2 ? 'peak of input' : type >= 65 ? 'user defined' : type <= 4 ? 'undefined' : 'reserved';

function compareConfig(t: TsharkDecoded, config: ConfigFrame, what: string): void {
  const cfg3 = config.kind === 'cfg3';
  if (cfg3) assert.equal(int(one(t, 'synphasor.conf.contindx')), 0, `${what}: CONT_IDX`);
  assert.equal(int(one(t, 'synphasor.conf.timebase')), config.timeBase, `${what}: TIME_BASE`);
  assert.equal(int(one(t, 'synphasor.conf.numpmu')), config.pmus.length, `${what}: NUM_PMU`);
  assert.equal(int(one(t, 'synphasor.rate_of_transmission')), config.dataRate, `${what}: DATA_RATE`);
  const stations = heads(t, /^Station #\d+: /u);
  assert.equal(stations.length, config.pmus.length);
  config.pmus.forEach((pmu, p) => {
    const { head, frame: s } = stations[p]!;
    const at = `${what} PMU #${p + 1}`;
    if (cfg3) {
      assert.equal(quoted(head.show), asAscii(pmu.station), `${at}: STN`);
      assert.equal(one(s, 'synphasor.station_name'), asAscii(pmu.station));
      assert.equal(int(one(s, 'synphasor.station_name_len')), Buffer.byteLength(pmu.station, 'utf8'));
      assert.equal(one(s, 'synphasor.gpmuid').replaceAll(':', ''), pmu.globalPmuId, `${at}: G_PMU_ID`);
    } else {
      const padded = quoted(head.show);
      assert.equal(padded.length, 16, 'CFG-1/2 names are 16 bytes');
      assert.equal(padTrim(padded), pmu.station, `${at}: STN`);
    }
    assert.equal(int(one(s, 'synphasor.idcode_data_source')), pmu.idcode, `${at}: IDCODE`);

    const format = heads(s, /^Data format in data frame$/u)[0]!;
    assert.equal(parseInt(format.head.value!, 16), pmu.format, `${at}: FORMAT`);
    assert.equal(one(format.frame, 'synphasor.conf.phasor_notation'), pmu.format & 1 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.phasor_format'), pmu.format & 2 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.analog_format'), pmu.format & 4 ? '1' : '0');
    assert.equal(one(format.frame, 'synphasor.conf.dfreq_format'), pmu.format & 8 ? '1' : '0');
    assert.equal(int(one(s, 'synphasor.num_phasors')), pmu.phasors.length, `${at}: PHNMR`);
    assert.equal(int(one(s, 'synphasor.num_analog_values')), pmu.analogs.length, `${at}: ANNMR`);
    assert.equal(int(one(s, 'synphasor.num_digital_status_words')), pmu.digitals.length, `${at}: DGNMR`);

    // CHNAM
    const names = cfg3 ? cfg3Names(s) : cfg12Names(s);
    const shown = cfg3 ? asAscii : (name: string) => name;
    assert.deepEqual(names.phasors, pmu.phasors.map((ph) => shown(ph.name)), `${at}: phasor names`);
    assert.deepEqual(names.analogs, pmu.analogs.map((an) => shown(an.name)), `${at}: analog names`);
    assert.deepEqual(names.digitals, pmu.digitals.flatMap((dg) => dg.labels.map(shown)), `${at}: digital labels`);

    if (cfg3) comparePhscale(s, pmu, at);
    else {
      const conv = s.all('synphasor.conversion_factor');
      assert.equal(conv.length, pmu.phasors.length);
      pmu.phasors.forEach((ph, k) => {
        assert.equal(parseInt(conv[k]!.show, 16), ph.raw, `${at} PHUNIT #${k + 1}`);
        const m = /factor: (\d+) \* 10\^-5, unit: (Volt|Ampere)$/u.exec(conv[k]!.showname);
        assert.ok(m, conv[k]!.showname);
        assert.equal(Number(m[1]) / 1e5, ph.factor, `${at} PHUNIT #${k + 1} factor`);
        assert.equal(m[2], ph.unit === 'A' ? 'Ampere' : 'Volt', `${at} PHUNIT #${k + 1} unit`);
      });
      const anu = s.all('synphasor.factor_for_analog_value');
      assert.equal(anu.length, pmu.analogs.length);
      pmu.analogs.forEach((an, k) => {
        assert.equal(parseInt(anu[k]!.unmaskedvalue!, 16), an.raw, `${at} ANUNIT #${k + 1}`);
        const m = /#\d+: (.+), value: (-?\d+)$/u.exec(anu[k]!.showname);
        assert.ok(m, anu[k]!.showname);
        assert.equal(m[1], ANALOG_TYPE_TEXT(an.type), `${at} ANUNIT #${k + 1} type ${an.type}`);
        assert.equal(Number(m[2]), an.factor, `${at} ANUNIT #${k + 1} signed scale`);
      });
    }

    // DIGUNIT
    const masks = heads(s, /^Mask for status word #\d+: $/u);
    assert.equal(masks.length, pmu.digitals.length);
    pmu.digitals.forEach((dg, k) => {
      assert.equal(parseInt(one(masks[k]!.frame, 'synphasor.status_word_mask.normal_state'), 16), dg.normal, `${at} DIGUNIT #${k + 1} normal`);
      assert.equal(parseInt(one(masks[k]!.frame, 'synphasor.status_word_mask.valid_bits'), 16), dg.valid, `${at} DIGUNIT #${k + 1} valid`);
    });

    if (cfg3) {
      const wgs = (name: string, ours: number | null): void => {
        const f = oneField(s, name);
        const raw = hex(f.value).readFloatBE(0);
        if (ours === null) {
          assert.equal(raw, Infinity, `${at} ${name}: +Inf means unspecified`);
          assert.equal(f.show, 'inf');
        } else assert.equal(raw, ours, `${at} ${name}`);
      };
      wgs('synphasor.conf.pmu_latitude', pmu.latitude);
      wgs('synphasor.conf.pmu_longitude', pmu.longitude);
      wgs('synphasor.conf.pmu_elevation', pmu.elevation);
      const svc = oneField(s, 'synphasor.conf.svc_class');
      assert.equal(hex(svc.value).toString('latin1'), pmu.serviceClass, `${at} SVC_CLASS`);
      const classes: Record<string, string> = { M: 'Monitoring', P: 'Protection' };
      assert.equal(svc.show, classes[pmu.serviceClass!] ?? 'Unknown');
      // WINDOW and GRP_DLY are signed int32 µs (Table 11); tshark displays them unsigned.
      assert.equal(int(one(s, 'synphasor.conf.window')), pmu.windowUs! >>> 0, `${at} WINDOW`);
      assert.equal(int(one(s, 'synphasor.conf.grp_dly')), pmu.groupDelayUs! >>> 0, `${at} GRP_DLY`);
      assert.equal(hex(oneField(s, 'synphasor.conf.grp_dly').value).readInt32BE(0), pmu.groupDelayUs, `${at} GRP_DLY bytes`);
    }
    assert.equal(one(s, 'synphasor.conf.fnom'), pmu.fnom === 50 ? '1' : '0', `${at}: FNOM`);
    assert.equal(int(one(s, 'synphasor.conf.cfgcnt')), pmu.cfgcnt, `${at}: CFGCNT`);
  });
}

function cfg12Names(s: TsharkFrame): { phasors: string[]; analogs: string[]; digitals: string[] } {
  const names = s.all('synphasor.channel_name');
  const pick = (prefix: string) =>
    names.filter((f) => f.showname.startsWith(prefix)).map((f) => {
      assert.equal(f.show.length, 16, 'CFG-1/2 names are 16 bytes');
      return padTrim(f.show);
    });
  return { phasors: pick('Phasor name #'), analogs: pick('Analog value #'), digitals: pick('Digital status label #') };
}

function cfg3Names(s: TsharkFrame): { phasors: string[]; analogs: string[]; digitals: string[] } {
  const pick = (re: RegExp) =>
    heads(s, re).map(({ head, frame }) => {
      const name = quoted(head.show);
      // One U+FFFD per byte >= 0x80 (see asAscii), so the name's length is its length in bytes.
      assert.equal(int(one(frame, 'synphasor.conf.chnam_len')), name.length, 'CHNAM length in bytes');
      return name;
    });
  return { phasors: pick(/^Phasor name #\d+: /u), analogs: pick(/^Analog value #\d+: /u), digitals: pick(/^Digital label #\d+: /u) };
}

function comparePhscale(s: TsharkFrame, pmu: PmuConfig, at: string): void {
  const scales = heads(s, /^Phasor #\d+$/u);
  assert.equal(scales.length, pmu.phasors.length);
  pmu.phasors.forEach((ph, k) => {
    const f = scales[k]!.frame;
    const w = `${at} PHSCALE #${k + 1}`;
    const flagsWord = heads(f, /^Phasor Data flags: /u)[0]!;
    assert.equal(parseInt(flagsWord.head.value!, 16), ph.raw, `${w} first word`);
    const mod = heads(f, /^Modification Flags: 0x[0-9a-f]{4}$/u)[0]!;
    assert.equal(parseInt(mod.head.show.slice(-4), 16), ph.modificationFlags, `${w} modification flags`);
    assert.equal(one(f, 'synphasor.conf.phasor_type'), ph.unit === 'A' ? '1' : '0', `${w} type (current)`);
    assert.equal(parseInt(one(f, 'synphasor.conf.phasor_component'), 16), ph.component, `${w} component`);
    const user = heads(f, /^User designated flags: 0x[0-9a-f]{2}$/u)[0]!;
    assert.equal(parseInt(user.head.show.slice(-2), 16), ph.raw & 0xff, `${w} user flags`);
    assert.equal(hex(oneField(f, 'synphasor.conf.phasor_scale_factor').value).readFloatBE(0), ph.magnitudeScale, `${w} Y`);
    assert.equal(hex(oneField(f, 'synphasor.conf.phasor_angle_offset').value).readFloatBE(0), ph.angleOffsetRad, `${w} θ`);
  });
  const analogs = heads(s, /^Analog #\d+$/u);
  assert.equal(analogs.length, pmu.analogs.length);
  pmu.analogs.forEach((an, k) => {
    const f = analogs[k]!.frame;
    assert.equal(hex(oneField(f, 'synphasor.conf.analog_scale_factor').value).readFloatBE(0), an.scale, `${at} ANSCALE #${k + 1} M`);
    assert.equal(hex(oneField(f, 'synphasor.conf.analog_offset').value).readFloatBE(0), an.offset, `${at} ANSCALE #${k + 1} B`);
  });
}
