// Deterministic spool entries: record n's bytes say which n it is, so a reader can check that
// every record it gets back is exactly what was appended under that id. Plain JS so that child
// processes running the built gateway (no TypeScript loader) produce the same entries.

/** @param {number} n @param {number} [size] */
export function entry(n, size = 200) {
  const value = Buffer.alloc(size, n % 251);
  value.writeUInt32LE(n, 0);
  return {
    topic: n % 2 === 0 ? 'grid.pmu.frames' : 'grid.scada.values',
    key: `north/src/${n % 7}`,
    value,
    timestampMs: 1_700_000_000_000 + n,
    headers: { site: 'north', schema: 'test/1' },
  };
}

/** The size the crash and disk-full tests give record n (varied, so records straddle reads). */
/** @param {number} n */
export function sizeOf(n) {
  return 40 + ((n * 37) % 400);
}
