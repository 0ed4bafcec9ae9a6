import { SiteConfigSchema } from './site-schema.js';

// What `npm run schema` writes, as pure functions so a test can compare them with the committed
// files: config/schema.json (for editors and other tools) and the key reference in
// docs/config.md, between the markers below.

export const REFERENCE_BEGIN = '<!-- BEGIN GENERATED REFERENCE: npm run schema -->';
export const REFERENCE_END = '<!-- END GENERATED REFERENCE -->';

interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  secret?: boolean;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  const?: unknown;
}

/** The JSON Schema as committed in config/schema.json (TypeBox's symbol keys drop out). */
export function schemaJson(): string {
  return `${JSON.stringify(SiteConfigSchema, null, 2)}\n`;
}

/** One row per key: every key path the schema allows, with type, default and description. */
export function referenceMarkdown(): string {
  const rows = entries().map(
    ({ path, node, required }) => `| \`${path}\` | ${typeOf(node)} | ${defaultOf(node, required)} | ${describe(node)} |`,
  );
  return ['| key | type | default | description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every key path in the schema (`kafka.security.sasl.password`, list items as `brokers[]`). */
export function keyPaths(): string[] {
  return entries().map((e) => e.path);
}

interface Entry {
  path: string;
  node: SchemaNode;
  required: boolean;
}

function entries(): Entry[] {
  const out: Entry[] = [];
  const walk = (node: SchemaNode, path: string, required: boolean): void => {
    if (path !== '') out.push({ path, node, required });
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      walk(child, path === '' ? key : `${path}.${key}`, node.required?.includes(key) ?? false);
    }
    if (node.items?.properties) walk(node.items, `${path}[]`, true);
    // A list of variants chosen by `type` (sources): each variant's keys under sources[type=…].
    for (const variant of node.items?.oneOf ?? []) walk(variant, `${path}[type=${String(variant.properties?.type?.const)}]`, true);
  };
  walk(SiteConfigSchema as unknown as SchemaNode, '', true);
  return out;
}

function typeOf(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.type === 'array') return `list of ${node.items?.type ?? (node.items?.oneOf ? 'object' : 'any')}`;
  return node.secret ? 'secret (`${ENV}`)' : (node.type ?? 'any');
}

function defaultOf(node: SchemaNode, required: boolean): string {
  if (node.default !== undefined && node.type !== 'object') return `\`${JSON.stringify(node.default)}\``;
  if (node.type === 'object') return '';
  return required ? '**required**' : '';
}

function describe(node: SchemaNode): string {
  const bounds: string[] = [];
  if (node.minimum !== undefined && node.maximum !== undefined) bounds.push(`${node.minimum} to ${node.maximum}`);
  if (node.minItems !== undefined) bounds.push(`at least ${node.minItems}`);
  if (node.pattern !== undefined) bounds.push(`pattern \`${node.pattern}\``);
  const text = (node.description ?? '').replace(/\|/g, '\\|');
  return bounds.length > 0 ? `${text} (${bounds.join('; ')})` : text;
}
