import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { Component, Deadline, Readiness } from '../../daemon/component.js';
import type { Logger } from '../../observability/logger.js';
import { deadLetter, nowUs, type Emit, type SourceRecord } from '../../pipeline/record.js';
import { Backoff } from '../shared/backoff.js';
import { Quality } from '../shared/quality.js';
import type { C37118SourceConfig } from './config.js';
import { Command, FRAME_TYPE_NAMES, Stat, type FrameType } from './constants.js';
import { encodeCommandNow } from './encoder.js';
import { frameTypeOf, idcodeOf } from './frame-header.js';
import { FrameTracker } from './frame-tracker.js';
import { Framer, type FramerOutput } from './framer.js';
import { COMMAND_GAP_MS, parseHostPort, TcpLink, UdpLink } from './links.js';
import { c37118Metrics, type C37118Metrics } from './metrics.js';
import { pmuFrameRecords } from './records.js';
import { StreamDecoder } from './stream-decoder.js';

// One C37.118 source: gridgate as PDC client to one PMU or PDC stream.
//
//   connect (TCP, back-off + jitter) ─▶ DATA_OFF ─▶ SEND_HEADER? ─▶ SEND_CFG3|CFG2 ─▶ config ─▶ DATA_ON
//        ▲                                                    (CFG-3 unanswered: CFG-2)        │
//        └──── close / silence for staleAfterPeriods / 3 unanswered config requests ◀──── data ┘
//
// While data flows, the configuration is requested again when a PMU's STAT sets the config-change
// bit (once per episode), when a data frame's size disagrees with the active configuration, and
// the stream is marked stale after staleAfterPeriods reporting periods without data. Over UDP the
// same decoder takes datagrams from configured peers only. Bytes that are not frames, and frames
// that cannot be decoded, go to the dead-letter topic with their reason; nothing here throws on
// input.

const CONFIG_ATTEMPTS = 3;
const STALE_CHECK_MS = 250;

export interface SourceContext {
  log: Logger;
  registry: Registry;
  emit: Emit;
  /** Subscribe to "the pipeline has room again"; returns the unsubscribe. */
  onResume: (resume: () => void) => () => void;
  /** The site's state directory (state.dir): where a source keeps what must survive a restart (OPC UA: its PKI). */
  stateDir?: string;
  /** The site config file, for commands a log line tells the operator to run. */
  configFile?: string;
}

export class C37118Source implements Component {
  readonly name: string;
  readonly #c: C37118SourceConfig;
  readonly #ctx: SourceContext;
  readonly #m: C37118Metrics;
  readonly #decoder = new StreamDecoder();
  readonly #tracker = new FrameTracker();
  readonly #stop = new AbortController();
  #tcp: TcpLink | undefined;
  #udp: UdpLink | undefined;
  #tcpFramer = new Framer();
  readonly #udpFramer = new Framer({ initialBytes: 65536, maxBytes: 65536 });
  #configWaiters: (() => void)[] = [];
  #requesting = false;
  #fellBackToCfg2 = false;
  #configChangeEpisode = false;
  #lastDataAtMs = 0;
  #stale = false;
  #paused = false;
  #staleTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #state = 'not started';
  #running: Promise<void> | undefined;
  #lastConnectError = '';

  constructor(config: C37118SourceConfig, ctx: SourceContext) {
    this.#c = config;
    this.#ctx = ctx;
    this.name = `source-${config.name}`;
    this.#m = c37118Metrics(ctx.registry);
  }

