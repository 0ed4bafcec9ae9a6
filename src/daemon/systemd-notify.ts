import { DgramSocket } from 'node-unix-socket';
import type { Logger } from '../observability/logger.js';

// sd_notify(3) without libsystemd: one datagram of `KEY=value` lines to the unix socket named by
// $NOTIFY_SOCKET (a path, or an abstract name written with a leading @). Node's dgram module has
// no unix datagram sockets, so the socket comes from node-unix-socket: a Node-API addon with
// prebuilt binaries, so the same file loads on Node 20 and on the bundle's Node 24 without a
// compiler (systemd/README.md says why this one and not the alternatives).
//
// Outside systemd (no NOTIFY_SOCKET) every call is a no-op. A failed send is logged once and never
// stops the gateway: losing a STATUS line must not cost data.

/** NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, as systemd sets them. */
export type NotifyEnv = NodeJS.ProcessEnv;

export class SystemdNotifier {
  readonly #path: string | undefined;
  readonly #watchdogMs: number | undefined;
  readonly #log: Logger;
  #socket: DgramSocket | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(log: Logger, env: NotifyEnv = process.env) {
    this.#log = log;
    const socket = env['NOTIFY_SOCKET'];
    // Abstract socket names are written @name and sent to as \0name.
    this.#path = socket ? (socket.startsWith('@') ? `\0${socket.slice(1)}` : socket) : undefined;
    this.#watchdogMs = watchdogIntervalMs(env);
  }

  /** True under a Type=notify unit. */
  get enabled(): boolean {
    return this.#path !== undefined;
  }

  ready(status: string): void {
    this.#send(`READY=1\nSTATUS=${status}`);
  }

  status(status: string): void {
    this.#send(`STATUS=${status}`);
  }

  /** RELOADING=1 then, via ready(), READY=1: systemctl shows the unit as reloading in between. */
  reloading(): void {
    this.#send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}\nSTATUS=reloading the config`);
  }

  stopping(status: string): void {
    this.#send(`STOPPING=1\nSTATUS=${status}`);
  }

  /**
   * Ping at half of WatchdogSec= from the event loop itself, so a loop stuck for longer than
   * WatchdogSec (a busy loop, a deadlock in a callback) gets the process killed and restarted.
   */
  startWatchdog(): void {
    if (this.#watchdogMs === undefined || this.#watchdog) return;
    this.#send('WATCHDOG=1');
    this.#watchdog = setInterval(() => this.#send('WATCHDOG=1'), this.#watchdogMs / 2);
    this.#watchdog.unref();
  }

  close(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.#socket?.close();
    this.#socket = undefined;
  }

  #send(message: string): void {
    if (this.#path === undefined) return;
    try {
      this.#socket ??= new DgramSocket();
      const data = Buffer.from(message);
      this.#socket.sendTo(data, 0, data.length, this.#path, (err) => {
        if (err) this.#warnOnce(err);
      });
    } catch (err) {
      this.#warnOnce(err);
    }
  }

  #warnOnce(err: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#log.warn({ err: (err as Error).message, socket: this.#path }, 'cannot notify systemd (NOTIFY_SOCKET); further failures are not logged');
  }
}

/** WATCHDOG_USEC in milliseconds, if the watchdog is on and meant for this process. */
function watchdogIntervalMs(env: NotifyEnv): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env['WATCHDOG_PID'] !== undefined && Number(env['WATCHDOG_PID']) !== process.pid) return undefined;
  return usec / 1000;
}

/** CLOCK_MONOTONIC in microseconds: what systemd compares RELOADING=1 against. */
function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}
