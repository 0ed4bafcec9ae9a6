// Data values: every FORMAT variant through encoder.ts and back, and hand-written frames for each
// scaling rule of C37.118.2-2011 (notes/c37118.md 12–19), so that a mistake shared by the encoder
// and the decoder cannot hide.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigFrame } from '../../../../src/protocols/c37118/cfg-frame.js';
import { FrameType } from '../../../../src/protocols/c37118/constants.js';
import { DataColumns } from '../../../../src/protocols/c37118/data-frame.js';
import { decodeAll } from '../../../../src/protocols/c37118/decode-stream.js';
import { encodeCfg12, encodeCommand, encodeData, encodeFrame, encodeHeader } from '../../../../src/protocols/c37118/encoder.js';
import { configJson, dataJson, type PmuDataJson } from '../../../../src/protocols/c37118/json.js';
import { StreamDecoder, type Decoded } from '../../../../src/protocols/c37118/stream-decoder.js';
import {
  analog12,
  assertClose,
  configFrame,
  digitalWord,
  f32,
  framesOf,
  i16,
  loadVectors,
  phasor12,
  pmuConfig,
  u16,
} from '../../../helpers/c37118.js';

const TIME = { idcode: 5, soc: 1_700_000_000, fracsec: 250_000 };

/** A decoder with `config` active (through its encoded CFG-2 bytes, not activate()). */
function decoderFor(config: ConfigFrame): StreamDecoder {
  const decoder = new StreamDecoder();
  const frame = encodeCfg12(config);
  const decoded = decoder.decode(frame, 0, frame.length);
  assert.equal(decoded.kind, 'config', `the configuration did not parse: ${JSON.stringify(decoded)}`);
  return decoder;
}

/** A data frame written by hand: the common header, then `body` (every PMU block), then CHK. */
const dataFrame = (idcode: number, body: Buffer[], time: Partial<typeof TIME> = {}): Buffer =>
  encodeFrame(FrameType.DATA, { ...TIME, idcode, ...time }, Buffer.concat(body));

function decodeData(decoder: StreamDecoder, frame: Buffer): Extract<Decoded, { kind: 'data' }> {
  const decoded = decoder.decode(frame, 0, frame.length);
  assert.equal(decoded.kind, 'data', `not decoded as data: ${JSON.stringify(decoded)}`);
  return decoded as Extract<Decoded, { kind: 'data' }>;
}

/** Decode one hand-written data frame under a one-PMU CFG-2 and return its JSON block. */
function decodeBlock(pmu: Parameters<typeof pmuConfig>[0], body: Buffer[], time: Partial<typeof TIME> = {}): PmuDataJson {
  const config = configFrame({ idcode: 5, pmus: [pmuConfig({ idcode: 5, ...pmu })] });
  const decoder = decoderFor(config);
  return dataJson(decodeData(decoder, dataFrame(5, body, time)).columns)[0]!;
}

const NO_FREQ = [i16(0), i16(0)];

