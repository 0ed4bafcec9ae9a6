import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { INSTALLED_NODE_FLAGS } from './node-flags.js';

// The processes of a simulated substation (simulators, the gateway), run from dist/ as installed
// (with the installed command's Node flags):
// each child's output goes to a log file, a simulator's one JSON status line is read off its
// stdout, and the group stops them in reverse order of start (the gateway before its devices), or
// kills what is left if this process dies first.

export const BIN = 'dist/src/main.js';

export interface ChildOptions {
  /** Where the child's stdout and stderr go (appended). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** The child prints one JSON status line on stdout when ready (`gridgate simulate …`). */
  statusLine?: boolean;
  /** Node flags before the script (e.g. --import a probe). */
  nodeFlags?: string[];
}

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  /** The JSON status line, for children started with statusLine. */
  readonly ready: Promise<Record<string, unknown>>;
  readonly #log: WriteStream;
  readonly #logFile: string;

  constructor(name: string, args: string[], options: ChildOptions) {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
    this.name = name;
    this.#logFile = options.logFile;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
    this.process = spawn(process.execPath, [...INSTALLED_NODE_FLAGS, ...(options.nodeFlags ?? []), BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      // Its own process group: a Ctrl-C in the terminal reaches only us, and we stop the children
      // in order (the gateway before its devices and the broker).
      detached: true,
    });
    this.process.stderr!.pipe(this.#log, { end: false });
    this.exited = once(this.process, 'exit').then(([code, signal]) => {
      this.#log.end(`# ${name} exited: ${code ?? signal}\n`);
      return code as number | null;
    });
    if (!options.statusLine) {
      this.process.stdout!.pipe(this.#log, { end: false });
      this.ready = Promise.resolve({});
      return;
    }
    this.ready = new Promise((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        const newline = text.indexOf('\n');
        if (newline < 0) return;
        this.process.stdout!.off('data', onData);
        this.#log.write(text);
        this.process.stdout!.pipe(this.#log, { end: false });
        try {
          resolve(JSON.parse(text.slice(0, newline)) as Record<string, unknown>);
        } catch {
          reject(new Error(`${name}: not a status line: ${text.slice(0, newline)}`));
        }
      };
      this.process.stdout!.on('data', onData);
      void this.exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready; see ${options.logFile}`)));
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Poll `get` every 200 ms until `ok` says yes; fails when this child exits first, or after timeoutMs. */
  async until<T>(get: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await get();
      if (ok(value)) return value;
      if (!this.running) throw new Error(`${this.name} exited before ${what}; see ${this.#logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: not ${what} within ${timeoutMs / 1000} s; see ${this.#logFile}`);
      await sleep(200);
    }
  }

  /** SIGTERM, then SIGKILL after timeoutMs; resolves with the exit code (null when killed). */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export class ProcessGroup {
  readonly #children: Child[] = [];
  readonly #onExit = (): void => {
    for (const c of this.#children) if (c.running) c.process.kill('SIGKILL');
  };

  constructor() {
    process.on('exit', this.#onExit);
  }

  start(name: string, args: string[], options: ChildOptions): Child {
    const child = new Child(name, args, options);
    this.#children.push(child);
    return child;
  }

  children(): readonly Child[] {
    return this.#children;
  }

  /** Forget a child that was stopped or killed on purpose (a restart adds its successor). */
  remove(child: Child): void {
    const at = this.#children.indexOf(child);
    if (at >= 0) this.#children.splice(at, 1);
  }

  /** Stop every child, the last started first. */
  async stopAll(timeoutMs?: number): Promise<void> {
    for (const child of [...this.#children].reverse()) await child.stop(timeoutMs);
    this.#children.length = 0;
    process.off('exit', this.#onExit);
  }
}
