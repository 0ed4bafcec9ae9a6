import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A file of this package, by its path from the package root, found from the calling module's own
// location: the nearest directory above the module that has it. The same code runs from the
// source tree (src/…, scripts/…, under tsx), from the build (dist/src/…, dist/scripts/…) and from
// the installed app (/usr/lib/gridgate/app/dist/src/…), each a different depth below the root.

export function packageFile(path: string, moduleUrl: string): string | undefined {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    const candidate = join(dir, path);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
