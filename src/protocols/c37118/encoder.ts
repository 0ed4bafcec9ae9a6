import { ByteWriter } from '../shared/byte-writer.js';
import type { ConfigFrame, PmuConfig } from './cfg-frame.js';
import {
  CONT_IDX_LAST,
  CRC_SIZE,
  FRACTION_MASK,
  FrameType,
  Format,
  G_PMU_ID_SIZE,
  HEADER_SIZE,
  INT16_ABSENT,
  MAX_FRAME_SIZE,
  NAME_SIZE,
  SYNC_BYTE,
  VERSION_2011,
} from './constants.js';
import { crcCcitt } from './crc-ccitt.js';
import type { DataColumns } from './data-frame.js';

// An encoder for every frame type: the simulator serves with it and the tests round-trip through
// it. It is the exact inverse of the decoder: a DataColumns decoded from a frame encodes back to
// the same bytes (scaled integers are rounded to the nearest step, out-of-range values saturate,
// NaN becomes the "absent" marker).

export interface FrameTime {
  idcode: number;
  soc: number;
  /** The whole FRACSEC word: time quality byte and fraction. */
  fracsec: number;
  version?: number;
}

/** Wrap a body in the common header and CHK. */
export function encodeFrame(type: number, time: FrameTime, body: Uint8Array): Buffer {
  const size = HEADER_SIZE + body.length + CRC_SIZE;
  if (size > MAX_FRAME_SIZE) throw new RangeError(`a C37.118 frame of ${size} bytes exceeds FRAMESIZE's 65535`);
  const frame = Buffer.allocUnsafe(size);
  frame.set(body, HEADER_SIZE);
  return sealFrame(frame, type, time);
}

/** Write the common header and CHK around a body already in place at frame[14, size - 2). */
function sealFrame(frame: Buffer, type: number, time: FrameTime): Buffer {
  const size = frame.length;
  frame[0] = SYNC_BYTE;
  frame[1] = ((type & 0x7) << 4) | ((time.version ?? VERSION_2011) & 0xf);
  frame.writeUInt16BE(size, 2);
  frame.writeUInt16BE(time.idcode, 4);
  frame.writeUInt32BE(time.soc >>> 0, 6);
  frame.writeUInt32BE(time.fracsec >>> 0, 10);
  frame.writeUInt16BE(crcCcitt(frame, 0, size - CRC_SIZE), size - CRC_SIZE);
  return frame;
}

export function encodeCommand(time: FrameTime, command: number, extended: Uint8Array = new Uint8Array(0)): Buffer {
  const body = Buffer.allocUnsafe(2 + extended.length);
  body.writeUInt16BE(command, 0);
  body.set(extended, 2);
  return encodeFrame(FrameType.COMMAND, time, body);
}

/**
 * A command to stream `idcode`, stamped with the time it is sent: devices expect their own stream
 * IDCODE and a current time in commands (notes 25). FRACSEC in microseconds, time quality 0.
 */
export function encodeCommandNow(idcode: number, command: number, nowMs = Date.now()): Buffer {
  return encodeCommand({ idcode, soc: Math.floor(nowMs / 1000), fracsec: (nowMs % 1000) * 1000 }, command);
}

export function encodeHeader(time: FrameTime, text: string): Buffer {
  return encodeFrame(FrameType.HEADER, time, Buffer.from(text, 'latin1'));
}

const fixedName = (w: ByteWriter, name: string): void => {
  const bytes = Buffer.alloc(NAME_SIZE, 0x20);
  bytes.write(name.slice(0, NAME_SIZE), 'latin1');
  w.bytes(bytes);
};

