import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  BrowsePath,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  UserTokenType,
  type ClientSession,
  type OPCUACertificateManager,
  type StatusCode,
  type UserIdentityInfo,
} from 'node-opcua';
import { securityPolicyOf, type OpcuaSourceConfig } from './config.js';
import type { PlannedItem } from './plan.js';
import type { ResolvedItem } from './subscription.js';

// Opening a secure session with the source's settings, and turning the configured nodes into
// NodeIds the session can monitor. Nothing here writes to the server.

const HIERARCHICAL_REFERENCES = 'i=33';
const OBJECTS_FOLDER = 'i=85';

export function createClient(c: OpcuaSourceConfig, pki: OPCUACertificateManager): OPCUAClient {
  return OPCUAClient.create({
    applicationName: c.applicationName,
    clientName: c.name,
    clientCertificateManager: pki,
    securityMode: MessageSecurityMode[c.securityMode],
    securityPolicy: SecurityPolicy[securityPolicyOf(c)],
    endpointMustExist: false,
    // Subscriptions keep the session alive; the session's own keep-alive reads the server state
    // when they are all quiet, which is what notices a dead server between publishes.
    keepSessionAlive: true,
    requestedSessionTimeout: c.sessionTimeoutMs,
    defaultTransactionTimeout: c.requestTimeoutMs,
    // maxRetry 1: the first connect fails fast into our own back-off loop (which logs and counts);
    // once connected, node-opcua repairs a broken connection itself, retrying without limit with
    // these delays (re-activate the session, else a new one with its subscriptions transferred,
    // else re-created).
    connectionStrategy: { initialDelay: c.reconnect.initialMs, maxDelay: c.reconnect.maxMs, maxRetry: 1 },
  });
}

/** The user identity of the session (secrets read here, at connect time, never logged). */
export async function userIdentity(c: OpcuaSourceConfig): Promise<UserIdentityInfo> {
  const id = c.identity;
  if (id.type === 'username') {
    const password = id.password ? id.password.reveal() : (await readFile(id.passwordFile!, 'utf8')).replace(/\r?\n$/, '');
    return { type: UserTokenType.UserName, userName: id.username!, password };
  }
  if (id.type === 'certificate') {
    const certificateData = new X509Certificate(await readFile(id.certificateFile!)).raw;
    const privateKey = await readFile(id.privateKeyFile!, 'utf8');
    return { type: UserTokenType.Certificate, certificateData, privateKey };
  }
  return { type: UserTokenType.Anonymous };
}

export interface Resolution {
  resolved: ResolvedItem[];
  /** Items whose node could not be named on this server (unknown namespace URI, browse path with no target). */
  unresolved: { item: PlannedItem; status: StatusCode; detail: string }[];
}

/** NodeIds for the items: nsu=<uri> mapped to this server's namespace index, browse paths translated (one call). */
export async function resolveItems(session: ClientSession, items: readonly PlannedItem[]): Promise<Resolution> {
  const out: Resolution = { resolved: [], unresolved: [] };
  const needsNamespaces = items.some((i) => i.nodeId?.startsWith('nsu='));
  const namespaces = needsNamespaces ? await session.readNamespaceArray() : [];
  const paths: PlannedItem[] = [];
  for (const item of items) {
    if (item.browsePath) {
      paths.push(item);
      continue;
    }
    const m = /^nsu=([^;]+);(.*)$/s.exec(item.nodeId!);
    if (!m) {
      out.resolved.push({ item, nodeId: item.nodeId! });
      continue;
    }
    const index = namespaces.indexOf(m[1]!);
    if (index < 0) out.unresolved.push({ item, status: StatusCodes.BadNodeIdUnknown, detail: `the server has no namespace ${m[1]}` });
    else out.resolved.push({ item, nodeId: `ns=${index};${m[2]}` });
  }
  if (paths.length === 0) return out;
  const results = await session.translateBrowsePath(
    paths.map(
      (item) =>
        new BrowsePath({
          startingNode: OBJECTS_FOLDER,
          relativePath: {
            elements: item.browsePath!.map((step) => ({
              referenceTypeId: HIERARCHICAL_REFERENCES,
              isInverse: false,
              includeSubtypes: true,
              targetName: { namespaceIndex: step.namespaceIndex, name: step.name },
            })),
          },
        }),
    ),
  );
  results.forEach((result, i) => {
    const item = paths[i]!;
    const target = result.targets?.[0]?.targetId;
    if (result.statusCode.isGood() && target) out.resolved.push({ item, nodeId: target.toString() });
    else out.unresolved.push({ item, status: result.statusCode.isGood() ? StatusCodes.BadNoMatch : result.statusCode, detail: `browse path ${item.target}: ${result.statusCode.name}` });
  });
  return out;
}

export type { ClientSession };
