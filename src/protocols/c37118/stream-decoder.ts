import { parseCfg12, parseCfg3Body, type ConfigFrame } from './cfg-frame.js';
import { CRC_SIZE, FRACTION_MASK, FrameType, HEADER_SIZE } from './constants.js';
import { DataColumns, decodeData } from './data-frame.js';
import { frameTypeOf, idcodeOf } from './frame-header.js';
import { StreamLayout } from './layout.js';
import { contIdxOf, isLastFragment, parseCommand, parseHeaderText, type CommandFrame } from './small-frames.js';

// The state a C37.118 receiver keeps between frames: the active configuration of each stream
// (keyed by the stream IDCODE of the frame header, which may differ from every PMU IDCODE inside,
// notes/c37118.md 5) and CFG-3 fragments being reassembled. Frames come in whole and CRC-checked
// from the framer; each call returns what the frame was. Data frames decode through the stream's
// compiled layout into its reused columns, so the result for a data frame is the same object each
// time: read it before the next call.
//
// Only CFG-2 and CFG-3 configure decoding; CFG-1 describes capability and is reported, not used
// (notes/c37118.md 6). A new configuration replaces the old one in a single assignment.

export type DecodeFault =
  | 'no-config' // a data frame for a stream with no CFG-2/CFG-3 yet
  | 'size-mismatch' // FRAMESIZE disagrees with the active configuration: it is stale
  | 'malformed-config'
  | 'malformed-command'
  | 'cfg3-fragment'; // a CFG-3 continuation out of order

export type Decoded =
  | { kind: 'data'; idcode: number; columns: DataColumns }
  | { kind: 'config'; idcode: number; config: ConfigFrame; active: boolean }
  | { kind: 'header'; idcode: number; text: string }
  | { kind: 'command'; idcode: number; command: CommandFrame }
  /** A CFG-3 fragment before the last; timeBase is the series' (from its first fragment), 0 if unknown. */
  | { kind: 'fragment'; idcode: number; contIdx: number; timeBase: number }
  | { kind: 'fault'; idcode: number; reason: DecodeFault; detail: string };

interface Stream {
  layout: StreamLayout;
  columns: DataColumns;
  result: { kind: 'data'; idcode: number; columns: DataColumns };
}

interface Fragments {
  next: number;
  first: Buffer;
  bodies: Buffer[];
}

export class StreamDecoder {
  readonly #streams = new Map<number, Stream>();
  readonly #fragments = new Map<number, Fragments>();

  /** The active layout of a stream, if it has one. */
  layout(idcode: number): StreamLayout | undefined {
    return this.#streams.get(idcode)?.layout;
  }

  /** Make `config` the active configuration of its stream (also used by tests and tools). */
  activate(config: ConfigFrame): StreamLayout {
    const layout = new StreamLayout(config);
    const columns = new DataColumns(layout);
    this.#streams.set(config.idcode, { layout, columns, result: { kind: 'data', idcode: config.idcode, columns } });
    return layout;
  }

  /** Forget a stream's configuration (a stale one, before re-requesting it). */
  forget(idcode: number): void {
    this.#streams.delete(idcode);
    this.#fragments.delete(idcode);
  }

  decode(buf: Buffer, offset: number, size: number): Decoded {
    const idcode = idcodeOf(buf, offset);
    switch (frameTypeOf(buf, offset)) {
      case FrameType.DATA: {
        const stream = this.#streams.get(idcode);
        if (!stream) return fault(idcode, 'no-config', `no CFG-2 or CFG-3 received for stream ${idcode}`);
        const bad = decodeData(buf, offset, stream.columns);
        if (bad) {
          return fault(idcode, bad, `FRAMESIZE ${size} but the active configuration makes ${stream.layout.frameSize}`);
        }
        return stream.result;
      }
      case FrameType.CFG1:
      case FrameType.CFG2: {
        const parsed = parseCfg12(buf, offset, size);
        if (!parsed.ok) return fault(idcode, 'malformed-config', parsed.reason);
        const active = parsed.value.kind === 'cfg2';
        if (active) this.activate(parsed.value);
        return { kind: 'config', idcode, config: parsed.value, active };
      }
      case FrameType.CFG3:
        return this.#cfg3(buf, offset, size, idcode);
      case FrameType.HEADER:
        return { kind: 'header', idcode, text: parseHeaderText(buf, offset, size) };
      case FrameType.COMMAND: {
        const parsed = parseCommand(buf, offset, size);
        if (!parsed.ok) return fault(idcode, 'malformed-command', parsed.reason);
        return { kind: 'command', idcode, command: parsed.value };
      }
      default:
        // The framer admits types 0–5 only.
        return fault(idcode, 'malformed-config', 'unknown frame type');
    }
  }

  #cfg3(buf: Buffer, offset: number, size: number, idcode: number): Decoded {
    // Too short for CONT_IDX: reading it would read CHK.
    if (size < HEADER_SIZE + 2 + CRC_SIZE) return fault(idcode, 'malformed-config', 'a CFG-3 frame without CONT_IDX');
    const contIdx = contIdxOf(buf, offset);
    // The body after CONT_IDX; copied, because the framer's buffer is reused.
    const body = Buffer.from(buf.subarray(offset + HEADER_SIZE + 2, offset + size - CRC_SIZE));
    let parts: Fragments | undefined;
    if (contIdx === 0) {
      this.#fragments.delete(idcode);
      parts = { next: 0, first: Buffer.from(buf.subarray(offset, offset + HEADER_SIZE)), bodies: [body] };
    } else {
      const held = this.#fragments.get(idcode);
      if (contIdx === 1) {
        parts = { next: 2, first: Buffer.from(buf.subarray(offset, offset + HEADER_SIZE)), bodies: [body] };
        this.#fragments.set(idcode, parts);
        return { kind: 'fragment', idcode, contIdx, timeBase: fragmentTimeBase(parts) };
      }
      if (!held || (contIdx !== held.next && contIdx !== 0xffff)) {
        this.#fragments.delete(idcode);
        return fault(idcode, 'cfg3-fragment', `CONT_IDX ${contIdx} arrived, ${held ? held.next : 1} expected`);
      }
      held.bodies.push(body);
      held.next++;
      if (!isLastFragment(contIdx)) return { kind: 'fragment', idcode, contIdx, timeBase: fragmentTimeBase(held) };
      this.#fragments.delete(idcode);
      parts = held;
    }
    const parsed = parseCfg3Body(parts.first, 0, parts.bodies.length === 1 ? parts.bodies[0]! : Buffer.concat(parts.bodies));
    if (!parsed.ok) return fault(idcode, 'malformed-config', parsed.reason);
    this.activate(parsed.value);
    return { kind: 'config', idcode, config: parsed.value, active: true };
  }
}

/** TIME_BASE opens the first fragment's body (right after CONT_IDX). */
const fragmentTimeBase = (parts: Fragments): number => {
  const first = parts.bodies[0]!;
  return first.length >= 4 ? first.readUInt32BE(0) & FRACTION_MASK : 0;
};

const fault = (idcode: number, reason: DecodeFault, detail: string): Decoded => ({ kind: 'fault', idcode, reason, detail });
