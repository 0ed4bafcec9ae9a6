import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameType } from '../../../../src/protocols/c37118/constants.js';
import { decodeAll } from '../../../../src/protocols/c37118/decode-stream.js';
import { encodeCommand, encodeFrame, encodeHeader } from '../../../../src/protocols/c37118/encoder.js';
import { Framer } from '../../../../src/protocols/c37118/framer.js';
import { StreamDecoder } from '../../../../src/protocols/c37118/stream-decoder.js';
import { seededRandom } from '../../../helpers/wait.js';
import {
  assertAccountsFor,
  drain,
  frameChunks,
  frameSpans,
  framesOf,
  loadVector,
  loadVectors,
  onlyFrames,
  onlyGarbage,
  recrc,
  type Out,
} from '../../../helpers/c37118.js';

const vectors = loadVectors();
const all = Buffer.concat(vectors.map((v) => v.bytes));
const annex = loadVector('annex_d').bytes;
const time = { idcode: 7, soc: 1_700_000_000, fracsec: 0 };

/** Frames and garbage of `stream` pushed whole, then flushed. */
const frameAll = (stream: Buffer, framer = new Framer()): Out[] => frameChunks(framer, [stream]);

/** `stream` cut at the given offsets. */
function cut(stream: Buffer, at: number[]): Buffer[] {
  const bounds = [0, ...at, stream.length];
  return bounds.slice(1).map((end, i) => stream.subarray(bounds[i]!, end));
}

