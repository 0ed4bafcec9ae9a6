// The decoder's state between frames: which configuration is active for which stream, stale
// configurations, and the small frames (notes/c37118.md 3, 5, 6).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigFrame } from '../../../../src/protocols/c37118/cfg-frame.js';
import { Command, FrameType } from '../../../../src/protocols/c37118/constants.js';
import { DataColumns } from '../../../../src/protocols/c37118/data-frame.js';
import { decodeAll } from '../../../../src/protocols/c37118/decode-stream.js';
import { encodeCfg12, encodeCommand, encodeData, encodeFrame, encodeHeader } from '../../../../src/protocols/c37118/encoder.js';
import { StreamDecoder, type Decoded } from '../../../../src/protocols/c37118/stream-decoder.js';
import { configFrame, i16, phasor12, pmuConfig, u16 } from '../../../helpers/c37118.js';

const TIME = { soc: 1_700_000_000, fracsec: 0 };
const decodeOne = (decoder: StreamDecoder, frame: Buffer): Decoded => decoder.decode(frame, 0, frame.length);

/** One PMU with `phasors` integer rectangular phasors. */
const oneConfig = (idcode: number, phasors: number, kind: ConfigFrame['kind'] = 'cfg2'): ConfigFrame =>
  configFrame({
    kind,
    idcode,
    pmus: [pmuConfig({ idcode, phasors: Array.from({ length: phasors }, (_, i) => phasor12(`P${i}`, 100000)) })],
  });

/** A data frame for `config` whose phasor values count up from `first`. */
function dataFor(config: ConfigFrame, first: number): Buffer {
  const decoder = new StreamDecoder();
  const layout = decoder.activate(config);
  const columns = new DataColumns(layout);
  columns.phasorA.forEach((_, i) => {
    columns.phasorA[i] = first + i;
    columns.phasorB[i] = -(first + i);
  });
  columns.freq.fill(60);
  return encodeData(columns, { ...TIME, idcode: config.idcode });
}

const faultReason = (d: Decoded): string | undefined => (d.kind === 'fault' ? d.reason : undefined);

