import { readFileSync } from 'node:fs';

// The package version, read from package.json: two levels up from src/ when run from source, three
// from dist/src/ when built.
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gridgate' && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return '0.0.0-unknown';
})();
