import type { SpoolEntry } from '../../src/buffer/entry-codec.js';
export function entry(n: number, size?: number): SpoolEntry & { headers: Record<string, string> };
export function sizeOf(n: number): number;
