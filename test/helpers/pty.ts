import { spawn, spawnSync } from 'node:child_process';

// A serial line without hardware: socat joins two pseudo-terminals, so what one end writes the
// other reads (src/protocols/modbus/simulator/README.md). A Modbus server opens one end, the
// gateway the other. A pty keeps no line timing: the baud rate and parity are accepted and set,
// bytes arrive as fast as the processes move them. socat missing is an error that says to install
// it, never a skip (STYLE.md: peer tests run every time).

export interface PtyPair {
  /** The two ends, /dev/pts/N. */
  a: string;
  b: string;
  /** socat's process id. */
  pid: number;
  /** Ends socat (SIGTERM, SIGKILL after 2 s) and waits for it to exit. */
  close(): Promise<void>;
}

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and waits until both ends exist. */
export async function ptyPair(timeoutMs = 5000): Promise<PtyPair> {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).error) {
    throw new Error('socat is not on PATH: install socat (apt-get install socat); the RTU peer tests need a pty pair');
  }
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let text = '';
  const [a, b] = await new Promise<[string, string]>((resolve, reject) => {
    const fail = (why: string): void => {
      child.kill('SIGKILL');
      reject(new Error(`socat ${why}: ${text.trim() || '(no output)'}`));
    };
    const timer = setTimeout(() => fail(`did not report two ptys within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => (clearTimeout(timer), fail(err.message)));
    const early = (code: number | null, signal: string | null): void => (clearTimeout(timer), fail(`exited with ${code ?? signal} before the pair was ready`));
    child.once('exit', early);
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      // "N socat[pid] N PTY is /dev/pts/3" twice, then "starting data transfer loop".
      const paths = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (paths.length === 2 && text.includes('starting data transfer loop')) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve([paths[0]!, paths[1]!]);
      }
    });
  });
  child.stderr.removeAllListeners('data');
  child.stderr.resume();
  return {
    a,
    b,
    pid: child.pid!,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(kill);
    },
  };
}
