// Configuration frames CFG-1 and CFG-2 (Table 9), and malformed configurations of every kind
// (notes/c37118.md 6, 12, 19, 20). CFG-3 is in cfg3.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigFrame } from '../../../../src/protocols/c37118/cfg-frame.js';
import { FrameType } from '../../../../src/protocols/c37118/constants.js';
import { encodeCfg12, encodeCfg3, encodeFrame } from '../../../../src/protocols/c37118/encoder.js';
import { configJson } from '../../../../src/protocols/c37118/json.js';
import { StreamDecoder, type Decoded } from '../../../../src/protocols/c37118/stream-decoder.js';
import {
  analog12,
  assertClose,
  assertFault,
  comparable,
  configFrame,
  configOf,
  decodeFrame,
  digitalWord,
  framesOf,
  loadVectors,
  name16,
  phasor12,
  phasor3,
  pmuConfig,
  pmuConfig3,
  recrc,
  u16,
  u32,
  u8,
} from '../../../helpers/c37118.js';

const TIME = { idcode: 60, soc: 1_700_000_000, fracsec: 0 };

/** A CFG-2 for one PMU with one phasor, one analog and one digital word, as offsets are known. */
const simple = (): ConfigFrame =>
  configFrame({
    idcode: 60,
    pmus: [
      pmuConfig({
        station: 'ABC',
        idcode: 61,
        phasors: [phasor12('VA', 915527)],
        analogs: [analog12('AN', 1)],
        digitals: [digitalWord(['BRK 1'])],
      }),
    ],
  });
// Offsets in `simple()`'s CFG-2: STN 20, IDCODE 36, FORMAT 38, PHNMR 40, ANNMR 42, DGNMR 44, CHNAM 46.
const STN = 20;
const CHNAM = 46;

