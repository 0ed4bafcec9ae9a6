import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { REFERENCE_BEGIN, REFERENCE_END, keyPaths, referenceMarkdown, schemaJson } from '../../../src/config/schema-docs.js';
import { SiteConfigSchema } from '../../../src/config/site-schema.js';

interface Node {
  type?: string;
  description?: string;
  additionalProperties?: boolean;
  properties?: Record<string, Node>;
  items?: Node;
  oneOf?: Node[];
}

function* objects(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [key, child] of Object.entries(node.properties ?? {})) yield* objects(child, path ? `${path}.${key}` : key);
  if (node.items) yield* objects(node.items, `${path}[]`);
  for (const [i, variant] of (node.oneOf ?? []).entries()) yield* objects(variant, `${path}(${i})`);
}

describe('the site schema', () => {
  it('is JSON Schema 2020-12 with an id', () => {
    const schema = JSON.parse(schemaJson()) as { $schema: string; $id: string };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.match(schema.$id, /^urn:gridgate:/);
  });

  it('describes every key', () => {
    for (const [path, node] of objects(SiteConfigSchema as unknown as Node, '')) {
      assert.ok(node.description && node.description.length > 10, `${path || '(root)'} needs a description`);
    }
  });

  it('closes every object to unknown keys', () => {
    for (const [path, node] of objects(SiteConfigSchema as unknown as Node, '')) {
      // A union of variants (sources) is closed by each variant.
      if (node.type === 'object' && !node.oneOf) assert.equal(node.additionalProperties, false, `${path || '(root)'} must set additionalProperties: false`);
    }
  });

  it('matches the committed config/schema.json (run npm run schema after changing a schema)', () => {
    assert.equal(readFileSync('config/schema.json', 'utf8'), schemaJson());
  });

  it('matches the generated reference in docs/config.md (run npm run schema)', () => {
    const docs = readFileSync('docs/config.md', 'utf8');
    const section = docs.slice(docs.indexOf(REFERENCE_BEGIN) + REFERENCE_BEGIN.length, docs.indexOf(REFERENCE_END));
    assert.equal(section.trim(), referenceMarkdown());
    for (const path of keyPaths()) assert.ok(section.includes(`\`${path}\``), path);
  });

  it('accepts every sample config shipped in config/', async () => {
    const samples = readdirSync('config').filter((f) => f.endsWith('.yaml'));
    assert.ok(samples.length > 0);
    for (const sample of samples) await loadConfig(`config/${sample}`, { GRIDGATE_KAFKA_PASSWORD: 'x' });
  });
});