/** Random chunk sizes from 1 to maxChunk. */
function randomChunks(stream: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function assertSameFrames(outs: Out[], stream: Buffer, what: string): void {
  const garbage = onlyGarbage(outs);
  assert.deepEqual(garbage, [], `${what}: unexpected garbage`);
  const got = onlyFrames(outs);
  const want = framesOf(stream);
  assert.equal(got.length, want.length, `${what}: frame count`);
  got.forEach((frame, i) => assert.ok(frame.equals(want[i]!), `${what}: frame ${i} differs`));
  assertAccountsFor(outs, stream);
}

describe('C37.118 framer', () => {
  describe('split and coalesced delivery', () => {
    for (const { name, bytes } of [...vectors, { name: 'all vectors back to back', bytes: all }]) {
      it(`cuts ${name} split at every byte offset into the same frames`, () => {
        for (let at = 1; at < bytes.length; at++) {
          assertSameFrames(frameChunks(new Framer(), cut(bytes, [at])), bytes, `${name} cut at ${at}`);
        }
      });
    }

    it('cuts every vector delivered one byte at a time into the same frames', () => {
      for (const { name, bytes } of [...vectors, { name: 'all', bytes: all }]) {
        const ones = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        assertSameFrames(frameChunks(new Framer(), ones), bytes, `${name} in 1-byte chunks`);
      }
    });

    it('cuts every vector in random chunkings (seeded) into the same frames, through a buffer that must grow and compact', () => {
      const random = seededRandom(37118);
      for (const { name, bytes } of [...vectors, { name: 'all', bytes: all }]) {
        for (let round = 0; round < 200; round++) {
          const maxChunk = [3, 17, 64, 600][round % 4]!;
          const chunks = randomChunks(bytes, random, maxChunk);
          const framer = new Framer({ initialBytes: 16 });
          assertSameFrames(frameChunks(framer, chunks), bytes, `${name} round ${round}`);
        }
      }
    });

    it('cuts the concatenated vectors at random pairs of offsets into the same frames', () => {
      const random = seededRandom(2011);
      for (let round = 0; round < 2000; round++) {
        const a = 1 + Math.floor(random() * (all.length - 2));
        const b = a + Math.floor(random() * (all.length - a));
        assertSameFrames(frameChunks(new Framer(), cut(all, [a, b])), all, `cut at ${a}, ${b}`);
      }
    });

    it('returns each frame as soon as its last byte arrives, without waiting for a flush', () => {
      const framer = new Framer();
      for (const { offset, length } of frameSpans(all)) {
        framer.push(all.subarray(offset, offset + length - 1));
        assert.deepEqual(drain(framer), [], 'a frame came out before its last byte');
        framer.push(all.subarray(offset + length - 1, offset + length));
        const outs = drain(framer);
        assert.equal(outs.length, 1);
        assert.equal(outs[0]!.kind, 'frame');
        assert.equal(outs[0]!.streamOffset, offset);
        assert.equal(framer.pending, 0);
      }
    });
  });

  describe('garbage', () => {
    it('reports garbage before the first frame with its reason and exact length, then decodes the frames', () => {
      const junk = Buffer.from('00112233445566778899', 'hex');
      const stream = Buffer.concat([junk, annex]);
      const outs = frameAll(stream);
      assert.deepEqual(
        outs.map((o) => [o.kind, o.reason, o.streamOffset, o.bytes.length]),
        [
          ['garbage', 'bad-sync', 0, 10],
          ['frame', undefined, 10, 454],
          ['frame', undefined, 464, 52],
          ['frame', undefined, 516, 18],
        ],
      );
      const lines = decodeAll(stream);
      assert.deepEqual(
        lines.map((l) => [l.type, l.offset, l['reason'], l['length']]),
        [
          ['error', 0, 'bad-sync', 10],
          ['cfg2', 10, undefined, undefined],
          ['data', 464, undefined, undefined],
          ['command', 516, undefined, undefined],
        ],
      );
      assert.equal(lines[0]!['bytes'], '00112233445566778899');
    });

    it('reports garbage between frames, including 0xAA bytes that start no frame, and decodes the next one', () => {
      // 0xAA 0x70 (type 7), 0xAA 0x81 (reserved bit 7), a lone 0xAA 0x00 … : none starts a frame.
      const junk = Buffer.from('aa70aa81aa00123456', 'hex');
      const frames = framesOf(annex);
      const stream = Buffer.concat([frames[0]!, junk, frames[1]!, frames[2]!]);
      const outs = frameAll(stream);
      assert.deepEqual(
        outs.map((o) => [o.kind, o.reason, o.streamOffset, o.bytes.length]),
        [
          ['frame', undefined, 0, 454],
          ['garbage', 'bad-sync', 454, junk.length],
          ['frame', undefined, 454 + junk.length, 52],
          ['frame', undefined, 506 + junk.length, 18],
        ],
      );
      assertAccountsFor(outs, stream);
      const decoder = new StreamDecoder();
      const kinds = onlyFrames(outs).map((f) => decoder.decode(f, 0, f.length).kind);
      assert.deepEqual(kinds, ['config', 'data', 'command']);
    });

    it('reports garbage after the last frame at once when it cannot start a frame', () => {
      const framer = new Framer();
      framer.push(Buffer.concat([annex, Buffer.from('0102030405', 'hex')]));
      const outs = drain(framer);
      assert.deepEqual(
        outs.map((o) => [o.kind, o.reason, o.bytes.length]),
        [
          ['frame', undefined, 454],
          ['frame', undefined, 52],
          ['frame', undefined, 18],
          ['garbage', 'bad-sync', 5],
        ],
      );
      assert.equal(framer.pending, 0);
    });

    it('splits a long run of garbage into spans of at most maxGarbageBytes', () => {
      const stream = Buffer.concat([Buffer.alloc(10_000), annex]);
      const outs = frameAll(stream);
      assert.deepEqual(
        onlyGarbage(outs).map((o) => [o.reason, o.streamOffset, o.bytes.length]),
        [
          ['bad-sync', 0, 4096],
          ['bad-sync', 4096, 4096],
          ['bad-sync', 8192, 1808],
        ],
      );
      assert.equal(onlyFrames(outs).length, 3);
      const small = frameAll(Buffer.concat([Buffer.alloc(25), annex]), new Framer({ maxGarbageBytes: 10 }));
      assert.deepEqual(
        onlyGarbage(small).map((o) => o.bytes.length),
        [10, 10, 5],
      );
    });

    it('drops a frame with a flipped byte as crc-mismatch garbage and resynchronises on the next frame', () => {
      const frames = framesOf(annex);
      const damaged = Buffer.from(frames[1]!); // the 52-byte data frame
      damaged[30]! ^= 0x01;
      const stream = Buffer.concat([frames[0]!, damaged, frames[2]!]);
      const outs = frameAll(stream);
      assert.deepEqual(
        outs.map((o) => [o.kind, o.reason, o.bytes.length]),
        [
          ['frame', undefined, 454],
          ['garbage', 'crc-mismatch', 52],
          ['frame', undefined, 18],
        ],
      );
      const lines = decodeAll(stream);
      assert.deepEqual(
        lines.map((l) => [l.type, l['reason']]),
        [
          ['cfg2', undefined],
          ['error', 'crc-mismatch'],
          ['command', undefined],
        ],
      );
    });

    it('loses only the damaged frame, whichever byte of whichever frame is flipped, and accounts for every byte', () => {
      const spans = frameSpans(all);
      const want = framesOf(all);
      for (const [k, span] of spans.entries()) {
        for (let i = 0; i < span.length; i++) {
          const stream = Buffer.from(all);
          stream[span.offset + i]! ^= 0x5a;
          const outs = frameAll(stream);
          const what = `frame ${k} byte ${i}`;
          assertAccountsFor(outs, stream);
          const got = onlyFrames(outs);
          assert.equal(got.length, want.length - 1, `${what}: ${got.length} frames`);
          got.forEach((frame, j) => assert.ok(frame.equals(want[j < k ? j : j + 1]!), `${what}: frame ${j}`));
          const garbage = onlyGarbage(outs);
          assert.equal(garbage[0]!.streamOffset, span.offset, `${what}: garbage starts elsewhere`);
          assert.equal(
            garbage.reduce((n, g) => n + g.bytes.length, 0),
            span.length,
            `${what}: garbage length`,
          );
          if (i >= 4) assert.equal(garbage[0]!.reason, 'crc-mismatch', `${what}: reason`);
        }
      }
    });

    it('does not let a bogus FRAMESIZE swallow the good frames after it, even when the stream then pauses', () => {
      const bogus = Buffer.from('aa31ffff', 'hex');
      for (const { name, bytes } of vectors) {
        const frames = framesOf(bytes);
        // In front, and between the first and second frames; never flushed.
        for (const stream of [Buffer.concat([bogus, bytes]), Buffer.concat([frames[0]!, bogus, ...frames.slice(1)])]) {
          for (const chunks of [[stream], Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))]) {
            const framer = new Framer();
            const outs: Out[] = [];
            for (const chunk of chunks) {
              framer.push(chunk);
              outs.push(...drain(framer));
            }
            assert.equal(framer.pending, 0, `${name}: bytes held back`);
            assert.equal(onlyFrames(outs).length, frames.length, `${name}: frames missing while the stream pauses`);
            assert.deepEqual(
              onlyGarbage(outs).map((o) => [o.reason, o.bytes.length]),
              [['bad-size', 4]],
            );
            assertAccountsFor(outs, stream);
          }
        }
      }
    });

    it('waits on a FRAMESIZE of ordinary size, then resynchronises when its CRC fails: nothing after it is lost', () => {
      // 0xAA 0x01 0x00 0x40 announces 64 bytes; only 4 + 52 follow, then the next frame.
      const [cfg, data, command] = framesOf(annex);
      const framer = new Framer();
      framer.push(Buffer.concat([cfg!, Buffer.from('aa010040', 'hex'), data!]));
      const summary = (outs: ReturnType<typeof drain>): unknown[] => outs.map((o) => [o.kind, o.reason, o.bytes.length]);
      assert.deepEqual(summary(drain(framer)), [['frame', undefined, 454]], 'a 64-byte frame could still complete');
      framer.push(command!);
      assert.deepEqual(summary(drain(framer)), [
        ['garbage', 'crc-mismatch', 4],
        ['frame', undefined, 52],
        ['frame', undefined, 18],
      ]);
    });

    it('at the end of the input, reports a frame that cannot complete as truncated and still finds the frames after it', () => {
      const [cfg, data] = framesOf(annex);
      const framer = new Framer();
      framer.push(Buffer.concat([cfg!, Buffer.from('aa010040', 'hex'), data!]));
      const outs = [...drain(framer), ...drain(framer, true)];
      assert.deepEqual(
        outs.map((o) => [o.kind, o.reason, o.bytes.length]),
        [
          ['frame', undefined, 454],
          ['garbage', 'truncated', 4],
          ['frame', undefined, 52],
        ],
      );
    });

    it(
      'keeps a frame that carries a whole frame in its body when it arrives split before its end',
      () => {
        const inner = encodeCommand(time, 0x0002);
        const outer = encodeCommand(time, 0x0008, Buffer.concat([inner, Buffer.alloc(20)]));
        const outs = frameChunks(new Framer(), cut(outer, [40]));
        assert.deepEqual(onlyFrames(outs), [outer]);
      },
    );

    it('rejects FRAMESIZE below 16 as bad-size', () => {
      for (const size of [0, 1, 14, 15]) {
        const runt = Buffer.alloc(15, 0x11);
        runt[0] = 0xaa;
        runt[1] = 0x11;
        runt.writeUInt16BE(size, 2);
        const stream = Buffer.concat([runt, annex]);
        const outs = frameAll(stream);
        assert.deepEqual(
          onlyGarbage(outs).map((o) => [o.reason, o.streamOffset, o.bytes.length]),
          [['bad-size', 0, 15]],
          `FRAMESIZE ${size}`,
        );
        assert.equal(onlyFrames(outs).length, 3);
      }
    });

    it('skips a CRC-valid frame of version 3 (or 0, or 15) whole as unsupported-version', () => {
      for (const version of [0, 3, 4, 15]) {
        const alien = encodeFrame(FrameType.HEADER, { ...time, version }, Buffer.from('from the future'));
        const next = encodeCommand({ ...time, version: 2 }, 0x0002);
        const outs = frameAll(Buffer.concat([alien, next]));
        assert.deepEqual(
          outs.map((o) => [o.kind, o.reason, o.streamOffset, o.bytes.length]),
          [
            ['garbage', 'unsupported-version', 0, alien.length],
            ['frame', undefined, alien.length, next.length],
          ],
          `version ${version}`,
        );
      }
    });

    it('accepts versions 1 (2005) and 2 (2011)', () => {
      for (const version of [1, 2]) {
        const frame = encodeHeader({ ...time, version }, 'ok');
        assert.deepEqual(onlyFrames(frameAll(frame)), [frame]);
      }
    });

    it('does not take frame types 6 and 7, or a set reserved bit 7, for frames even with a valid CRC', () => {
      for (const second of [0x62, 0x72, 0x82, 0xb2]) {
        const fake = encodeHeader(time, 'no sync bytes in here');
        fake[1] = second;
        recrc(fake);
        const next = encodeCommand(time, 0x0002);
        const outs = frameAll(Buffer.concat([fake, next]));
        assert.deepEqual(
          outs.map((o) => [o.kind, o.reason, o.bytes.length]),
          [
            ['garbage', 'bad-sync', fake.length],
            ['frame', undefined, next.length],
          ],
          `second byte 0x${second.toString(16)}`,
        );
      }
    });

    it('types 4 and 5 are command and CFG-3, not the other way round', () => {
      const command = encodeCommand(time, 0x0005);
      assert.equal(command[1], 0x42);
      const decoded = new StreamDecoder().decode(command, 0, command.length);
      assert.equal(decoded.kind, 'command');
    });
  });

  describe('end of stream and bounds', () => {
    it('holds back a truncated tail until flush(), which reports it as truncated with its exact length', () => {
      for (const cutBytes of [1, 2, 3, 4, 10, 17]) {
        const stream = annex.subarray(0, annex.length - cutBytes);
        const framer = new Framer();
        framer.push(stream);
        const before = drain(framer);
        assert.equal(onlyFrames(before).length, 2);
        assert.equal(onlyGarbage(before).length, 0);
        assert.equal(framer.pending, 18 - cutBytes);
        const end = drain(framer, true);
        assert.deepEqual(
          end.map((o) => [o.kind, o.reason, o.streamOffset, o.bytes.length]),
          [['garbage', 'truncated', 506, 18 - cutBytes]],
        );
        assert.equal(framer.pending, 0);
        assert.equal(framer.flush().kind, 'none');
      }
    });

    it('reports a lone trailing 0xAA as truncated on flush()', () => {
      const framer = new Framer();
      framer.push(Buffer.concat([annex, Buffer.from([0xaa])]));
      assert.equal(onlyFrames(drain(framer)).length, 3);
      assert.equal(framer.pending, 1);
      assert.deepEqual(
        drain(framer, true).map((o) => [o.reason, o.bytes.length]),
        [['truncated', 1]],
      );
    });

    it('takes a 16-byte header frame with no text as a valid frame', () => {
      const empty = encodeHeader(time, '');
      assert.equal(empty.length, 16);
      const outs = frameAll(Buffer.concat([empty, empty]));
      assert.deepEqual(
        outs.map((o) => [o.kind, o.bytes.length]),
        [
          ['frame', 16],
          ['frame', 16],
        ],
      );
      const decoded = new StreamDecoder().decode(empty, 0, 16);
      assert.deepEqual(decoded, { kind: 'header', idcode: 7, text: '' });
    });

    it('takes a 65535-byte frame, whole or in chunks', () => {
      const big = encodeHeader(time, 'x'.repeat(65535 - 16));
      assert.equal(big.length, 65535);
      assert.equal(big.readUInt16BE(2), 0xffff);
      const whole = onlyFrames(frameAll(Buffer.concat([big, annex])));
      assert.equal(whole.length, 4);
      assert.ok(whole[0]!.equals(big));
      const chunked = onlyFrames(frameChunks(new Framer({ initialBytes: 1024 }), randomChunks(big, seededRandom(5), 3000)));
      assert.equal(chunked.length, 1);
      assert.ok(chunked[0]!.equals(big));
      assert.throws(() => encodeHeader(time, 'x'.repeat(65536 - 16)), RangeError);
    });

    it('refuses a push that would exceed maxBytes, adding nothing, and takes it once frames are consumed', () => {
      const [cfg, data, command] = framesOf(annex) as [Buffer, Buffer, Buffer];
      const framer = new Framer({ initialBytes: 16, maxBytes: 64 });
      assert.equal(framer.push(cfg), false, 'a 454-byte chunk over a 64-byte bound');
      assert.equal(framer.pending, 0);
      assert.equal(framer.push(data), true);
      assert.equal(framer.push(command), false, '52 + 18 > 64');
      assert.equal(framer.pending, 52);
      assert.equal(onlyFrames(drain(framer)).length, 1);
      assert.equal(framer.push(command), true);
      assert.deepEqual(onlyFrames(drain(framer)), [command]);
      assert.equal(framer.push(Buffer.alloc(64)), true, 'exactly maxBytes fits');
      assert.equal(framer.push(Buffer.alloc(1)), false);
    });

    it('forgets a partial frame on reset() and frames what follows from scratch', () => {
      const framer = new Framer();
      framer.push(annex.subarray(0, 100));
      assert.deepEqual(drain(framer), []);
      framer.reset();
      assert.equal(framer.pending, 0);
      framer.push(annex);
      const outs = drain(framer);
      assert.equal(onlyFrames(outs).length, 3);
      assert.equal(onlyGarbage(outs).length, 0);
    });
  });
});
