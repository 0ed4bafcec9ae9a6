// Test helper for the tshark peer test (../tshark-decoder.test.ts), shared by its comparisons
// (synphasor-compare.ts, synphasor-compare-data.ts): reading tshark's tree, whose fields are
// documented in tshark.ts, and the bookkeeping of what the compared frames exercised.
import assert from 'node:assert/strict';
import { subtrees, type TsharkFrame } from './tshark.js';

// ---------------------------------------------------------------------------------------------
// Reading tshark's tree

export const one = (frame: TsharkFrame, name: string): string => {
  const values = frame.get(name);
  assert.equal(values.length, 1, `expected one ${name}, tshark printed ${values.length}`);
  return values[0]!;
};
export const oneField = (frame: TsharkFrame, name: string) => {
  const fields = frame.all(name);
  assert.equal(fields.length, 1, `expected one ${name}, tshark printed ${fields.length}`);
  return fields[0]!;
};
export const int = (s: string): number => {
  const n = Number(s);
  assert.ok(Number.isInteger(n), `not an integer: ${s}`);
  return n;
};
export const hex = (value: string | undefined): Buffer => {
  assert.ok(value !== undefined, 'tshark printed no bytes for the field');
  return Buffer.from(value, 'hex');
};
export const quoted = (show: string): string => {
  const m = /"(.*)"$/su.exec(show);
  assert.ok(m, `no quoted name in ${show}`);
  return m[1]!;
};
/**
 * CFG-3 names are UTF-8 (Table 11) and we decode them so; tshark reads them as ASCII and shows
 * each byte >= 0x80 as U+FFFD. This is what tshark shows for one of our names.
 */
export const asAscii = (name: string): string =>
  [...Buffer.from(name, 'utf8')].map((b) => (b < 0x80 ? String.fromCharCode(b) : '\ufffd')).join('');
export const heads = (frame: TsharkFrame, re: RegExp) => subtrees(frame, (f) => f.name === '' && re.test(f.show));
export const padTrim = (s: string): string => s.replace(/[\0 ]+$/u, '');

// ---------------------------------------------------------------------------------------------
// What the frames exercised (each test asserts that its data covered what it claims)

export interface Seen {
  stat: Map<string, Set<unknown>>;
  timeQuality: Set<number>;
  leapBits: Set<number>;
  formats: Set<number>;
  frameTypes: Set<number>;
  absent: Set<string>;
}

export const newSeen = (): Seen => ({
  stat: new Map(),
  timeQuality: new Set(),
  leapBits: new Set(),
  formats: new Set(),
  frameTypes: new Set(),
  absent: new Set(),
});
export const see = (seen: Seen, key: string, value: unknown): void => {
  if (!seen.stat.has(key)) seen.stat.set(key, new Set());
  seen.stat.get(key)!.add(value);
};
