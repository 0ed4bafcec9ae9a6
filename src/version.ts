import { readFileSync } from 'node:fs';
import { packageFile } from './package-file.js';

// The package version, read from the package's package.json (src/ or dist/src/ below it).
export const VERSION: string = (() => {
  const file = packageFile('package.json', import.meta.url);
  try {
    const pkg = JSON.parse(readFileSync(file ?? '', 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'gridgate' && pkg.version) return pkg.version;
  } catch {
    // no package.json above this module: an unknown version, not a failure
  }
  return '0.0.0-unknown';
})();
