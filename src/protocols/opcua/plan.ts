import type { OpcuaGroupConfig, OpcuaItemConfig, OpcuaSourceConfig } from './config.js';

// The source's items resolved once from the config: each item's effective monitoring settings
// (its own, else its group's, else the defaults), and the subscriptions they need: one per
// distinct publishing interval. Pure: the config check calls it too.

export interface Deadband {
  type: 'absolute' | 'percent';
  value: number;
}

export interface Monitoring {
  samplingIntervalMs: number;
  queueSize: number;
  discardOldest: boolean;
  deadband: Deadband | undefined;
}

export interface PlannedItem {
  /** Position in the config's items (for problems and the probe). */
  index: number;
  name: string;
  nodeId: string | undefined;
  browsePath: BrowseStep[] | undefined;
  /** The node as written (nodeId or browsePath), for logs and records until it is resolved. */
  target: string;
  unit: string;
  group: string;
  publishingIntervalMs: number;
  monitoring: Monitoring;
}

export interface BrowseStep {
  namespaceIndex: number;
  name: string;
}

export interface SubscriptionPlan {
  publishingIntervalMs: number;
  items: PlannedItem[];
}

export interface Problem {
  path: (string | number)[];
  message: string;
}

/** i=, s=, g=, b= identifiers, with ns=<index>; or nsu=<uri>; in front (Part 6 §5.3.1.10). */
const NODE_ID = /^(?:(?:ns=(\d{1,5})|nsu=[^;\n]+);)?(?:i=(\d{1,10})|s=[^\n]+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/=]*)$/;
const MAX_NAMESPACE = 65_535;
const MAX_NUMERIC_ID = 4_294_967_295;

/** True when the text is a NodeId a session can use (indexes within UInt16, numeric ids within UInt32). */
export function isNodeId(text: string): boolean {
  const m = NODE_ID.exec(text);
  return m !== null && Number(m[1] ?? 0) <= MAX_NAMESPACE && Number(m[2] ?? 0) <= MAX_NUMERIC_ID;
}

/** "/2:Substation/2:Feeder1/2:P": steps from the Objects folder, each [namespaceIndex:]BrowseName (index 0 when absent). */
export function parseBrowsePath(text: string): BrowseStep[] | string {
  if (!text.startsWith('/')) return 'a browse path starts with / (the Objects folder)';
  const steps = text.slice(1).split('/');
  const parsed: BrowseStep[] = [];
  for (const step of steps) {
    const m = /^(?:(\d+):)?(.*)$/s.exec(step)!;
    if (m[2] === '') return `empty step "${step}" in browse path ${text}`;
    const namespaceIndex = m[1] === undefined ? 0 : Number(m[1]);
    if (namespaceIndex > MAX_NAMESPACE) return `namespace index ${namespaceIndex} in browse path ${text} is above ${MAX_NAMESPACE}`;
    parsed.push({ namespaceIndex, name: m[2]! });
  }
  return parsed;
}

const DEFAULTS = { samplingIntervalMs: -1, queueSize: 1, discardOldest: true } as const;

function monitoringOf(item: OpcuaItemConfig, group: OpcuaGroupConfig | undefined): Monitoring {
  // Sampling defaults to the publishing interval (-1 in OPC UA: "the publishing interval").
  return {
    samplingIntervalMs: item.samplingIntervalMs ?? group?.samplingIntervalMs ?? DEFAULTS.samplingIntervalMs,
    queueSize: item.queueSize ?? group?.queueSize ?? DEFAULTS.queueSize,
    discardOldest: item.discardOldest ?? group?.discardOldest ?? DEFAULTS.discardOldest,
    deadband: item.deadband ?? group?.deadband,
  };
}

