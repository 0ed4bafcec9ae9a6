import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '../../observability/logger.js';

// node-opcua prints its own warnings and errors with console.log, i.e. on stdout: between our JSON
// log lines, and into the machine-readable stdout of `probe --json` and `simulate`. Route them into
// pino instead (library: node-opcua): its warnings at debug level (they describe what the source
// handles and logs itself in one line: an untrusted certificate is 13 lines of W25), its errors at
// warn.
//
// NODE-OPCUA-W27 says RSA PKCS#1 v1.5 decryption is disabled on Node ≥ 20.11 (CVE-2023-46809): it
// matters to the deprecated Basic128Rsa15 and Basic256 policies only, which gridgate does not offer
// (the three it offers encrypt with RSA-OAEP).

const QUIET = [/NODE-OPCUA-W27/, /security-revert=CVE-2023-46809/];

let target: Logger | undefined;

function route(level: 'warn' | 'error') {
  return (data: unknown, ...args: unknown[]): void => {
    const context = data as { filename?: string; callerline?: number } | undefined;
    const text = format(...args);
    const quiet = QUIET.some((re) => re.test(text));
    if (!target) {
      if (!quiet) process.stderr.write(`node-opcua ${level}: ${text}\n`);
      return;
    }
    const where = context?.filename ? `${context.filename}:${context.callerline ?? 0}` : undefined;
    if (quiet) target.debug({ where }, text);
    else if (level === 'error') target.warn({ where }, text);
    else target.debug({ where }, text);
  };
}

setWarningLogger(route('warn'));
setErrorLogger(route('error'));

/** Send node-opcua's own messages to this logger from now on (the last caller wins: one process, one library). */
export function routeLibraryLogs(log: Logger): void {
  target = log.child({ library: 'node-opcua' });
}
