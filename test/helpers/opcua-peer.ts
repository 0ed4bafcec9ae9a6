import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertPythonEnv, VENV_PYTHON } from './python.js';

// The OPC UA peer tests' server: Python asyncua (test/peers/reference/opcua_server.py), a stack we
// did not write. Spec as JSON on stdin, "ready {json}" when serving, control commands as JSON
// lines (each answered "ack {json}"), "stats {json}" when stdin closes. The script's docstring
// has the value formulas, the certificate and the address space.

const SERVER = fileURLToPath(new URL('../peers/reference/opcua_server.py', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const ACK_TIMEOUT_MS = 5_000;

export type AsyncuaPolicy = 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss' | 'None';
export type AsyncuaMode = 'Sign' | 'SignAndEncrypt' | 'None';

/** One variable; the options beyond name and type shape its values (opcua_server.py's docstring). */
export interface AsyncuaTag {
  name: string;
  type: 'Double' | 'Float' | 'Int32' | 'UInt16' | 'Boolean' | 'String' | 'Int64';
  /** Double, Float: offset + amplitude·sin(2π·t·updateMs/periodMs + phase). */
  offset?: number;
  amplitude?: number;
  periodMs?: number;
  phase?: number;
  /**
   * Integers: start + t·step, wrapped to the type (Int64 past 2⁵³: a decimal string, which JSON
   * numbers in JavaScript cannot carry); Boolean: the value at t = 0.
   */
  start?: number | string | boolean;
  step?: number;
  /** String: values[t mod length]. */
  values?: string[];
}

export interface AsyncuaSpec {
  /** 0 (the default): a free port. */
  port?: number;
  /** Holds the server's certificate and key; a restart with the same dir keeps the certificate. */
  dir: string;
  policies?: AsyncuaPolicy[];
  modes?: AsyncuaMode[];
  /** Username → password. */
  users?: Record<string, string>;
  /** false: only the users may log in (default true). */
  anonymous?: boolean;
  updateMs?: number;
  tags: AsyncuaTag[];
}

export interface AsyncuaNode {
  name: string;
  /** `ns=<namespaceIndex>;s=<name>`. */
  nodeId: string;
  /** From the Root folder, RelativePath text (Part 4 A.2): `/Objects/2:Peer/2:Feeder1&.P`. */
  browsePath: string;
}

/** What opcua_server.py counted, printed when it stops (this process only: a restart starts over). */
export interface AsyncuaStats {
  /** Updates of every tag at once. */
  ticks: number;
  /** Variable writes (ticks × tags then present). */
  values: number;
  /** CreateSession requests. */
  sessions: number;
  /** SHA-1 of each client certificate seen (CreateSession), lowercase hex, in order first seen. */
  thumbprints: string[];
  removed: string[];
  frozen: boolean;
}

/** A running opcua_server.py. The fields are those of the process running now (a restart keeps them). */
export interface AsyncuaPeer {
  readonly endpoint: string;
  readonly port: number;
  readonly applicationUri: string;
  /** The server's certificate, DER. */
  readonly certificateFile: string;
  /** SHA-1 of the certificate's DER, lowercase hex. */
  readonly thumbprint: string;
  readonly namespaceIndex: number;
  readonly nodes: AsyncuaNode[];
  /** Deletes a variable: reads answer BadNodeIdUnknown, monitored items on it go bad. */
  remove(name: string): Promise<void>;
  /** Stops (true) or resumes (false) the value updates. */
  freeze(on: boolean): Promise<void>;
  /**
   * kill -9, then the same spec on the same port and dir: a server crash mid-stream. Every tag is
   * back (removed ones too), the tick count starts over, the certificate is the same.
   */
  restart(): Promise<void>;
  /** Closes its stdin (it stops), waits for it to exit, returns its counters. */
  stop(): Promise<AsyncuaStats>;
}

interface Ready {
  endpoint: string;
  port: number;
  applicationUri: string;
  certificate: string;
  thumbprint: string;
  namespaceIndex: number;
  nodes: AsyncuaNode[];
}

/** One opcua_server.py process and its stdout, read line by line. */
class PeerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | string>;
  ready: Ready | undefined;
  stats: AsyncuaStats | undefined;
  private out = '';
  private err = '';
  private readonly acks = new Map<number, (answer: { ok: boolean; error?: string }) => void>();

  constructor(spec: AsyncuaSpec) {
    this.child = spawn(VENV_PYTHON, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.read(chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.err = (this.err + chunk).slice(-8192);
    });
    // An EPIPE after a kill -9 is expected; anything else shows up as a missing ready or ack.
    this.child.stdin.on('error', () => {});
    this.child.stdin.write(`${JSON.stringify(spec)}\n`);
  }

  private read(chunk: string): void {
    this.out += chunk;
    let newline: number;
    while ((newline = this.out.indexOf('\n')) >= 0) {
      const line = this.out.slice(0, newline);
      this.out = this.out.slice(newline + 1);
      const space = line.indexOf(' ');
      const [word, json] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
      if (word === 'ready') this.ready = JSON.parse(json) as Ready;
      else if (word === 'stats') this.stats = JSON.parse(json) as AsyncuaStats;
      else if (word === 'ack') {
        const answer = JSON.parse(json) as { id: number; ok: boolean; error?: string };
        this.acks.get(answer.id)?.(answer);
        this.acks.delete(answer.id);
      }
    }
  }

  tail(): string {
    return this.err.trim().split('\n').slice(-15).join('\n');
  }

  async whenReady(): Promise<Ready> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!this.ready) {
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        this.child.kill('SIGKILL');
        await this.exited;
        throw new Error(`opcua_server.py did not get ready in ${START_TIMEOUT_MS / 1000} s (exit ${this.child.exitCode ?? this.child.signalCode}):\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.ready;
  }

  async command(id: number, command: Record<string, unknown>): Promise<void> {
    const answer = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`opcua_server.py did not answer ${JSON.stringify(command)} in ${ACK_TIMEOUT_MS} ms:\n${this.tail()}`));
      }, ACK_TIMEOUT_MS);
      this.acks.set(id, (a) => (clearTimeout(timer), resolve(a)));
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
    if (!answer.ok) throw new Error(`opcua_server.py refused ${JSON.stringify(command)}: ${answer.error}`);
  }
}

/** Starts opcua_server.py with the venv's Python; resolves once it serves (20 s at most). */
export async function startAsyncuaPeer(spec: AsyncuaSpec): Promise<AsyncuaPeer> {
  assertPythonEnv();
  let current = new PeerProcess(spec);
  let ready = await current.whenReady();
  let nextId = 1;
  return {
    get endpoint() {
      return ready.endpoint;
    },
    get port() {
      return ready.port;
    },
    get applicationUri() {
      return ready.applicationUri;
    },
    get certificateFile() {
      return ready.certificate;
    },
    get thumbprint() {
      return ready.thumbprint;
    },
    get namespaceIndex() {
      return ready.namespaceIndex;
    },
    get nodes() {
      return ready.nodes;
    },
    remove: (name) => current.command(nextId++, { remove: name }),
    freeze: (on) => current.command(nextId++, { freeze: on }),
    async restart() {
      current.child.kill('SIGKILL');
      await current.exited;
      current = new PeerProcess({ ...spec, port: ready.port });
      ready = await current.whenReady();
    },
    async stop() {
      current.child.stdin.end();
      const kill = setTimeout(() => current.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const status = await current.exited;
      clearTimeout(kill);
      if (status !== 0 || !current.stats) throw new Error(`opcua_server.py exited with ${status} and ${current.stats ? 'stats' : 'no stats'}:\n${current.tail()}`);
      return current.stats;
    },
  };
}
