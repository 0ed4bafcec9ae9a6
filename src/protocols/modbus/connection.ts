import modbusSerial from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import type { ModbusSourceConfig } from './config.js';

// One Modbus connection (modbus-serial underneath) and the only door to it: read(), one request at
// a time, in the order asked. On a serial bus that order is the bus's: every unit shares the line,
// so requests are serialised and separated by the inter-frame silence (3.5 character times, 1.75 ms
// above 19,200 baud: Modbus over Serial Line V1.02 §2.5.1.1). Over TCP one request at a time per
// connection too: simple, fair between the devices behind a gateway, and what most field devices
// handle best.
//
// Only the four read function codes exist here: the gateway never writes to a field device.
//
// Failures come back as values, classified (modbus-serial reports them as Error messages):
//   exception   the device answered with exception `code` (2: illegal data address, …)
//   timeout     no answer within timeoutMs
//   malformed   an answer that is not the one asked for: bad CRC, wrong length, unit or function
//   closed      the connection is gone (the source reconnects)

export type ReadFunction = 1 | 2 | 3 | 4;

export type ReadFailure =
  | { kind: 'exception'; code: number; detail: string }
  | { kind: 'timeout'; detail: string }
  | { kind: 'malformed'; reason: 'bad-crc' | 'bad-length' | 'wrong-unit' | 'wrong-function' | 'other'; detail: string }
  | { kind: 'closed'; detail: string };

export type ReadResult = { ok: true; registers: number[]; bits: boolean[]; sentUs: number; receivedUs: number } | { ok: false; failure: ReadFailure; sentUs: number; receivedUs: number };

// A CommonJS module whose default export is the client class.
const ModbusRTU = modbusSerial as unknown as new () => Client;

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** The silence a serial line needs between frames, ms. */
export function interFrameDelayMs(config: ModbusSourceConfig): number {
  if (config.transport !== 'rtu') return 0;
  if (config.interFrameDelayMs !== undefined) return config.interFrameDelayMs;
  const baud = config.serial?.baudRate ?? 9600;
  // 11 bits a character (start, 8 data, parity or a second stop, stop); fixed 1.75 ms above 19,200.
  return baud > 19_200 ? 1.75 : (3.5 * 11 * 1000) / baud;
}

export function classify(err: unknown): ReadFailure {
  const e = err as { message?: string; modbusCode?: number; errno?: string; name?: string };
  const detail = e.message ?? String(err);
  if (typeof e.modbusCode === 'number') return { kind: 'exception', code: e.modbusCode, detail };
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') return { kind: 'timeout', detail };
  if (e.name === 'PortNotOpenError' || e.errno === 'ECONNREFUSED' || /not open|closed|ECONNRESET|EPIPE/i.test(detail)) return { kind: 'closed', detail };
  if (detail.startsWith('CRC error')) return { kind: 'malformed', reason: 'bad-crc', detail };
  if (detail.startsWith('Data length error')) return { kind: 'malformed', reason: 'bad-length', detail };
  if (detail.includes('expected address')) return { kind: 'malformed', reason: 'wrong-unit', detail };
  if (detail.includes('expected code')) return { kind: 'malformed', reason: 'wrong-function', detail };
  return { kind: 'malformed', reason: 'other', detail };
}

export class ModbusConnection {
  readonly #c: ModbusSourceConfig;
  #client: Client | undefined;
  /** The tail of the request chain: each read starts after the previous one settled. */
  #tail: Promise<unknown> = Promise.resolve();
  #lastEndMs = 0;
  readonly #gapMs: number;
  #onClose: (() => void) | undefined;

  constructor(config: ModbusSourceConfig) {
    this.#c = config;
    this.#gapMs = interFrameDelayMs(config);
  }

  get isOpen(): boolean {
    return this.#client?.isOpen === true;
  }

  /** Open the connection; `onClose` is called once if it closes afterwards. */
  async open(onClose: () => void): Promise<void> {
    const c = this.#c;
    const client = new ModbusRTU();
    client.setTimeout(c.timeoutMs);
    const [host, port] = splitHostPort(c.address ?? '');
    if (c.transport === 'tcp') await client.connectTCP(host, { port, timeout: c.timeoutMs });
    // RTU frames (with CRC) over a raw TCP stream: modbus-serial's "telnet" port. (Its
    // TcpRTUBuffered port strips the CRC and speaks MBAP: that is Modbus TCP, not RTU over TCP.)
    else if (c.transport === 'rtu-over-tcp') await client.connectTelnet(host, { port, timeout: c.timeoutMs });
    else {
      const s = c.serial!;
      await client.connectRTUBuffered(s.path, { baudRate: s.baudRate, parity: s.parity, stopBits: s.stopBits, dataBits: s.dataBits });
    }
    this.#client = client;
    this.#onClose = onClose;
    client.on('close', () => this.#closed(client));
    client.on('error', () => this.#closed(client));
  }

  #closed(client: Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }

  close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#onClose = undefined;
    if (!client?.isOpen) return Promise.resolve();
    return new Promise((resolve) => client.close(() => resolve()));
  }

  /** Read `count` registers or bits at protocol `address` of `unitId`; queued behind earlier reads. */
  read(unitId: number, fc: ReadFunction, address: number, count: number): Promise<ReadResult> {
    const run = this.#tail.then(() => this.#read(unitId, fc, address, count));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #read(unitId: number, fc: ReadFunction, address: number, count: number): Promise<ReadResult> {
    if (this.#gapMs > 0) {
      const wait = this.#lastEndMs + this.#gapMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const client = this.#client;
    const sentUs = nowUs();
    if (!client?.isOpen) return { ok: false, failure: { kind: 'closed', detail: 'the connection is not open' }, sentUs, receivedUs: sentUs };
    const result = await new Promise<ReadResult>((resolve) => {
      const done = (err: unknown, res?: { data: number[] | boolean[] }): void => {
        const receivedUs = nowUs();
        if (err || !res) resolve({ ok: false, failure: classify(err ?? new Error('no response')), sentUs, receivedUs });
        else if (fc <= 2) resolve({ ok: true, registers: [], bits: res.data as boolean[], sentUs, receivedUs });
        else resolve({ ok: true, registers: res.data as number[], bits: [], sentUs, receivedUs });
      };
      // The callback forms take the unit ID per call: no shared setID state between devices.
      if (fc === 1) client.writeFC1(unitId, address, count, done);
      else if (fc === 2) client.writeFC2(unitId, address, count, done);
      else if (fc === 3) client.writeFC3(unitId, address, count, done);
      else client.writeFC4(unitId, address, count, done);
    });
    this.#lastEndMs = performance.now();
    return result;
  }
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