export function planItems(source: OpcuaSourceConfig): { items: PlannedItem[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const names = new Set<string>();
  const items: PlannedItem[] = [];
  source.items.forEach((item, index) => {
    const at = (...path: (string | number)[]): (string | number)[] => ['items', index, ...path];
    if ((item.nodeId === undefined) === (item.browsePath === undefined)) {
      problems.push({ path: at(), message: 'an item names its node with exactly one of nodeId and browsePath' });
      return;
    }
    let browsePath: BrowseStep[] | undefined;
    if (item.nodeId !== undefined && !isNodeId(item.nodeId)) {
      problems.push({ path: at('nodeId'), message: `"${item.nodeId}" is not a NodeId (ns=2;s=Name, ns=2;i=1001, i=2258, nsu=<uri>;s=Name …)` });
    }
    if (item.browsePath !== undefined) {
      const parsed = parseBrowsePath(item.browsePath);
      if (typeof parsed === 'string') problems.push({ path: at('browsePath'), message: parsed });
      else browsePath = parsed;
    }
    const target = item.nodeId ?? item.browsePath!;
    const name = item.name ?? target;
    if (item.name === undefined && !/^[^\s]{1,255}$/.test(name)) problems.push({ path: at(), message: 'give this item a name: its node is not usable as one' });
    const nameKey = item.name !== undefined ? 'name' : item.nodeId !== undefined ? 'nodeId' : 'browsePath';
    if (names.has(name)) problems.push({ path: at(nameKey), message: `"${name}" names another item of this source already` });
    names.add(name);
    const group = source.groups[item.group];
    if (!group) problems.push({ path: at('group'), message: `no group "${item.group}" in this source's groups (${Object.keys(source.groups).join(', ') || 'none'})` });
    items.push({
      index,
      name,
      nodeId: item.nodeId,
      browsePath,
      target,
      unit: item.unit,
      group: item.group,
      publishingIntervalMs: group?.publishingIntervalMs ?? 1000,
      monitoring: monitoringOf(item, group),
    });
  });
  return { items, problems };
}

/** One subscription per publishing interval, fastest first. */
export function planSubscriptions(items: readonly PlannedItem[]): SubscriptionPlan[] {
  const byInterval = new Map<number, PlannedItem[]>();
  for (const item of items) {
    const list = byInterval.get(item.publishingIntervalMs) ?? [];
    list.push(item);
    byInterval.set(item.publishingIntervalMs, list);
  }
  return [...byInterval.entries()].sort(([a], [b]) => a - b).map(([publishingIntervalMs, list]) => ({ publishingIntervalMs, items: list }));
}

/** What the schema cannot say about an OPC UA source (paths relative to the source). */
export function opcuaProblems(source: OpcuaSourceConfig): Problem[] {
  const found: Problem[] = [];
  if (source.securityPolicy !== undefined && (source.securityMode === 'None') !== (source.securityPolicy === 'None')) {
    found.push({ path: ['securityPolicy'], message: `securityMode ${source.securityMode} with securityPolicy ${source.securityPolicy}: None goes with None only` });
  }
  const id = source.identity;
  const extra = (keys: (keyof typeof id)[]): void => {
    for (const k of keys) if (id[k] !== undefined) found.push({ path: ['identity', k], message: `identity type ${id.type} takes no ${k}` });
  };
  if (id.type === 'anonymous') extra(['username', 'password', 'passwordFile', 'certificateFile', 'privateKeyFile']);
  if (id.type === 'username') {
    if (!id.username) found.push({ path: ['identity'], message: 'identity type username needs username' });
    if ((id.password === undefined) === (id.passwordFile === undefined)) found.push({ path: ['identity'], message: 'identity type username needs exactly one of password (${ENV}) and passwordFile' });
    extra(['certificateFile', 'privateKeyFile']);
  }
  if (id.type === 'certificate') {
    if (!id.certificateFile || !id.privateKeyFile) found.push({ path: ['identity'], message: 'identity type certificate needs certificateFile and privateKeyFile' });
    extra(['username', 'password', 'passwordFile']);
  }
  if (id.type !== 'anonymous' && source.securityMode === 'None') {
    found.push({ path: ['identity', 'type'], message: `a ${id.type} identity over securityMode None would send the credential unprotected: use Sign or SignAndEncrypt` });
  }
  found.push(...planItems(source).problems);
  return found;
}
