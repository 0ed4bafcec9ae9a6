import { readFile } from 'node:fs/promises';
import { MessageSecurityMode, OPCUAServer } from 'node-opcua';
import { GatewayError } from '../../../errors.js';
import { VERSION } from '../../../version.js';
import { certificateInfo } from '../pki.js';
import { ServedTags, serveOnChange, type ServedNode } from './namespace.js';
import { resolveOptions, type OpcuaSimulatorOptions, type SecurityChoice, type TrustClients } from './options.js';
import { certificateStores, endpointSecurity, policyName, userManager } from './security.js';
import { substationTags, syntheticTags, type TagValue } from './tags.js';

// The OPC UA simulator, composed: node-opcua's OPCUAServer with our endpoints and certificate
// stores (security.ts), the tag namespace (namespace.ts) and one timer updating every value.
//
//   client ──opc.tcp──▶ OPCUAServer (Sign / SignAndEncrypt; None with security 'all')
//                          └─ address space, ns=1 urn:gridgate:simulator ◀── ServedTags.tick(now), every updateMs
//
// Start: the PKI store is initialised (the key and the self-signed certificate are created on
// the first start only), the standard nodeset loaded (~0.5 s), the tags added (~1.3 s for 10,000),
// then the port opened.

export const NAMESPACE_URI = 'urn:gridgate:simulator';

export interface OpcuaSimulatorStatus {
  simulator: 'opcua';
  version: string;
  endpoint: string;
  host: string;
  port: number;
  namespaceUri: string;
  namespaceIndex: number;
  pkiDir: string;
  certificateFile: string;
  thumbprint: string;
  securityPolicies: string[];
  securityModes: string[];
  security: SecurityChoice;
  anonymous: boolean;
  users: string[];
  trustClients: TrustClients;
  /** Variables served (substation and synthetic). */
  tags: number;
  syntheticTags: number;
  updateMs: number;
}

export interface OpcuaSimulator {
  /** opc.tcp://HOST:PORT, as the server's endpoints give it. */
  readonly endpointUrl: string;
  readonly port: number;
  /** The server certificate (PEM): copy it into a client's trusted folder. */
  readonly certificateFile: string;
  /** SHA-1 of the certificate's DER, lower-case hex. */
  readonly thumbprint: string;
  /** Every served tag (removed ones no longer listed). */
  readonly nodes: ServedNode[];
  readonly status: OpcuaSimulatorStatus;
  /** The value a tag has (had, will have) at a time: what the simulator serves stamped with that time. */
  valueAt(name: string, at: Date | number): TagValue;
  /** Delete the tag's variable from the address space (reads then answer BadNodeIdUnknown). */
  removeNode(name: string): void;
  /** Value updates (setValueFromSource calls) so far. */
  updates(): number;
  close(): Promise<void>;
}

export async function startOpcuaSimulator(options: OpcuaSimulatorOptions): Promise<OpcuaSimulator> {
  const o = resolveOptions(options);
  const log = o.log;
  const stores = certificateStores(o, log.child({ component: 'pki' }));
  const { securityPolicies, securityModes } = endpointSecurity(o.security);
  const wildcard = o.host === '0.0.0.0' || o.host === '::';
  let ownNamespace = -1; // set after initialize()
  const server = new OPCUAServer({
    host: o.host,
    port: o.port,
    // Endpoint URLs carry the listen address, so what we print is what a client can reach; when
    // listening everywhere, node-opcua's default (the FQDN).
    ...(wildcard ? {} : { hostname: o.host.includes(':') ? `[${o.host}]` : o.host }),
    serverCertificateManager: stores.server,
    userCertificateManager: stores.user,
    securityPolicies,
    securityModes,
    allowAnonymous: o.allowAnonymous,
    userManager: userManager(o.users),
    // The applicationUri names namespace 1 (node-opcua registers it first), so our NodeIds are
    // ns=1;s=…; it is also the URI in the certificate, written once.
    serverInfo: { applicationUri: NAMESPACE_URI, productUri: 'urn:gridgate', applicationName: { text: 'gridgate OPC UA simulator', locale: 'en' } },
    buildInfo: { productName: 'gridgate OPC UA simulator', manufacturerName: 'gridgate', softwareVersion: VERSION },
    serverCapabilities: { maxSessions: 100, maxSubscriptionsPerSession: 100 },
    maxConnectionsPerEndpoint: 100,
    // Sampled items on our values are served on change (namespace.ts); ours is known after initialize().
    onCreateMonitoredItem: serveOnChange(() => ownNamespace),
  });

  let timer: NodeJS.Timeout | undefined;
  let served: ServedTags;
  try {
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('node-opcua has no address space after initialize()');
    ownNamespace = addressSpace.getOwnNamespace().index;
    served = new ServedTags(addressSpace, [...substationTags(), ...syntheticTags(o.tags)], Date.now());
    timer = setInterval(() => served.tick(Date.now()), o.updateMs);
    await server.start();
  } catch (err) {
    clearInterval(timer);
    await server.shutdown(0).catch(() => undefined);
    await Promise.all([stores.server.dispose(), stores.user.dispose()]).catch(() => undefined);
    throw err;
  }

  const endpoint = server.endpoints[0];
  const port = endpoint?.port ?? o.port;
  const endpointUrl = server.getEndpointUrl();
  const certificateFile = server.certificateFile;
  const { thumbprint } = certificateInfo(await readFile(certificateFile));
  const namespaceIndex = ownNamespace;

  const status: OpcuaSimulatorStatus = {
    simulator: 'opcua',
    version: VERSION,
    endpoint: endpointUrl,
    host: o.host,
    port,
    namespaceUri: NAMESPACE_URI,
    namespaceIndex,
    pkiDir: o.pkiDir,
    certificateFile,
    thumbprint,
    securityPolicies: securityPolicies.map(policyName),
    securityModes: securityModes.map((m) => MessageSecurityMode[m]),
    security: o.security,
    anonymous: o.allowAnonymous,
    users: [...o.users.keys()],
    trustClients: o.trustClients,
    tags: served.count,
    syntheticTags: o.tags,
    updateMs: o.updateMs,
  };
  log.info(status, 'opcua simulator started');
  if (o.trustClients === 'all') log.info('accepting any valid client certificate (trust-clients all); each new one is logged with its thumbprint');

  let closing: Promise<void> | undefined;
  return {
    endpointUrl,
    port,
    certificateFile,
    thumbprint,
    get nodes() {
      return served.nodes;
    },
    status,
    valueAt: (name, at) => served.valueAt(name, typeof at === 'number' ? at : at.getTime()),
    removeNode(name) {
      if (!served.remove(name)) throw new GatewayError('GW_ERR_USAGE', `simulate opcua: no tag named "${name}"`);
      log.info({ tag: name }, 'tag removed from the address space');
    },
    updates: () => served.updates,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        // Sessions see ServerState Shutdown for shutdownDelayMs, then the sockets close; node-opcua
        // disposes both certificate stores (their folder watchers) on the way.
        await server.shutdown(o.shutdownDelayMs);
        log.info({ updates: served.updates }, 'opcua simulator stopped');
      })();
      return closing;
    },
  };
}
