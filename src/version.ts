import { readFileSync } from 'node:fs';
import { packageFile } from './package-file.js';

// The package version, read from the package's package.json (src/ or dist/src/ below it).
export const VERSION: string = (() => {
  const UNKNOWN = '0.0.0-unknown';
  // No package.json above this module, or not ours, or unreadable: an unknown version, not a failure.
  const file = packageFile('package.json', import.meta.url);
  if (!file) return UNKNOWN;
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'gridgate' && pkg.version) return pkg.version;
  } catch {
    // unreadable or not JSON: as above
  }
  return UNKNOWN;
})();
