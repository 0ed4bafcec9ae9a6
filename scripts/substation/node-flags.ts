import { readFileSync } from 'node:fs';
import { packageFile } from '../../src/package-file.js';

// The Node flags the installed `gridgate` command runs with. They are set in one place, the
// launcher (scripts/bundle/gridgate.sh), and read from there so that the demo, the soak, the
// benchmarks and the tests run dist/ the way systemd runs the installed tree.

export const INSTALLED_NODE_FLAGS: readonly string[] = (() => {
  // Found from here whether this runs from scripts/ (tsx) or dist/scripts/ (the built demo).
  const launcher = packageFile('scripts/bundle/gridgate.sh', import.meta.url);
  if (!launcher) throw new Error('scripts/bundle/gridgate.sh not found above this module');
  const line = /^node_flags="([^"]*)"$/m.exec(readFileSync(launcher, 'utf8'));
  if (!line) throw new Error(`${launcher}: no node_flags="…" line`);
  return line[1]!.split(' ').filter(Boolean);
})();
