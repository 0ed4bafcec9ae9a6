import {
  AttributeIds,
  DataType,
  makeEUInformation,
  PermissionType,
  StatusCodes,
  Variant,
  WellKnownRoles,
  type AddressSpace,
  type Namespace,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import { containerKind, containersOf, type TagSpec, type TagValue } from './tags.js';

// The tags (tags.ts) in node-opcua's address space, and the one timer's work: every updateMs, each
// variable gets its value at that instant with setValueFromSource (sourceTimestamp = the update
// time). Measured against bindVariable({ timestamped_get }) in the README: the eager timer costs
// CPU when nobody looks (~23 % of a core at 10,000 tags × 100 ms), but only values that are pushed
// can be served on change, node-opcua's cheapest way to deliver them: no per-item sampling timer.
//
// NodeIds are strings in the server's own namespace (index 1, URI urn:gridgate:simulator), equal
// to the tag's dotted name: ns=1;s=Substation.Feeder1.P. Containers are ns=1;s=Substation and
// ns=1;s=Substation.Feeder1. Browse paths are from the Objects folder: /1:Substation/1:Feeder1/1:P.

export interface ServedNode {
  name: string;
  nodeId: string;
  browsePath: string;
  dataType: TagSpec['dataType'];
}

const DATA_TYPES: Record<TagSpec['dataType'], DataType> = {
  Double: DataType.Double,
  Boolean: DataType.Boolean,
  Int32: DataType.Int32,
  String: DataType.String,
};

// Read and browse for every session, nothing else (the gateway never writes). Set on each node,
// which also spares the server a namespace metadata lookup on every sampled read (~15 % of a
// sampled item's cost, measured).
const READ_ONLY = [WellKnownRoles.Anonymous, WellKnownRoles.AuthenticatedUser].map((roleId) => ({
  roleId,
  permissions: PermissionType.Browse | PermissionType.Read | PermissionType.ReadRolePermissions,
}));

interface MonitoredItemInternals {
  node?: { nodeId: { namespace: number }; minimumSamplingInterval?: number } | null;
  itemToMonitor?: { attributeId: number };
  samplingInterval?: number;
  _exceptionBased?: unknown;
}

/**
 * node-opcua's onCreateMonitoredItem hook: an item on one of our values requested with a sampling
 * interval > 0 is served on change like one requested with 0, the revised interval becoming the
 * coalescing window (at most one value per interval, the latest). OPC 10000-4 §5.12.1.2 lets a
 * server monitor on exception rather than sample. node-opcua would otherwise sample each item with
 * a setImmediate and a permission-checked read: at 10,000 items × 100 ms one core saturates at
 * ~30,000 values/s. The switch is node-opcua's own flag (MonitoredItem._exceptionBased, private,
 * set by _set_parameters before this hook runs and read when monitoring starts after it); when a
 * node-opcua upgrade drops it, the assignment is skipped and items are sampled again.
 */
export function serveOnChange(namespaceIndex: () => number): (subscription: unknown, item: unknown) => Promise<typeof StatusCodes.Good> {
  return async (_subscription, item) => {
    const m = item as MonitoredItemInternals;
    if (
      typeof m._exceptionBased === 'boolean' &&
      !m._exceptionBased &&
      m.itemToMonitor?.attributeId === AttributeIds.Value &&
      m.node?.nodeId.namespace === namespaceIndex() &&
      m.node.minimumSamplingInterval === 0 &&
      (m.samplingInterval ?? 0) > 0
    ) {
      m._exceptionBased = true;
    }
    return StatusCodes.Good;
  };
}

export class ServedTags {
  readonly #namespace: Namespace;
  readonly #containers = new Map<string, UAObject>();
  /** Parallel arrays, in tag order: the variables updated by tick(), their specs, their last value. */
  #variables: UAVariable[] = [];
  #specs: TagSpec[] = [];
  #last: (TagValue | undefined)[] = [];
  readonly #byName = new Map<string, { spec: TagSpec; node: ServedNode }>();
  #updates = 0;

  constructor(addressSpace: AddressSpace, tags: readonly TagSpec[], nowMs: number) {
    this.#namespace = addressSpace.getOwnNamespace();
    const index = this.#namespace.index;
    for (const spec of tags) {
      const parent = this.#container(addressSpace, spec.name);
      const browseName = spec.name.slice(spec.name.lastIndexOf('.') + 1);
      const common = {
        componentOf: parent,
        browseName,
        nodeId: `s=${spec.name}`,
        dataType: spec.dataType,
        accessLevel: 'CurrentRead',
        userAccessLevel: 'CurrentRead',
        // 0: an item requested with samplingInterval 0 is served on change, without sampling.
        minimumSamplingInterval: 0,
        rolePermissions: READ_ONLY,
      } as const;
      const variable = spec.range
        ? this.#namespace.addAnalogDataItem({
            ...common,
            engineeringUnitsRange: spec.range,
            ...(spec.unit ? { engineeringUnits: makeEUInformation(spec.unit.code, spec.unit.symbol, spec.unit.description) } : {}),
          })
        : this.#namespace.addVariable(common);
      this.#variables.push(variable as UAVariable);
      this.#specs.push(spec);
      this.#last.push(undefined);
      const path = spec.name.split('.').map((part) => `/${index}:${part}`).join('');
      this.#byName.set(spec.name, { spec, node: { name: spec.name, nodeId: `ns=${index};s=${spec.name}`, browsePath: path, dataType: spec.dataType } });
    }
    this.tick(nowMs);
  }

  /** Every served tag, in namespace order. */
  get nodes(): ServedNode[] {
    return [...this.#byName.values()].map((t) => t.node);
  }

  get count(): number {
    return this.#variables.length;
  }

  /** setValueFromSource calls made so far. */
  get updates(): number {
    return this.#updates;
  }

  valueAt(name: string, ms: number): TagValue {
    const tag = this.#byName.get(name);
    if (!tag) throw new Error(`no tag named "${name}"`);
    return tag.spec.at(ms);
  }

  /**
   * Give every variable its value at nowMs, stamped nowMs. Doubles change at every update;
   * booleans, integers and strings are set only when they change, so their sourceTimestamp is the
   * time of the change (OPC 10000-4 §7.11: the source's last change of value or status).
   */
  tick(nowMs: number): void {
    const when = new Date(nowMs);
    const variables = this.#variables;
    const specs = this.#specs;
    const last = this.#last;
    let updates = 0;
    for (let i = 0; i < variables.length; i++) {
      const spec = specs[i]!;
      const value = spec.at(nowMs);
      if (spec.dataType !== 'Double' && value === last[i]) continue;
      last[i] = value;
      variables[i]!.setValueFromSource(new Variant({ dataType: DATA_TYPES[spec.dataType], value }), StatusCodes.Good, when);
      updates++;
    }
    this.#updates += updates;
  }

  /** Delete the variable (and its EURange, EngineeringUnits) from the address space; it is no longer updated. */
  remove(name: string): boolean {
    const tag = this.#byName.get(name);
    if (!tag) return false;
    const i = this.#specs.indexOf(tag.spec);
    const variable = this.#variables[i]!;
    this.#variables.splice(i, 1);
    this.#specs.splice(i, 1);
    this.#last.splice(i, 1);
    this.#byName.delete(name);
    this.#namespace.addressSpace.deleteNode(variable);
    return true;
  }

  #container(addressSpace: AddressSpace, name: string): UAObject {
    let parent = addressSpace.rootFolder.objects as unknown as UAObject;
    for (const path of containersOf(name)) {
      let node = this.#containers.get(path);
      if (!node) {
        const browseName = path.slice(path.lastIndexOf('.') + 1);
        node =
          containerKind(path) === 'folder'
            ? this.#namespace.addFolder(parent, { browseName, nodeId: `s=${path}`, rolePermissions: READ_ONLY })
            : this.#namespace.addObject({ organizedBy: parent, browseName, nodeId: `s=${path}`, rolePermissions: READ_ONLY });
        this.#containers.set(path, node);
      }
      parent = node;
    }
    return parent;
  }
}
