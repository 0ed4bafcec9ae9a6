import type { ConfigKind } from '../cfg-frame.js';
import { Command, COMMAND_NAMES, MAX_FRAME_SIZE } from '../constants.js';
import { encodeCfg12, encodeCfg3, encodeHeader } from '../encoder.js';
import type { SimClock } from './grid.js';
import type { PmuModel } from './pmu-model.js';

// What the device answers to a command (C37.118.2-2011 6.6, Table 15), whatever carried it (TCP
// or UDP). The transports deliver the frames and keep the data on/off state themselves.
//   send-header      the header frame, unless the device is set never to answer (header: ignore)
//   send-cfg1/2      CFG-1 / CFG-2 of the configuration in force now
//   send-cfg3        CFG-3, in fragments of at most cfg3FragmentBytes (else one frame), unless the
//                    device does not implement CFG-3 (cfg3: ignore): no answer at all, as real
//                    2005-era devices behave, so clients must time out and fall back to CFG-2
//   data-on/off      start or stop data
// A command whose IDCODE is not the stream's is ignored (notes/c37118.md 25).

export interface ResponderOptions {
  idcode: number;
  header: 'answer' | 'ignore';
  cfg3: 'answer' | 'ignore';
  /** Largest CFG-3 frame, bytes; null: one frame up to 65535. */
  cfg3FragmentBytes: number | null;
  headerText: string;
}

export type Answer =
  | { kind: 'frames'; command: string; frames: Buffer[] }
  | { kind: 'data'; command: string; on: boolean }
  | { kind: 'ignored'; command: string; why: 'wrong-idcode' | 'not-answered' | 'unknown-command'; reason: string };

export class Responder {
  readonly #model: PmuModel;
  readonly #clock: SimClock;
  readonly #options: ResponderOptions;

  constructor(model: PmuModel, clock: SimClock, options: ResponderOptions) {
    this.#model = model;
    this.#clock = clock;
    this.#options = options;
  }

  answer(command: number, idcode: number): Answer {
    const name = COMMAND_NAMES[command] ?? `0x${command.toString(16).padStart(4, '0')}`;
    if (idcode !== this.#options.idcode) {
      return { kind: 'ignored', command: name, why: 'wrong-idcode', reason: `IDCODE ${idcode} is not the stream's ${this.#options.idcode}` };
    }
    switch (command) {
      case Command.DATA_ON:
        return { kind: 'data', command: name, on: true };
      case Command.DATA_OFF:
        return { kind: 'data', command: name, on: false };
      case Command.SEND_HEADER:
        if (this.#options.header === 'ignore') {
          return { kind: 'ignored', command: name, why: 'not-answered', reason: 'this device never answers header requests' };
        }
        return { kind: 'frames', command: name, frames: [encodeHeader(this.#time(), this.#options.headerText)] };
      case Command.SEND_CFG1:
        return { kind: 'frames', command: name, frames: this.configFrames('cfg1') };
      case Command.SEND_CFG2:
        return { kind: 'frames', command: name, frames: this.configFrames('cfg2') };
      case Command.SEND_CFG3:
        if (this.#options.cfg3 === 'ignore') {
          return { kind: 'ignored', command: name, why: 'not-answered', reason: 'this device does not implement CFG-3' };
        }
        return { kind: 'frames', command: name, frames: this.configFrames('cfg3') };
      default:
        return { kind: 'ignored', command: name, why: 'unknown-command', reason: 'not implemented by the simulator' };
    }
  }

  /** The configuration in force now as frames (CFG-3 possibly fragmented). */
  configFrames(kind: ConfigKind): Buffer[] {
    const { soc, fracsec } = this.#time();
    const t = this.#clock.scenarioSeconds();
    const config = this.#model.config(kind, t, soc, fracsec);
    if (kind !== 'cfg3') return [encodeCfg12(config)];
    return encodeCfg3(config, this.#options.cfg3FragmentBytes ?? MAX_FRAME_SIZE);
  }

  #time(): { idcode: number; soc: number; fracsec: number } {
    const { soc, fraction } = this.#clock.stamp(this.#model.versions[0]!.configs.cfg2.timeBase);
    const quality = this.#model.state.timeQuality(this.#clock.scenarioSeconds(), this.#model.versions[0]!.layout.pmuCount);
    return { idcode: this.#options.idcode, soc, fracsec: ((quality << 24) | fraction) >>> 0 };
  }
}
