// npm run schema: regenerate config/schema.json and the key reference in docs/config.md from the
// TypeBox schemas in src/. A unit test fails while either is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { REFERENCE_BEGIN, REFERENCE_END, referenceMarkdown, schemaJson } from '../src/config/schema-docs.js';

const root = new URL('../', import.meta.url);
writeFileSync(new URL('config/schema.json', root), schemaJson());

const docsUrl = new URL('docs/config.md', root);
const docs = readFileSync(docsUrl, 'utf8');
const begin = docs.indexOf(REFERENCE_BEGIN);
const end = docs.indexOf(REFERENCE_END);
if (begin < 0 || end < begin) throw new Error(`docs/config.md lacks the ${REFERENCE_BEGIN} … ${REFERENCE_END} markers`);
writeFileSync(docsUrl, `${docs.slice(0, begin + REFERENCE_BEGIN.length)}\n${referenceMarkdown()}\n${docs.slice(end)}`);
console.log('wrote config/schema.json and the reference in docs/config.md');