  async start(): Promise<void> {
    const c = this.#c;
    // Present from the start: a PMU that never answers is disconnected, not absent from /metrics
    // (an absent series fires no alert).
    this.#m.connected.set({ source: c.name }, 0);
    this.#m.stale.set({ source: c.name }, 0);
    this.#unsubscribe = this.#ctx.onResume(() => this.#resume());
    if (c.transport !== 'tcp') {
      const udp = c.udp ?? { bind: '0.0.0.0:4713', peers: [] };
      const peers = [...udp.peers, ...(c.address ? [parseHostPort(c.address).host] : [])];
      this.#udp = await UdpLink.open(udp.bind, peers);
      this.#udp.socket.on('message', (msg, rinfo) => this.#onDatagram(msg, `${rinfo.address}:${rinfo.port}`));
      this.#ctx.log.info({ bind: udp.bind, port: this.#udp.localPort, peers }, 'listening for C37.118 datagrams');
    }
    this.#staleTimer = setInterval(() => this.#checkStale(), STALE_CHECK_MS).unref();
    this.#running = (c.transport === 'udp' ? this.#runUdp(this.#stop.signal) : this.#runTcp(this.#stop.signal)).catch((err: unknown) => {
      this.#ctx.log.error({ err }, 'C37.118 source loop failed');
    });
  }

  async stop(deadline: Deadline): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#staleTimer);
    this.#unsubscribe?.();
    this.#tcp?.close();
    this.#udp?.close();
    for (const wake of this.#configWaiters) wake();
    if (this.#running) await deadline.race(this.#running);
    this.#m.connected.set({ source: this.#c.name }, 0);
    this.#state = 'stopped';
  }

  readiness(): Readiness {
    if (this.#stale) return { ready: false, detail: `stale: no data for ${this.#c.staleAfterPeriods} reporting periods` };
    return this.#state === 'receiving' ? { ready: true } : { ready: false, detail: this.#state };
  }

  /** The UDP port data is received on (tests bind port 0). */
  get udpPort(): number | undefined {
    return this.#udp?.localPort;
  }

  // ── TCP and TCP+UDP ────────────────────────────────────────────────────────────────────────

  async #runTcp(signal: AbortSignal): Promise<void> {
    const c = this.#c;
    const { host, port } = parseHostPort(c.address ?? '');
    const backoff = new Backoff(c.reconnect);
    let connectedBefore = false;
    while (!signal.aborted) {
      this.#state = 'connecting';
      let link: TcpLink;
      try {
        link = await TcpLink.connect(host, port, c.connectTimeoutMs, signal);
      } catch (err) {
        if (signal.aborted) return;
        const message = (err as Error).message;
        // Logged once per kind of failure, not once per retry.
        if (message !== this.#lastConnectError) this.#ctx.log.warn({ address: c.address, err: message }, 'cannot connect to the PMU; retrying with back-off');
        this.#lastConnectError = message;
        this.#state = `cannot connect: ${message}`;
        await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (connectedBefore) this.#m.reconnects.inc({ source: c.name });
      connectedBefore = true;
      this.#lastConnectError = '';
      backoff.reset();
      this.#tcp = link;
      this.#tcpFramer = new Framer();
      this.#fellBackToCfg2 = false;
      // The device may have been reconfigured while we were away: decode nothing with the old
      // configuration (frames before the new one go to the dead-letter topic, never guessed).
      this.#decoder.forget(c.idcode);
      this.#m.connected.set({ source: c.name }, 1);
      this.#ctx.log.info({ peer: link.peer, idcode: c.idcode }, 'connected to the PMU');
      const closed = new Promise<string>((resolve) => {
        link.socket.on('close', () => resolve('connection closed'));
        link.socket.on('error', (err) => resolve(err.message));
      });
      link.socket.on('data', (chunk: Buffer) => this.#onTcpData(chunk, link));
      if (this.#paused) link.socket.pause();
      void this.#handshake(link);
      const why = await closed;
      // What the connection left in the framer: a torn frame goes to the dead-letter topic, and
      // whole frames behind a bogus FRAMESIZE still come out.
      this.#drain(this.#tcpFramer, link.peer, true);
      this.#tcp = undefined;
      this.#m.connected.set({ source: c.name }, 0);
      for (const wake of this.#configWaiters) wake();
      if (signal.aborted) return;
      this.#ctx.log.warn({ peer: link.peer, reason: why }, 'PMU connection lost; reconnecting');
      this.#state = `disconnected: ${why}`;
      await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
    }
  }

  async #handshake(link: TcpLink): Promise<void> {
    this.#state = 'requesting configuration';
    // Stop a stream a previous session may have left running, so the configuration is the next
    // thing on the wire (notes 26); then the header, never waited for.
    await link.send(this.#command(Command.DATA_OFF));
    await sleep(COMMAND_GAP_MS);
    if (this.#c.requestHeader === 'yes') await link.send(this.#command(Command.SEND_HEADER));
    if (!(await this.#requestConfig())) {
      this.#ctx.log.warn({ attempts: CONFIG_ATTEMPTS }, 'the PMU did not send its configuration; reconnecting');
      link.close();
      return;
    }
    await this.#send(this.#command(Command.DATA_ON));
    this.#state = 'data requested';
  }

  /** Ask for the configuration until it arrives: CFG-3 falls back to CFG-2 once unanswered. */
  async #requestConfig(): Promise<boolean> {
    if (this.#requesting) return this.#waitConfig(this.#c.commandTimeoutMs * (CONFIG_ATTEMPTS + 1));
    this.#requesting = true;
    try {
      for (let attempt = 0; attempt < CONFIG_ATTEMPTS && !this.#stop.signal.aborted; ) {
        const cfg3 = this.#c.configFrame === 'cfg3' && !this.#fellBackToCfg2;
        this.#m.configRequests.inc({ source: this.#c.name, frame: cfg3 ? 'cfg3' : 'cfg2' });
        const waiting = this.#waitConfig(this.#c.commandTimeoutMs);
        await this.#send(this.#command(cfg3 ? Command.SEND_CFG3 : Command.SEND_CFG2));
        if (await waiting) return true;
        if (cfg3) {
          this.#fellBackToCfg2 = true;
          this.#ctx.log.info('no CFG-3 from the PMU; asking for CFG-2');
        } else attempt++;
        if (this.#c.transport !== 'udp' && !this.#tcp) return false;
      }
      return false;
    } finally {
      this.#requesting = false;
    }
  }

  #waitConfig(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (got: boolean): void => {
        clearTimeout(timer);
        this.#configWaiters = this.#configWaiters.filter((w) => w !== wake);
        resolve(got);
      };
      const wake = (): void => done(this.#decoder.layout(this.#c.idcode) !== undefined);
      this.#configWaiters.push(wake);
    });
  }

  #send(frame: Buffer): Promise<void> {
    if (this.#c.transport === 'udp') {
      const { host, port } = parseHostPort(this.#c.address ?? '');
      return this.#udp ? this.#udp.send(frame, host, port) : Promise.resolve();
    }
    return this.#tcp ? this.#tcp.send(frame) : Promise.resolve();
  }

  #command(command: number): Buffer {
    return encodeCommandNow(this.#c.idcode, command);
  }

  #onTcpData(chunk: Buffer, link: TcpLink): void {
    if (!this.#tcpFramer.push(chunk)) {
      // The framer holds its maximum without finding a frame end: drop what it holds as garbage.
      this.#ctx.log.warn({ peer: link.peer }, 'receive buffer overflow; resynchronising');
      this.#tcpFramer.reset();
      this.#tcpFramer.push(chunk);
    }
    this.#drain(this.#tcpFramer, link.peer, false);
  }

  // ── UDP ───────────────────────────────────────────────────────────────────────────────────

  async #runUdp(signal: AbortSignal): Promise<void> {
    this.#state = 'waiting for configuration';
    // UDP-only devices take commands on their UDP port (notes 28). Without an address, wait for
    // a device that sends its configuration by itself.
    if (!this.#c.address) return;
    while (!signal.aborted && !this.#decoder.layout(this.#c.idcode)) {
      if (await this.#requestConfig()) break;
      await sleep(this.#c.commandTimeoutMs, undefined, { signal }).catch(() => undefined);
    }
    if (!signal.aborted) await this.#send(this.#command(Command.DATA_ON));
  }

  #onDatagram(msg: Buffer, peer: string): void {
    const udp = this.#udp;
    if (!udp) return;
    if (!udp.accepts(peer.slice(0, peer.lastIndexOf(':')))) {
      this.#m.rejectedDatagrams.inc({ source: this.#c.name });
      return;
    }
    if (this.#paused) {
      this.#m.shed.inc({ source: this.#c.name });
      return;
    }
    // A datagram holds whole frames: frame it alone, and report a truncated tail as such.
    this.#udpFramer.reset();
    this.#udpFramer.push(msg);
    this.#drain(this.#udpFramer, peer, true);
  }

  // ── Frames to records ─────────────────────────────────────────────────────────────────────

  #drain(framer: Framer, peer: string, flush: boolean): void {
    const records: SourceRecord[] = [];
    const ingestUs = nowUs();
    const counts = new Map<FrameType, number>();
    const unsynced = { sync_lost: 0, time_unlocked: 0, clock_failure: 0 };
    for (;;) {
      const out = flush ? framer.flush() : framer.next();
      if (out.kind === 'none') break;
      if (out.kind === 'garbage') {
        this.#dead(records, out, 'framing', out.reason ?? 'bad-sync', `${out.length} bytes that are not a valid frame`, peer, ingestUs);
        continue;
      }
      const type = frameTypeOf(out.buf, out.offset) as FrameType;
      const idcode = idcodeOf(out.buf, out.offset);
      if (idcode !== this.#c.idcode) {
        this.#dead(records, out, 'decoding', 'unexpected-idcode', `stream IDCODE ${idcode}, configured ${this.#c.idcode}`, peer, ingestUs);
        continue;
      }
      const decoded = this.#decoder.decode(out.buf, out.offset, out.length);
      counts.set(type, (counts.get(type) ?? 0) + 1);
      switch (decoded.kind) {
        case 'data':
          this.#onData(decoded.columns.stat, decoded.columns.eventTimeUs);
          pmuFrameRecords(decoded.columns, ingestUs, 0, records);
          for (let p = 0; p < decoded.columns.layout.pmuCount; p++) {
            const q = decoded.columns.quality[p]!;
            if (q & Quality.SYNC_LOST) unsynced.sync_lost++;
            if (q & Quality.TIME_UNLOCKED) unsynced.time_unlocked++;
            if (q & Quality.CLOCK_FAILURE) unsynced.clock_failure++;
          }
          break;
        case 'config':
          if (decoded.active) this.#onConfig(decoded.config.dataRate, decoded.config.pmus.map((p) => p.cfgcnt));
          else this.#ctx.log.info('CFG-1 received (capability only, not used for decoding)');
          break;
        case 'header':
          this.#ctx.log.info({ text: decoded.text.slice(0, 500) }, 'PMU header');
          break;
        case 'fault':
          this.#dead(records, out, 'decoding', decoded.reason, decoded.detail, peer, ingestUs);
          if (decoded.reason === 'size-mismatch' || decoded.reason === 'no-config') this.#reconfigure('the data frames do not match the configuration');
          break;
        case 'command':
        case 'fragment':
          break;
      }
    }
    for (const [type, n] of counts) this.#m.frames.inc({ source: this.#c.name, type: FRAME_TYPE_NAMES[type] }, n);
    for (const [reason, n] of Object.entries(unsynced)) if (n > 0) this.#m.unsynced.inc({ source: this.#c.name, reason }, n);
    if (records.length > 0 && !this.#ctx.emit(records)) this.#pause();
  }

  #dead(records: SourceRecord[], out: FramerOutput, stage: 'framing' | 'decoding', reason: string, detail: string, peer: string, ingestUs: number): void {
    this.#m.badFrames.inc({ source: this.#c.name, reason });
    this.#m.badBytes.inc({ source: this.#c.name, reason }, out.length);
    const raw = out.buf.subarray(out.offset, out.offset + out.length);
    records.push(deadLetter({ stage, reason, detail, peer, streamOffset: out.streamOffset, raw }, ingestUs, Quality.DATA_INVALID));
  }

  #onData(stat: Uint16Array, eventTimeUs: number): void {
    this.#lastDataAtMs = Date.now();
    if (this.#stale) {
      this.#stale = false;
      this.#m.stale.set({ source: this.#c.name }, 0);
      this.#ctx.log.info('data flows again');
    }
    this.#state = 'receiving';
    const verdict = this.#tracker.observe(eventTimeUs);
    if (verdict === 'gap' || verdict === 'duplicate' || verdict === 'out-of-order') {
      for (const pmu of this.#decoder.layout(this.#c.idcode)?.config.pmus ?? []) {
        const labels = { source: this.#c.name, pmu: String(pmu.idcode) };
        if (verdict === 'gap') this.#m.gaps.inc(labels, this.#tracker.missing);
        else this.#m.duplicates.inc(labels);
      }
    }
    // STAT bit 10: the configuration changes within a minute. Ask once per episode; 0xFFFF is a
    // PDC's "no data" marker, not a flag word (notes 7).
    let changing = false;
    for (let p = 0; p < stat.length; p++) if (stat[p] !== Stat.ABSENT && stat[p]! & Stat.CONFIG_CHANGE) changing = true;
    if (changing && !this.#configChangeEpisode) this.#reconfigure('a PMU announced a configuration change');
    this.#configChangeEpisode = changing;
  }

  #onConfig(dataRate: number, cfgcnts: number[]): void {
    this.#tracker.configure(dataRate);
    this.#ctx.log.info({ dataRate, cfgcnt: cfgcnts }, 'configuration received');
    for (const wake of [...this.#configWaiters]) wake();
  }

  #reconfigure(why: string): void {
    if (this.#requesting || (this.#c.transport === 'udp' && !this.#c.address)) return;
    this.#ctx.log.info({ why }, 'requesting the configuration again');
    void this.#requestConfig();
  }

  #silent(): boolean {
    const period = this.#tracker.periodUs / 1000;
    // Paused by back-pressure, the silence is ours: resume() restarts the clock.
    if (this.#stale || this.#paused || this.#lastDataAtMs === 0 || period === 0) return false;
    return Date.now() - this.#lastDataAtMs > period * this.#c.staleAfterPeriods;
  }

  #checkStale(): void {
    if (!this.#silent()) return;
    // Timers run before the event loop polls its sockets. After a stall of the loop (a GC, a long
    // batch), the frames the device sent meanwhile are waiting in the socket, unread: look again
    // after the poll phase (setImmediate) has read them, before calling the device silent.
    setImmediate(() => this.#confirmStale());
  }

  #confirmStale(): void {
    if (this.#stop.signal.aborted || !this.#silent()) return;
    this.#stale = true;
    this.#m.stale.set({ source: this.#c.name }, 1);
    this.#ctx.log.warn({ periods: this.#c.staleAfterPeriods }, 'no data from the PMU; stream marked stale');
    // Over TCP a silent device gets a fresh connection (and handshake).
    this.#tcp?.close();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#tcp?.socket.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#lastDataAtMs !== 0) this.#lastDataAtMs = Date.now();
    this.#tcp?.socket.resume();
  }
}