/** CFG-1 or CFG-2 (config.kind chooses; 'cfg3' is encodeCfg3's). */
export function encodeCfg12(config: ConfigFrame): Buffer {
  const w = new ByteWriter();
  w.u32(config.timeBase & FRACTION_MASK);
  w.u16(config.pmus.length);
  for (const pmu of config.pmus) {
    fixedName(w, pmu.station);
    w.u16(pmu.idcode);
    w.u16(pmu.format);
    counts(w, pmu);
    for (const ph of pmu.phasors) fixedName(w, ph.name);
    for (const an of pmu.analogs) fixedName(w, an.name);
    for (const dg of pmu.digitals) for (let b = 0; b < 16; b++) fixedName(w, dg.labels[b] ?? '');
    for (const ph of pmu.phasors) w.u32(ph.raw);
    for (const an of pmu.analogs) w.u32(an.raw);
    digunits(w, pmu);
    w.u16(pmu.fnom === 50 ? 1 : 0);
    w.u16(pmu.cfgcnt);
  }
  w.i16(config.dataRate);
  return encodeFrame(config.kind === 'cfg1' ? FrameType.CFG1 : FrameType.CFG2, frameTime(config), w.finish());
}

/**
 * CFG-3, split into fragments when it would exceed `maxFrameSize` (CONT_IDX 1, 2, …, 0xFFFF for
 * the last), else one frame with CONT_IDX 0.
 */
export function encodeCfg3(config: ConfigFrame, maxFrameSize = MAX_FRAME_SIZE): Buffer[] {
  const w = new ByteWriter();
  const name = (text: string): void => {
    const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
    w.u8(bytes.length);
    w.bytes(bytes);
  };
  w.u32(config.timeBase & FRACTION_MASK);
  w.u16(config.pmus.length);
  for (const pmu of config.pmus) {
    name(pmu.station);
    w.u16(pmu.idcode);
    const gpmu = Buffer.alloc(G_PMU_ID_SIZE);
    if (pmu.globalPmuId) gpmu.write(pmu.globalPmuId, 'hex');
    w.bytes(gpmu);
    w.u16(pmu.format);
    counts(w, pmu);
    for (const ph of pmu.phasors) name(ph.name);
    for (const an of pmu.analogs) name(an.name);
    for (const dg of pmu.digitals) for (let b = 0; b < 16; b++) name(dg.labels[b] ?? '');
    for (const ph of pmu.phasors) {
      const type = (ph.unit === 'A' ? 0x08 : 0) | ((ph.component ?? 0) & 0x07);
      w.u32(((ph.modificationFlags & 0xffff) << 16) | (type << 8) | (ph.raw & 0xff));
      w.f32(ph.magnitudeScale);
      w.f32(ph.angleOffsetRad);
    }
    for (const an of pmu.analogs) {
      w.f32(an.scale);
      w.f32(an.offset);
    }
    digunits(w, pmu);
    w.f32(pmu.latitude ?? Infinity);
    w.f32(pmu.longitude ?? Infinity);
    w.f32(pmu.elevation ?? Infinity);
    w.bytes(Buffer.from((pmu.serviceClass ?? 'M').slice(0, 1), 'latin1'));
    w.i32(pmu.windowUs ?? 0);
    w.i32(pmu.groupDelayUs ?? 0);
    w.u16(pmu.fnom === 50 ? 1 : 0);
    w.u16(pmu.cfgcnt);
  }
  w.i16(config.dataRate);
  const body = w.finish();
  const time = frameTime(config);
  const room = Math.min(maxFrameSize, MAX_FRAME_SIZE) - HEADER_SIZE - 2 - CRC_SIZE;
  if (room < 1) throw new RangeError(`a CFG-3 fragment of at most ${maxFrameSize} bytes cannot carry any configuration`);
  // CONT_IDX 0xFFFF marks the last fragment, so at most 65534 of them.
  if (Math.ceil(body.length / room) > 0xfffe) throw new RangeError('this CFG-3 needs more than 65534 fragments');
  if (body.length <= room) return [encodeFrame(FrameType.CFG3, time, withContIdx(0, body))];
  const frames: Buffer[] = [];
  for (let at = 0, index = 1; at < body.length; at += room, index++) {
    const last = at + room >= body.length;
    frames.push(encodeFrame(FrameType.CFG3, time, withContIdx(last ? CONT_IDX_LAST : index, body.subarray(at, at + room))));
  }
  return frames;
}

