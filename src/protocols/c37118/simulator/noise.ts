// Repeatable noise: a pure function of (seed, frame index, channel), not a generator's state, so a
// value depends only on the frame's time stamp. Frames skipped by back-pressure or dropped by a
// scenario do not shift the values of later frames, and a test can predict any frame on its own.

/** The finaliser of MurmurHash3: a good 32-bit mix. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1). `n` is a frame index (up to 2^53), `channel` any small integer. */
export function unit(seed: number, n: number, channel: number): number {
  const lo = n >>> 0;
  const hi = Math.floor(n / 0x1_0000_0000) >>> 0;
  let h = mix32((seed ^ 0x9e3779b9) >>> 0);
  h = mix32(h ^ lo);
  h = mix32(h ^ hi);
  h = mix32(h ^ Math.imul(channel + 1, 0x27d4eb2d));
  return h / 0x1_0000_0000;
}

/** Uniform in [-1, 1). */
export const symmetric = (seed: number, n: number, channel: number): number => 2 * unit(seed, n, channel) - 1;
