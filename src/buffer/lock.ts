import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';

// One owner per spool directory: two writers would interleave records. The lock is a file created
// exclusively holding the owner's pid; a lock left by a process that no longer exists (kill -9,
// power loss) is taken over. A lock naming our own pid is ours only if this process took it (the
// set below, process-wide by nature); otherwise it is a stale lock whose pid was reused.

const HELD = new Set<string>();

export const LOCK_FILE = 'lock';

export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o640);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      HELD.add(path);
      return async () => {
        HELD.delete(path);
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      const ours = owner === process.pid && HELD.has(path);
      if (ours || (owner > 0 && owner !== process.pid && isAlive(owner))) {
        throw new GatewayError('GW_ERR_SPOOL_LOCKED', `spool ${dir} is in use by process ${owner}`);
      }
      await unlink(path).catch(() => undefined); // stale: its owner is gone
    }
  }
  throw new GatewayError('GW_ERR_SPOOL_LOCKED', `spool ${dir}: could not take the lock`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