/** Encode `columns` (a decoded frame, or one a simulator filled in) as a data frame. */
export function encodeData(columns: DataColumns, time: FrameTime): Buffer {
  const layout = columns.layout;
  // One allocation: the body is written in place, then sealed with the header and CHK.
  const frame = Buffer.allocUnsafe(layout.frameSize);
  const body = frame.subarray(HEADER_SIZE, layout.frameSize - CRC_SIZE);
  let at = 0;
  for (let p = 0; p < layout.pmuCount; p++) {
    const format = layout.format[p]!;
    const polar = (format & Format.POLAR) !== 0;
    at = body.writeUInt16BE(columns.stat[p]!, at);
    for (let i = layout.phasorStart[p]!; i < layout.phasorStart[p + 1]!; i++) {
      // Undo the CFG-3 rotation (rotate by +θ) and the magnitude factor.
      let a = columns.phasorA[i]!;
      let b = columns.phasorB[i]!;
      const theta = layout.angleOffset[i]!;
      if (theta !== 0) {
        if (polar) b += theta;
        else [a, b] = [a * Math.cos(theta) - b * Math.sin(theta), a * Math.sin(theta) + b * Math.cos(theta)];
      }
      const factor = layout.phasorFactor[i]!;
      if (format & Format.PHASOR_FLOAT) {
        at = body.writeFloatBE(a / factor, at);
        at = body.writeFloatBE(polar ? b : b / factor, at);
      } else if (polar) {
        at = body.writeUInt16BE(saturate(a / factor, 0, 0xffff), at);
        at = body.writeInt16BE(int16(b * 10_000), at);
      } else {
        at = body.writeInt16BE(int16(a / factor), at);
        at = body.writeInt16BE(int16(b / factor), at);
      }
    }
    if (format & Format.FREQ_FLOAT) {
      at = body.writeFloatBE(columns.freq[p]!, at);
      at = body.writeFloatBE(columns.rocof[p]!, at);
    } else {
      at = body.writeInt16BE(int16((columns.freq[p]! - layout.fnom[p]!) * 1000), at);
      at = body.writeInt16BE(int16(columns.rocof[p]! * 100), at);
    }
    for (let i = layout.analogStart[p]!; i < layout.analogStart[p + 1]!; i++) {
      const raw = (columns.analog[i]! - layout.analogOffset[i]!) / layout.analogScale[i]!;
      at = format & Format.ANALOG_FLOAT ? body.writeFloatBE(raw, at) : body.writeInt16BE(int16(raw), at);
    }
    for (let i = layout.digitalStart[p]!; i < layout.digitalStart[p + 1]!; i++) at = body.writeUInt16BE(columns.digital[i]!, at);
  }
  return sealFrame(frame, FrameType.DATA, time);
}

/** An int16 wire value: NaN is the absent marker 0x8000, the rest rounds and saturates. */
function int16(x: number): number {
  if (Number.isNaN(x)) return INT16_ABSENT;
  return saturate(x, -0x7fff, 0x7fff);
}

function saturate(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.min(hi, Math.max(lo, Math.round(x)));
}

function counts(w: ByteWriter, pmu: PmuConfig): void {
  w.u16(pmu.phasors.length);
  w.u16(pmu.analogs.length);
  w.u16(pmu.digitals.length);
}

function digunits(w: ByteWriter, pmu: PmuConfig): void {
  for (const dg of pmu.digitals) {
    w.u16(dg.normal);
    w.u16(dg.valid);
  }
}

function withContIdx(contIdx: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeUInt16BE(contIdx, 0);
  out.set(body, 2);
  return out;
}

const frameTime = (config: ConfigFrame): FrameTime => ({
  idcode: config.idcode,
  soc: config.soc,
  fracsec: config.fracsec,
  version: config.version,
});
