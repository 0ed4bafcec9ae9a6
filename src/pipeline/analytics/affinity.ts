import type { ResolvedPair } from './angle-pair.js';

// Which worker owns a stream: a hash of its key, except that the two buses of an angle pair must
// share a worker (the pair's Δθ needs both). Pairs are joined with union-find over their keys, so
// chains (A–B, B–C) land together too; everything is decided from the config, once, at start.

/** FNV-1a, 32 bits: stable across runs and platforms. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Affinity {
  readonly #pinned = new Map<string, number>();

  constructor(
    readonly shards: number,
    pairs: readonly ResolvedPair[],
  ) {
    const parent = new Map<string, string>();
    const find = (k: string): string => {
      let root = k;
      while (parent.get(root) !== root) root = parent.get(root)!;
      parent.set(k, root);
      return root;
    };
    for (const { a, b } of pairs) {
      for (const k of [a, b]) if (!parent.has(k)) parent.set(k, k);
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
    }
    for (const k of parent.keys()) this.#pinned.set(k, fnv1a(find(k)) % shards);
  }

  shardOf(key: string): number {
    return this.#pinned.get(key) ?? fnv1a(key) % this.shards;
  }
}