describe('C37.118 data values', () => {
  describe('every FORMAT variant', () => {
    const physical = [
      { magnitude: 120_000.4, angle: 0.523 },
      { magnitude: 812.3, angle: -2.9 },
    ];
    for (let format = 0; format < 16; format++) {
      const polar = (format & 1) !== 0;
      const floatPhasors = (format & 2) !== 0;
      const floatAnalogs = (format & 4) !== 0;
      const floatFreq = (format & 8) !== 0;
      const label = `${polar ? 'polar' : 'rectangular'} ${floatPhasors ? 'float' : 'int'} phasors, ${floatAnalogs ? 'float' : 'int'} analogs, ${floatFreq ? 'float' : 'int'} FREQ`;
      it(`round-trips FORMAT 0x${format.toString(16)} (${label}) through encoder and decoder`, () => {
        const config = configFrame({
          idcode: 5,
          pmus: [
            pmuConfig({
              idcode: 5,
              format,
              fnom: 50,
              phasors: [phasor12('VA', 915527), phasor12('IA', 0x0100_0000 | 45776)],
              analogs: [analog12('P', 0x0100_0000 | 10), analog12('Q', 0x0200_0000 | 0xfffffe)],
              digitals: [digitalWord(['B1', 'B2'], 0x0001, 0x00ff)],
            }),
          ],
        });
        const decoder = decoderFor(config);
        const layout = decoder.layout(5)!;
        const columns = new DataColumns(layout);
        physical.forEach(({ magnitude, angle }, i) => {
          columns.phasorA[i] = polar ? magnitude : magnitude * Math.cos(angle);
          columns.phasorB[i] = polar ? angle : magnitude * Math.sin(angle);
        });
        columns.stat[0] = 0x0000;
        columns.freq[0] = 50.0127;
        columns.rocof[0] = -0.37;
        columns.analog.set([1234.5, -20]);
        columns.digital[0] = 0xa5a5;
        const sent = { a: [...columns.phasorA], b: [...columns.phasorB] };
        const frame = encodeData(columns, TIME);
        const size = 14 + 2 + 2 * (floatPhasors ? 8 : 4) + (floatFreq ? 8 : 4) + 2 * (floatAnalogs ? 4 : 2) + 2 + 2;
        assert.equal(frame.length, size, 'FRAMESIZE follows the FORMAT bits');
        assert.equal(layout.frameSize, size);

        const got = decodeData(decoder, frame).columns;
        const factors = [9.15527, 0.45776];
        for (let i = 0; i < 2; i++) {
          if (floatPhasors) {
            assertClose(got.phasorA[i], sent.a[i]!, `phasor ${i} A`, 1e-7);
            assertClose(got.phasorB[i], sent.b[i]!, `phasor ${i} B`, 1e-7);
          } else if (polar) {
            assertClose(got.phasorA[i], sent.a[i]!, `phasor ${i} magnitude`, 0, factors[i]! / 2 + 1e-9);
            assertClose(got.phasorB[i], sent.b[i]!, `phasor ${i} angle`, 0, 0.5e-4 + 1e-12);
          } else {
            assertClose(got.phasorA[i], sent.a[i]!, `phasor ${i} re`, 0, factors[i]! / 2 + 1e-9);
            assertClose(got.phasorB[i], sent.b[i]!, `phasor ${i} im`, 0, factors[i]! / 2 + 1e-9);
          }
        }
        if (floatFreq) {
          assertClose(got.freq[0], 50.0127, 'FREQ', 1e-7);
          assertClose(got.rocof[0], -0.37, 'DFREQ', 1e-7);
        } else {
          assertClose(got.freq[0], 50.0127, 'FREQ', 0, 0.0005 + 1e-9);
          assertClose(got.rocof[0], -0.37, 'DFREQ', 0, 0.005 + 1e-9);
        }
        if (floatAnalogs) {
          assertClose(got.analog[0], 1234.5, 'analog P', 1e-7);
          assertClose(got.analog[1], -20, 'analog Q', 1e-7);
        } else {
          assertClose(got.analog[0], 1234.5, 'analog P', 0, 10 / 2);
          assertClose(got.analog[1], -20, 'analog Q', 0, 2 / 2);
        }
        assert.equal(got.digital[0], 0xa5a5);

        // Whatever the representation, the JSON tells the same physical phasor.
        const json = dataJson(got)[0]!;
        physical.forEach(({ magnitude, angle }, i) => {
          assertClose(json.phasors[i]!.magnitude, magnitude, `phasor ${i} |X|`, 1e-6, floatPhasors ? 0 : factors[i]!);
          assertClose(json.phasors[i]!.angleRad, angle, `phasor ${i} angle`, 0, 1e-3);
        });
        assert.deepEqual(
          json.phasors.map((p) => p.unit),
          ['V', 'A'],
        );
        // And the decoded frame encodes back to the very same bytes.
        assert.ok(encodeData(got, TIME).equals(frame), 'decode → encode is not the identity');
      });
    }
  });

  describe('phasors', () => {
    it('scales integer phasors by PHUNIT × 10^-5 and reads the unit from its top byte', () => {
      const block = decodeBlock(
        { format: 0x0, phasors: [phasor12('VA', 915527), phasor12('IA', 0x0100_0000 | 45776)] },
        [u16(0), i16(1000), i16(-2000), i16(1092), i16(0), ...NO_FREQ],
      );
      assertClose(block.phasors[0]!.re, 9155.27, 're');
      assertClose(block.phasors[0]!.im, -18310.54, 'im');
      assertClose(block.phasors[1]!.re, 499.87392, 'I re');
      assert.deepEqual(
        block.phasors.map((p) => p.unit),
        ['V', 'A'],
      );
    });

    it('ignores PHUNIT for float phasors', () => {
      const block = decodeBlock({ format: 0x2, phasors: [phasor12('VA', 915527)] }, [u16(0), f32(1000), f32(-2000), ...NO_FREQ]);
      assert.equal(block.phasors[0]!.re, 1000);
      assert.equal(block.phasors[0]!.im, -2000);
    });

    it('reads integer polar magnitudes unsigned and scaled, angles as raw / 10^4 rad unscaled', () => {
      const block = decodeBlock({ format: 0x1, phasors: [phasor12('A', 50000), phasor12('B', 50000), phasor12('C', 50000)] }, [
        u16(0),
        u16(65535),
        i16(31416),
        u16(40000),
        i16(-15708),
        u16(0),
        i16(0),
        ...NO_FREQ,
      ]);
      assertClose(block.phasors[0]!.magnitude, 32767.5, 'magnitude 65535 × 0.5');
      assertClose(block.phasors[0]!.angleRad, 3.1416, 'angle 31416 / 10^4');
      assertClose(block.phasors[1]!.magnitude, 20000, 'magnitude 40000 × 0.5 (above int16)');
      assertClose(block.phasors[1]!.angleRad, -1.5708, 'angle −15708 / 10^4');
      assertClose(block.phasors[1]!.re, 20000 * Math.cos(-1.5708), 're from polar');
      assertClose(block.phasors[1]!.im, 20000 * Math.sin(-1.5708), 'im from polar');
      assert.equal(block.phasors[2]!.magnitude, 0);
    });

    it('keeps float polar angles beyond ±π as sent', () => {
      const block = decodeBlock({ format: 0x3, phasors: [phasor12('A', 1), phasor12('B', 1)] }, [
        u16(0),
        f32(10),
        f32(4.0),
        f32(2),
        f32(-7.5),
        ...NO_FREQ,
      ]);
      assert.equal(block.phasors[0]!.angleRad, 4.0);
      assert.equal(block.phasors[1]!.angleRad, -7.5);
      assertClose(block.phasors[0]!.re, 10 * Math.cos(4), 're');
      assertClose(block.phasors[1]!.im, 2 * Math.sin(-7.5), 'im');
    });
  });

  describe('frequency', () => {
    it('reads integer FREQ as FNOM + mHz / 1000 for 50 and 60 Hz, and integer DFREQ as raw / 100', () => {
      const at50 = decodeBlock({ format: 0, fnom: 50 }, [u16(0), i16(-2500), i16(-150)]);
      assert.equal(at50.freq, 47.5);
      assert.equal(at50.rocof, -1.5);
      const at60 = decodeBlock({ format: 0, fnom: 60 }, [u16(0), i16(2500), i16(32767)]);
      assert.equal(at60.freq, 62.5);
      assert.equal(at60.rocof, 327.67);
      const nominal = decodeBlock({ format: 0, fnom: 60 }, [u16(0), i16(0), i16(0)]);
      assert.equal(nominal.freq, 60);
      assert.equal(nominal.rocof, 0);
    });

    it('reads float FREQ as absolute Hz and float DFREQ as Hz/s, not as deviations', () => {
      const block = decodeBlock({ format: 0x8, fnom: 50 }, [u16(0), f32(49.98), f32(-0.25)]);
      assertClose(block.freq, 49.98, 'FREQ', 1e-7);
      assert.equal(block.rocof, -0.25);
    });
  });

  describe('absent values', () => {
    it('decodes the int16 0x8000 marker as NaN in the columns and null in the JSON', () => {
      const config = configFrame({
        idcode: 5,
        pmus: [
          pmuConfig({
            idcode: 5,
            format: 0,
            fnom: 50,
            phasors: [phasor12('VA', 100000)],
            analogs: [analog12('P', 1)],
          }),
        ],
      });
      const decoder = decoderFor(config);
      const frame = dataFrame(5, [u16(0), u16(0x8000), i16(5), u16(0x8000), u16(0x8000), u16(0x8000)]);
      const columns = decodeData(decoder, frame).columns;
      assert.ok(Number.isNaN(columns.phasorA[0]!));
      assert.equal(columns.phasorB[0], 5);
      assert.ok(Number.isNaN(columns.freq[0]!));
      assert.ok(Number.isNaN(columns.rocof[0]!));
      assert.ok(Number.isNaN(columns.analog[0]!));
      const json = dataJson(columns)[0]!;
      assert.deepEqual(
        [json.phasors[0]!.re, json.phasors[0]!.magnitude, json.phasors[0]!.angleRad, json.freq, json.rocof, json.analogs[0]!.value],
        [null, null, null, null, null, null],
      );
      assert.equal(json.phasors[0]!.im, 5);
      // …and the JSON text says null, not NaN.
      assert.match(JSON.stringify(json), /"freq":null/);
      // The encoder writes NaN back as the marker.
      assert.ok(encodeData(columns, TIME).equals(frame));
    });

    it('decodes an integer polar angle of 0x8000 as absent', () => {
      const block = decodeBlock({ format: 0x1, phasors: [phasor12('A', 100000)] }, [u16(0), u16(100), u16(0x8000), ...NO_FREQ]);
      assert.equal(block.phasors[0]!.magnitude, 100);
      assert.equal(block.phasors[0]!.angleRad, null);
      assert.equal(block.phasors[0]!.re, null);
    });

    it('decodes float NaN phasors, FREQ, DFREQ and analogs as null in the JSON', () => {
      const block = decodeBlock({ format: 0xe, phasors: [phasor12('A', 1)], analogs: [analog12('P', 1)] }, [
        u16(0),
        f32(NaN),
        f32(NaN),
        f32(NaN),
        f32(NaN),
        f32(NaN),
      ]);
      assert.deepEqual(
        [block.phasors[0]!.re, block.phasors[0]!.im, block.phasors[0]!.magnitude, block.freq, block.rocof, block.analogs[0]!.value],
        [null, null, null, null, null, null],
      );
    });

    it('marks a PMU block with STAT 0xFFFF as absent and invalid', () => {
      const block = decodeBlock({ format: 0x8 }, [u16(0xffff), f32(NaN), f32(NaN)]);
      assert.deepEqual(block.quality, { level: 'bad', reasons: ['data_invalid', 'absent'] });
    });
  });

  describe('analogs and digitals', () => {
    it('sign-extends the 24-bit ANUNIT scale and keeps user-defined type bytes 65–255', () => {
      const analogs = [
        analog12('POW', 0x0000_0003),
        analog12('RMS_NEG', 0x01ff_ffff),
        analog12('U65', 0x41ff_fffe),
        analog12('U200', 0xc880_0000),
        analog12('U255', 0xff7f_ffff),
      ];
      const config = configFrame({ idcode: 5, pmus: [pmuConfig({ idcode: 5, format: 0, analogs })] });
      const decoder = decoderFor(config);
      const parsed = decoder.layout(5)!.config.pmus[0]!.analogs;
      assert.deepEqual(
        parsed.map((a) => [a.type, a.factor, a.raw]),
        [
          [0, 3, 0x0000_0003],
          [1, -1, 0x01ff_ffff],
          [65, -2, 0x41ff_fffe],
          [200, -8_388_608, 0xc880_0000],
          [255, 8_388_607, 0xff7f_ffff],
        ],
      );
      const described = configJson(decoder.layout(5)!.config) as { pmus: { analogs: { type: string }[] }[] };
      assert.deepEqual(
        described.pmus[0]!.analogs.map((a) => a.type),
        ['pow', 'rms', 'user-65', 'user-200', 'user-255'],
      );
      const columns = decodeData(decoder, dataFrame(5, [u16(0), ...NO_FREQ, i16(7), i16(7), i16(-3), i16(1), i16(1)])).columns;
      assert.deepEqual([...columns.analog], [21, -7, 6, -8_388_608, 8_388_607]);
    });

    it('ignores ANUNIT for float analogs', () => {
      const block = decodeBlock({ format: 0x4, analogs: [analog12('P', 0x01ff_ffff)] }, [u16(0), ...NO_FREQ, f32(12.5)]);
      assert.equal(block.analogs[0]!.value, 12.5);
    });

    it('computes DIGUNIT alarm bits as (word XOR normal) AND valid', () => {
      const block = decodeBlock({ format: 0, digitals: [digitalWord(['IN1'], 0x00f0, 0x0fff), digitalWord([], 0xffff, 0x0000)] }, [
        u16(0),
        ...NO_FREQ,
        u16(0x0a5a),
        u16(0x1234),
      ]);
      assert.deepEqual(
        block.digitals.map((d) => [d.word, d.alarms]),
        [
          [0x0a5a, 0x0aaa],
          [0x1234, 0],
        ],
      );
      assert.equal(block.digitals[0]!.labels[0], 'IN1');
    });
  });

  describe('the encoder', () => {
    it('re-encodes every frame of every reference vector to the identical bytes', () => {
      for (const vector of loadVectors()) {
        const decoder = new StreamDecoder();
        for (const frame of framesOf(vector.bytes)) {
          const decoded = decoder.decode(frame, 0, frame.length);
          const time = { idcode: frame.readUInt16BE(4), soc: frame.readUInt32BE(6), fracsec: frame.readUInt32BE(10), version: frame[1]! & 0xf };
          let again: Buffer;
          switch (decoded.kind) {
            case 'config':
              again = encodeCfg12(decoded.config);
              break;
            case 'data':
              again = encodeData(decoded.columns, time);
              break;
            case 'command':
              again = encodeCommand(time, decoded.command.command, decoded.command.extended);
              break;
            case 'header':
              again = encodeHeader(time, decoded.text);
              break;
            default:
              assert.fail(`${vector.name}: ${JSON.stringify(decoded)}`);
          }
          assert.equal(again.toString('hex'), frame.toString('hex'), `${vector.name}: a ${decoded.kind} frame`);
        }
      }
    });

    it('encodes a configuration larger than its writer’s first 256-byte buffer', () => {
      // Regression: ByteWriter wrote into its old buffer when a write made it grow.
      const config = configFrame({
        idcode: 9,
        pmus: [pmuConfig({ idcode: 9, phasors: Array.from({ length: 40 }, (_, i) => phasor12(`PH${i}`, 1000 + i)) })],
      });
      const frame = encodeCfg12(config);
      assert.equal(frame.length, 14 + 6 + 16 + 2 + 2 + 6 + 40 * 16 + 40 * 4 + 4 + 2 + 2);
      const decoded = new StreamDecoder().decode(frame, 0, frame.length);
      assert.equal(decoded.kind, 'config');
    });

    it('saturates out-of-range integer values instead of wrapping', () => {
      const config = configFrame({ idcode: 5, pmus: [pmuConfig({ idcode: 5, format: 0, phasors: [phasor12('A', 100000)] })] });
      const decoder = decoderFor(config);
      const columns = new DataColumns(decoder.layout(5)!);
      columns.phasorA[0] = 1e9;
      columns.phasorB[0] = -1e9;
      columns.freq[0] = 60;
      const frame = encodeData(columns, TIME);
      assert.equal(frame.readInt16BE(16), 32767);
      assert.equal(frame.readInt16BE(18), -32767, 'saturates at −32767: −32768 is the absent marker');
    });
  });

  it('decodes the same values through decodeAll as through the columns', () => {
    const config = configFrame({ idcode: 5, pmus: [pmuConfig({ idcode: 5, format: 0x1, fnom: 50, phasors: [phasor12('A', 50000)] })] });
    const frame = dataFrame(5, [u16(0), u16(1000), i16(5000), i16(-100), i16(25)]);
    const lines = decodeAll(Buffer.concat([encodeCfg12(config), frame]));
    const pmu = (lines[1]!['pmus'] as PmuDataJson[])[0]!;
    assert.equal(pmu.phasors[0]!.magnitude, 500);
    assert.equal(pmu.phasors[0]!.angleRad, 0.5);
    assert.equal(pmu.freq, 49.9);
    assert.equal(pmu.rocof, 0.25);
  });
});