describe('C37.118 stream decoder', () => {
  describe('which configuration decodes data', () => {
    it('reports a data frame before any configuration as no-config', () => {
      const decoded = decodeOne(new StreamDecoder(), dataFor(oneConfig(5, 1), 1));
      assert.equal(faultReason(decoded), 'no-config');
      assert.equal(decoded.idcode, 5);
    });

    it('reports a CFG-1 without activating it: data after only a CFG-1 is no-config', () => {
      const decoder = new StreamDecoder();
      const cfg1 = oneConfig(5, 1, 'cfg1');
      const decoded = decodeOne(decoder, encodeCfg12(cfg1));
      assert.equal(decoded.kind, 'config');
      assert.equal((decoded as { active: boolean }).active, false);
      assert.equal((decoded as { config: ConfigFrame }).config.kind, 'cfg1');
      assert.equal(decoder.layout(5), undefined);
      assert.equal(faultReason(decodeOne(decoder, dataFor(cfg1, 1))), 'no-config');
    });

    it('keeps the active CFG-2 when a CFG-1 arrives after it', () => {
      const decoder = new StreamDecoder();
      decodeOne(decoder, encodeCfg12(oneConfig(5, 1)));
      const layout = decoder.layout(5);
      decodeOne(decoder, encodeCfg12(oneConfig(5, 3, 'cfg1')));
      assert.equal(decoder.layout(5), layout);
      assert.equal(decodeOne(decoder, dataFor(oneConfig(5, 1), 1)).kind, 'data');
    });

    it('reports a data frame whose FRAMESIZE disagrees with the configuration as size-mismatch, and decodes the next good one', () => {
      const decoder = new StreamDecoder();
      const config = oneConfig(5, 2);
      decodeOne(decoder, encodeCfg12(config));
      const good = dataFor(config, 10);
      const body = good.subarray(14, good.length - 2);
      for (const wrong of [Buffer.concat([body, u16(0)]), body.subarray(0, body.length - 2)]) {
        const frame = encodeFrame(FrameType.DATA, { ...TIME, idcode: 5 }, wrong);
        const decoded = decodeOne(decoder, frame);
        assert.equal(faultReason(decoded), 'size-mismatch', `FRAMESIZE ${frame.length}`);
        assert.match((decoded as { detail: string }).detail, new RegExp(`FRAMESIZE ${frame.length} .* ${good.length}`));
      }
      const decoded = decodeOne(decoder, good);
      assert.equal(decoded.kind, 'data');
      assert.deepEqual([...(decoded as { columns: DataColumns }).columns.phasorA], [10, 11]);
    });

    it('replaces the layout when a new CFG-2 arrives: the new size decodes, the old one is stale', () => {
      const decoder = new StreamDecoder();
      const before = oneConfig(5, 1);
      const after = { ...oneConfig(5, 3), pmus: [{ ...oneConfig(5, 3).pmus[0]!, format: 0x2, cfgcnt: 2 }] };
      decodeOne(decoder, encodeCfg12(before));
      const first = decoder.layout(5)!;
      assert.equal(decodeOne(decoder, dataFor(before, 1)).kind, 'data');
      decodeOne(decoder, encodeCfg12(after));
      const second = decoder.layout(5)!;
      assert.notEqual(second, first);
      assert.equal(second.config.pmus[0]!.cfgcnt, 2);
      assert.equal(faultReason(decodeOne(decoder, dataFor(before, 1))), 'size-mismatch');
      const decoded = decodeOne(decoder, dataFor(after, 7));
      assert.equal(decoded.kind, 'data');
      assert.deepEqual([...(decoded as { columns: DataColumns }).columns.phasorA], [7, 8, 9]);
    });

    it('keys configurations by the stream IDCODE, not the PMU IDCODEs inside, across interleaved streams', () => {
      // Streams 1000 and 2000 both carry a PMU with IDCODE 11, in different formats.
      const s1000 = configFrame({
        idcode: 1000,
        pmus: [
          pmuConfig({ idcode: 11, format: 0x0, phasors: [phasor12('A', 100000)] }),
          pmuConfig({ idcode: 12, format: 0xf, phasors: [phasor12('B', 1), phasor12('C', 1)] }),
        ],
      });
      const s2000 = configFrame({ idcode: 2000, pmus: [pmuConfig({ idcode: 11, format: 0x2, phasors: [phasor12('A', 1)] })] });
      const decoder = new StreamDecoder();
      decodeOne(decoder, encodeCfg12(s1000));
      decodeOne(decoder, encodeCfg12(s2000));
      assert.equal(decoder.layout(11), undefined);
      for (let round = 0; round < 3; round++) {
        const a = decodeOne(decoder, dataFor(s1000, 100 + round));
        const b = decodeOne(decoder, dataFor(s2000, 200 + round));
        assert.equal(a.kind, 'data');
        assert.equal(b.kind, 'data');
        assert.deepEqual([...(a as { columns: DataColumns }).columns.phasorA], [100 + round, 101 + round, 102 + round]);
        assert.deepEqual([...(b as { columns: DataColumns }).columns.phasorA], [200 + round]);
      }
      assert.equal(faultReason(decodeOne(decoder, dataFor(oneConfig(3000, 1), 1))), 'no-config');
      assert.equal(decoder.layout(1000)!.pmuIndex(12), 1);
      assert.equal(decoder.layout(1000)!.pmuIndex(99), -1);
    });

    it('keeps connections apart: one decoder per connection', () => {
      const config = oneConfig(5, 1);
      const a = new StreamDecoder();
      const b = new StreamDecoder();
      decodeOne(a, encodeCfg12(config));
      assert.equal(decodeOne(a, dataFor(config, 1)).kind, 'data');
      assert.equal(faultReason(decodeOne(b, dataFor(config, 1))), 'no-config');
    });

    it('forgets a stream on forget(), so its data is no-config until the next configuration', () => {
      const decoder = new StreamDecoder();
      const config = oneConfig(5, 1);
      decodeOne(decoder, encodeCfg12(config));
      decoder.forget(5);
      assert.equal(faultReason(decodeOne(decoder, dataFor(config, 1))), 'no-config');
    });

    it('returns the same reused result object for every data frame of a stream', () => {
      const decoder = new StreamDecoder();
      const config = oneConfig(5, 1);
      decodeOne(decoder, encodeCfg12(config));
      const first = decodeOne(decoder, dataFor(config, 1));
      const second = decodeOne(decoder, dataFor(config, 2));
      assert.equal(first, second);
      assert.equal((second as { columns: DataColumns }).columns.phasorA[0], 2);
    });
  });

  describe('commands and headers', () => {
    const time = { ...TIME, idcode: 241 };

    it('decodes every command code, with its name in the JSON', () => {
      const codes: [number, string][] = [
        [Command.DATA_OFF, 'data-off'],
        [Command.DATA_ON, 'data-on'],
        [Command.SEND_HEADER, 'send-header'],
        [Command.SEND_CFG1, 'send-cfg1'],
        [Command.SEND_CFG2, 'send-cfg2'],
        [Command.SEND_CFG3, 'send-cfg3'],
        [Command.EXTENDED_FRAME, 'extended-frame'],
        [0x0007, 'reserved-or-user'],
        [0x0100, 'reserved-or-user'],
        [0x0fff, 'reserved-or-user'],
        [0xffff, 'reserved-or-user'],
      ];
      const stream = Buffer.concat(codes.map(([code]) => encodeCommand(time, code)));
      const lines = decodeAll(stream);
      assert.deepEqual(
        lines.map((l) => [l.type, l['idcode'], l['command'], l['commandName'], l['extended']]),
        codes.map(([code, name]) => ['command', 241, code, name, undefined]),
      );
      for (const [code] of codes) {
        const frame = encodeCommand(time, code);
        assert.equal(frame[1], 0x42, 'type 4, version 2');
        const decoded = decodeOne(new StreamDecoder(), frame);
        assert.deepEqual(decoded, { kind: 'command', idcode: 241, command: { command: code, extended: Buffer.alloc(0) } });
      }
    });

    it('decodes an extended frame command with even-length data', () => {
      const data = Buffer.from('0102030405060708', 'hex');
      const decoded = decodeOne(new StreamDecoder(), encodeCommand(time, Command.EXTENDED_FRAME, data));
      assert.equal(decoded.kind, 'command');
      assert.deepEqual((decoded as { command: { extended: Buffer } }).command.extended, data);
      const [line] = decodeAll(encodeCommand(time, Command.EXTENDED_FRAME, data));
      assert.equal(line!['extended'], '0102030405060708');
    });

    it('reports an extended frame command with odd-length data as malformed-command', () => {
      const decoded = decodeOne(new StreamDecoder(), encodeCommand(time, Command.EXTENDED_FRAME, Buffer.from([1, 2, 3])));
      assert.equal(faultReason(decoded), 'malformed-command');
    });

    it('reports a command frame with no CMD word as malformed-command', () => {
      const empty = encodeFrame(FrameType.COMMAND, time, Buffer.alloc(0));
      assert.equal(faultReason(decodeOne(new StreamDecoder(), empty)), 'malformed-command');
      const oneByte = encodeFrame(FrameType.COMMAND, time, Buffer.from([0]));
      assert.equal(faultReason(decodeOne(new StreamDecoder(), oneByte)), 'malformed-command');
    });

    it('keeps unexpected bytes after a plain command as its extended data', () => {
      const frame = encodeFrame(FrameType.COMMAND, time, Buffer.concat([u16(Command.DATA_ON), i16(-1)]));
      const decoded = decodeOne(new StreamDecoder(), frame);
      assert.equal(decoded.kind, 'command');
      assert.deepEqual((decoded as { command: { extended: Buffer } }).command.extended, Buffer.from('ffff', 'hex'));
    });

    it('reads header text as Latin-1 with trailing NULs removed, whatever the bytes', () => {
      const frame = encodeFrame(FrameType.HEADER, time, Buffer.concat([Buffer.from('PMU Nord \xe9\xff', 'latin1'), Buffer.alloc(5)]));
      assert.deepEqual(decodeOne(new StreamDecoder(), frame), { kind: 'header', idcode: 241, text: 'PMU Nord \xe9\xff' });
      assert.deepEqual(decodeOne(new StreamDecoder(), encodeHeader(time, 'hello')), { kind: 'header', idcode: 241, text: 'hello' });
    });
  });
});
