import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';

// The local single-node Kafka broker of scripts/kafka-local, on its own port and data directory,
// driven asynchronously (so a status view keeps refreshing while the JVM starts) for the demo and
// the soak test: start, stop (a clean shutdown: the outage the gateway sees is the same as a
// backhaul cut: connections refused until it is back), wipe.

export class LocalBroker {
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;

  constructor(port: number, dataDir: string, logFile: string) {
    this.port = port;
    this.dataDir = dataDir;
    this.logFile = logFile;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    return this.#run('start');
  }

  stop(): Promise<void> {
    return this.#run('stop');
  }

  /** Stop and delete the data directory (topics and all). */
  wipe(): Promise<void> {
    return this.#run('wipe');
  }

  /** Something accepts connections on the port (this broker or another program). */
  listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  async #run(command: string): Promise<void> {
    const out = openSync(this.logFile, 'a');
    try {
      const child = spawn('scripts/kafka-local', [command], {
        stdio: ['ignore', out, out],
        env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_DATA_DIR: this.dataDir },
        // The JVM it leaves running must not get a terminal's Ctrl-C: it is stopped in its turn.
        detached: true,
      });
      const [code] = await once(child, 'exit');
      if (code !== 0) throw new Error(`scripts/kafka-local ${command} failed (exit ${code}); see ${this.logFile}`);
    } finally {
      closeSync(out);
    }
  }
}