describe('C37.118 CFG-1, CFG-2 and malformed configurations', () => {
  describe('CFG-1 and CFG-2', () => {
    it('trims names padded with spaces or NULs, and keeps inner spaces', () => {
      const frame = encodeCfg12(simple());
      name16('ABC', 0x00).copy(frame, STN);
      Buffer.concat([Buffer.from('VA '), Buffer.alloc(13)]).copy(frame, CHNAM);
      name16('BRK 1', 0x00).copy(frame, CHNAM + 32);
      const pmu = configOf(decodeFrame(recrc(frame))).pmus[0]!;
      assert.equal(pmu.station, 'ABC');
      assert.equal(pmu.phasors[0]!.name, 'VA');
      assert.equal(pmu.digitals[0]!.labels[0], 'BRK 1');
    });

    it('makes all-blank digital labels empty strings, whether padded with spaces or NULs', () => {
      const frame = encodeCfg12(simple());
      name16('', 0x00).copy(frame, CHNAM + 32 + 16); // label of bit 1: sixteen NULs
      const labels = configOf(decodeFrame(recrc(frame))).pmus[0]!.digitals[0]!.labels;
      assert.equal(labels.length, 16);
      assert.deepEqual(labels, ['BRK 1', ...Array<string>(15).fill('')]);
    });

    it('masks FORMAT to its low four bits and sizes data frames by the masked value', () => {
      const frame = encodeCfg12(simple());
      frame.writeUInt16BE(0xfff7, 38);
      const decoder = new StreamDecoder();
      const config = configOf(decodeFrame(recrc(frame), decoder));
      assert.equal(config.pmus[0]!.format, 0x7);
      // STAT 2 + float polar phasor 8 + int FREQ/DFREQ 4 + float analog 4 + digital 2.
      assert.equal(decoder.layout(60)!.frameSize, 14 + 2 + 8 + 4 + 4 + 2 + 2);
    });

    it('masks the flags byte of TIME_BASE', () => {
      const frame = encodeCfg12(simple());
      frame[14] = 0x5a;
      assert.equal(configOf(decodeFrame(recrc(frame))).timeBase, 1_000_000);
    });

    it('reads FNOM from bit 0 only: 1 is 50 Hz, 0 is 60 Hz', () => {
      const config = simple();
      const frame = encodeCfg12(config);
      const fnomAt = frame.length - 2 - 2 - 2 - 2; // … FNOM, CFGCNT, DATA_RATE, CHK
      const fnoms = [
        [0x0000, 60],
        [0x0001, 50],
        [0xfffe, 60],
        [0x8001, 50],
      ] as const;
      for (const [word, hz] of fnoms) {
        frame.writeUInt16BE(word, fnomAt);
        assert.equal(configOf(decodeFrame(recrc(frame))).pmus[0]!.fnom, hz, `FNOM 0x${word.toString(16)}`);
      }
    });

    it('reads DATA_RATE as signed: −5 is one frame every five seconds', () => {
      const frame = encodeCfg12(configFrame({ dataRate: -5 }));
      assert.equal(frame.readUInt16BE(frame.length - 4), 0xfffb);
      const config = configOf(decodeFrame(frame));
      assert.equal(config.dataRate, -5);
      assert.equal(configJson(config)['framesPerSecond'], 0.2);
    });

    it('keeps CFGCNT, FNOM and FORMAT per PMU, and PHUNIT/ANUNIT raw words beside their factors', () => {
      const config = configFrame({
        idcode: 100,
        pmus: [
          pmuConfig({ idcode: 1, cfgcnt: 7, fnom: 50, format: 0x0, phasors: [phasor12('A', 0x0100_1234)] }),
          pmuConfig({ idcode: 2, cfgcnt: 65535, fnom: 60, format: 0xf, analogs: [analog12('B', 0x02ff_fff0)] }),
        ],
      });
      const parsed = configOf(decodeFrame(encodeCfg12(config)));
      assert.deepEqual(
        parsed.pmus.map((p) => [p.idcode, p.cfgcnt, p.fnom, p.format]),
        [
          [1, 7, 50, 0x0],
          [2, 65535, 60, 0xf],
        ],
      );
      assert.equal(parsed.pmus[0]!.phasors[0]!.raw, 0x0100_1234);
      assertClose(parsed.pmus[0]!.phasors[0]!.factor, 0x1234 / 1e5, 'PHUNIT factor');
      assert.equal(parsed.pmus[0]!.phasors[0]!.unit, 'A');
      assert.deepEqual([parsed.pmus[1]!.analogs[0]!.raw, parsed.pmus[1]!.analogs[0]!.factor], [0x02ff_fff0, -16]);
    });

    it('round-trips CFG-1 and CFG-2 through the encoder', () => {
      for (const kind of ['cfg1', 'cfg2'] as const) {
        const config = configFrame({
          kind,
          version: 1,
          idcode: 7734,
          soc: 1_149_577_200,
          fracsec: 0x5607_1098,
          timeBase: 0xffffff,
          dataRate: 120,
          pmus: [
            pmuConfig({
              station: 'Station A',
              idcode: 7734,
              format: 0x4,
              fnom: 60,
              cfgcnt: 22,
              phasors: [phasor12('VA', 915527), phasor12('I1', 0x0100_b2d0)],
              analogs: [analog12('ANALOG1', 0x0000_0001), analog12('ANALOG2', 0x4180_0000)],
              digitals: [digitalWord(['BREAKER 1 STATUS', '', 'BREAKER 3 STATUS'], 0x0004, 0xfff0)],
            }),
            pmuConfig({ station: 'B', idcode: 7735, format: 0xb }),
          ],
        });
        const parsed = configOf(decodeFrame(encodeCfg12(config)));
        assert.deepEqual(comparable(parsed), comparable(config), kind);
      }
    });
  });

  describe('malformed configurations', () => {
    it('reports channel counts larger than the frame as malformed-config', () => {
      const frame = encodeCfg12(simple());
      frame.writeUInt16BE(1000, 40); // PHNMR
      assertFault(decodeFrame(recrc(frame)), 'malformed-config', 'PHNMR 1000');
      frame.writeUInt16BE(1, 40);
      frame.writeUInt16BE(0xffff, 44); // DGNMR
      assertFault(decodeFrame(recrc(frame)), 'malformed-config', 'DGNMR 65535');
      const many = encodeCfg12(simple());
      many.writeUInt16BE(0xffff, 18); // NUM_PMU
      assertFault(decodeFrame(recrc(many)), 'malformed-config', 'NUM_PMU 65535');
    });

    it('reports bytes left after DATA_RATE as malformed-config', () => {
      const frame = encodeCfg12(simple());
      const body = Buffer.concat([frame.subarray(14, frame.length - 2), Buffer.from([0, 0])]);
      const longer = encodeFrame(FrameType.CFG2, TIME, body);
      const decoded = decodeFrame(longer);
      assertFault(decoded, 'malformed-config', 'two trailing bytes');
      assert.match((decoded as { detail: string }).detail, /2 bytes left/);
    });

    it('reports a CFG-2 with an empty body, and a CFG-3 with only CONT_IDX, as malformed-config', () => {
      assertFault(decodeFrame(encodeFrame(FrameType.CFG2, TIME, Buffer.alloc(0))), 'malformed-config', 'empty CFG-2');
      assertFault(decodeFrame(encodeFrame(FrameType.CFG1, TIME, Buffer.alloc(0))), 'malformed-config', 'empty CFG-1');
      assertFault(decodeFrame(encodeFrame(FrameType.CFG3, TIME, u16(0))), 'malformed-config', 'CFG-3 of CONT_IDX only');
    });

    it('reports a CFG-3 whose name length runs past the frame as malformed-config', () => {
      const body = Buffer.concat([u16(0), u32(1_000_000), u16(1), u8(200), Buffer.from('short')]);
      assertFault(decodeFrame(encodeFrame(FrameType.CFG3, TIME, body)), 'malformed-config', 'STN length 200');
    });

    it('reports every vector configuration cut short at any length as malformed-config, never throwing', () => {
      const configs = loadVectors()
        .flatMap((v) => framesOf(v.bytes))
        .filter((f) => [2, 3].includes((f[1]! >> 4) & 7));
      configs.push(encodeCfg3(configFrame({ kind: 'cfg3', pmus: [pmuConfig3({ phasors: [phasor3('VA')], digitals: [digitalWord([])] })] }))[0]!);
      for (const frame of configs) {
        const type = (frame[1]! >> 4) & 7;
        const body = frame.subarray(14, frame.length - 2);
        for (let length = 0; length < body.length; length++) {
          const cut = encodeFrame(type, { ...TIME, version: frame[1]! & 0xf }, body.subarray(0, length));
          let decoded: Decoded | undefined;
          assert.doesNotThrow(() => {
            decoded = decodeFrame(cut);
          });
          assertFault(decoded!, 'malformed-config', `type ${type} body cut to ${length} of ${body.length}`);
        }
      }
    });

    it('leaves the active configuration in place when a malformed one arrives', () => {
      const decoder = new StreamDecoder();
      const good = encodeCfg12(simple());
      configOf(decodeFrame(good, decoder));
      const layout = decoder.layout(60);
      const bad = Buffer.from(good);
      bad.writeUInt16BE(1000, 40);
      assertFault(decodeFrame(recrc(bad), decoder), 'malformed-config', 'bad PHNMR');
      assert.equal(decoder.layout(60), layout);
    });
  });
});
