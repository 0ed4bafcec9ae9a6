import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

// Map between key paths and places in the YAML source, so every problem can be reported as
// file:line:column key.path. Paths are arrays of map keys and sequence indices.

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  col: number;
}

/** `kafka.brokers[0]`; the root is `(root)`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(root)' : out;
}

/** Split an ajv instancePath (a JSON pointer) into key path segments, digits as indices. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg;
    });
}

/**
 * The position of the value at `path`, or of its key when `atKey` is set. When the path does not
 * exist in the file (a missing key), the deepest node that does exist is used.
 */
export function positionOf(doc: Document, lines: LineCounter, path: KeyPath, atKey = false): Position {
  let node: unknown = doc.contents;
  let place: Node | null = isNode(node) ? node : null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      place = atKey && seg === path[path.length - 1] && isNode(pair.key) ? pair.key : isNode(pair.value) ? pair.value : place;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      if (isNode(node)) place = node;
    } else {
      break;
    }
  }
  return toPosition(lines, place?.range?.[0] ?? 0);
}

/** The key path of the innermost map entry or sequence item whose source span holds `offset`. */
export function pathAtOffset(doc: Document, offset: number): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && spans(p.key, p.value, offset));
      if (!pair || !isScalar(pair.key)) return path;
      const key = String(pair.key.value);
      if (spans(pair.key, pair.key, offset)) {
        // The problem is the key itself. Name it when it is one token (a duplicate key); a key
        // with white space is the debris of a broken line, so the path ends at the map holding it.
        if (!/\s/.test(key)) path.push(key);
        return path;
      }
      path.push(key);
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => spans(item, item, offset));
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else {
      return path;
    }
  }
}

export function toPosition(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  return { line, col };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

function spans(first: unknown, last: unknown, offset: number): boolean {
  const start = isNode(first) ? first.range?.[0] : undefined;
  const end = isNode(last) ? last.range?.[2] : isNode(first) ? first.range?.[2] : undefined;
  return start !== undefined && end !== undefined && start <= offset && offset <= end;
}
