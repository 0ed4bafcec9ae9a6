import { readFileSync } from 'node:fs';

// The Node flags the installed `gridgate` command runs with. They are set in one place, the
// launcher (scripts/bundle/gridgate.sh), and read from there so that the demo, the soak, the
// benchmarks and the tests run dist/ the way systemd runs the installed tree.

const LAUNCHER = new URL('../bundle/gridgate.sh', import.meta.url);

export const INSTALLED_NODE_FLAGS: readonly string[] = (() => {
  const line = /^node_flags="([^"]*)"$/m.exec(readFileSync(LAUNCHER, 'utf8'));
  if (!line) throw new Error(`${LAUNCHER.pathname}: no node_flags="…" line`);
  return line[1]!.split(' ').filter(Boolean);
})();
