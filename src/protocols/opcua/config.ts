import { Type, type Static } from '@sinclair/typebox';
import { SecretString, StringEnum } from '../../config/schema-helpers.js';
import { SourceNameSchema, SourceTopicsSchema } from '../../pipeline/config.js';
import { BackoffSchema } from '../shared/backoff.js';

// One OPC UA source = one server endpoint, one secure session, and the monitored items on it.
// Read-only by design: the source creates subscriptions and monitored items, reads and browses;
// it never writes a value or calls a method.
//
// Items share their monitoring settings through groups; groups with the same publishing interval
// share one subscription (the server batches their notifications into one Publish response).

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

const NAME = '^[A-Za-z0-9][A-Za-z0-9._/-]{0,126}$';

const DeadbandSchema = Type.Object(
  {
    type: StringEnum(['absolute', 'percent'] as const, {
      description: "absolute: in the value's unit; percent: of the item's EURange (the server must expose one, i.e. an AnalogItem).",
    }),
    value: Type.Number({ minimum: 0, description: 'Changes smaller than this are not reported by the server.' }),
  },
  { additionalProperties: false, description: 'Data change filter applied by the server (numbers only).' },
);

/** What an item may override of its group. */
const MonitoringProperties = {
  samplingIntervalMs: Type.Optional(
    Type.Number({ minimum: 0, maximum: 3_600_000, description: 'How often the server samples the value, ms (0: as fast as it can; the server may revise it).' }),
  ),
  queueSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Values the server queues per item between publishes (1: only the latest).' })),
  discardOldest: Type.Optional(Type.Boolean({ description: 'When the queue is full, drop the oldest value (true) or the newest (false).' })),
  deadband: Type.Optional(DeadbandSchema),
};

const GroupSchema = Type.Object(
  {
    publishingIntervalMs: Type.Number({
      minimum: 10,
      maximum: 3_600_000,
      default: 1000,
      description: 'How often the server sends the changes, ms. Groups with the same interval share one subscription.',
    }),
    ...MonitoringProperties,
  },
  { additionalProperties: false, description: 'Monitoring settings shared by the items that name this group.' },
);

export const ItemSchema = Type.Object(
  {
    name: Type.Optional(
      Type.String({ pattern: NAME, description: 'Item name, unique in the source: the stream (Kafka key suffix) of its records. Default: the nodeId or browsePath.' }),
    ),
    nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'The node, e.g. ns=2;s=Feeder1.P or i=2258 (one of nodeId, browsePath).' })),
    browsePath: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 4096,
        description: 'A path from the Objects folder, resolved at every session start: /2:Substation/2:Feeder1/2:P (namespaceIndex:BrowseName per step).',
      }),
    ),
    group: Type.String({ default: 'default', description: 'The group (source `groups`) whose settings apply.' }),
    ...MonitoringProperties,
    unit: Type.String({ default: '', maxLength: 32, description: 'Engineering unit carried in the records (V, A, kW …).' }),
  },
  { additionalProperties: false, description: 'One monitored value.' },
);

const IdentitySchema = Type.Object(
  {
    type: StringEnum(['anonymous', 'username', 'certificate'] as const, { default: 'anonymous', description: 'How the session authenticates its user.' }),
    username: Type.Optional(Type.String({ minLength: 1, description: 'type username: the user name.' })),
    password: Type.Optional(SecretString({ description: 'type username: the password, a ${ENV_VAR} reference (never a literal).' })),
    passwordFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'type username: a file holding the password (a systemd credential: ${CREDENTIALS_DIRECTORY}/opcua-password); instead of password.',
      }),
    ),
    certificateFile: Type.Optional(Type.String({ minLength: 1, description: 'type certificate: the X.509 user certificate (PEM or DER).' })),
    privateKeyFile: Type.Optional(
      Type.String({ minLength: 1, description: 'type certificate: its private key (PEM), e.g. a systemd credential ${CREDENTIALS_DIRECTORY}/opcua-user.key.' }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'The user identity of the session.' },
);

export const OpcuaSourceSchema = Type.Object(
  {
    name: SourceNameSchema,
    type: Type.Literal('opcua', { description: 'OPC UA subscriptions (read-only: no writes, no method calls).' }),
    endpoint: Type.String({ pattern: '^opc\\.tcp://[^\\s/]+:\\d+(/\\S*)?$', description: 'The server endpoint URL: opc.tcp://HOST:PORT[/path].' }),
    securityMode: StringEnum(SECURITY_MODES, { default: 'SignAndEncrypt', description: 'Message security: None, Sign or SignAndEncrypt.' }),
    securityPolicy: Type.Optional(
      StringEnum(SECURITY_POLICIES, {
        description: 'Security policy: Basic256Sha256 when absent (None with securityMode None); None only with securityMode None.',
      }),
    ),
    identity: IdentitySchema,
    pki: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The client's PKI folder: its application certificate (own/), trusted and rejected server certificates, issuers and CRLs. Default: <state.dir>/opcua/pki, shared by the site's OPC UA sources.",
      }),
    ),
    applicationName: Type.String({ default: 'gridgate', minLength: 1, maxLength: 64, description: "The client's application name (its certificate's subject and URI)." }),
    sessionTimeoutMs: Type.Integer({ minimum: 10_000, maximum: 3_600_000, default: 60_000, description: 'Requested session timeout: how long the server keeps the session (and its subscriptions) for a reconnect.' }),
    requestTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 10_000, description: 'A service call unanswered this long fails.' }),
    watchdogMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 10_000,
      description:
        'Keep-alive watchdog: every subscription also monitors Server_ServerStatus_CurrentTime; a subscription silent this long (no data, no keep-alive) is recreated, and the session too if it does not answer.',
    }),
    retryFailedItemsMs: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      default: 30_000,
      description: 'Items the server refused (an unknown node, a bad browse path) are tried again this often.',
    }),
    reconnect: BackoffSchema,
    groups: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' }), GroupSchema, {
      additionalProperties: false,
      default: { default: { publishingIntervalMs: 1000 } },
      description: 'Monitoring groups: name → settings. Items name their group (`default` when they name none).',
    }),
    items: Type.Array(ItemSchema, { minItems: 1, description: 'The monitored values.' }),
    analytics: StringEnum(['off', 'features'] as const, {
      default: 'off',
      description: "features: this source's numeric values also feed the windowed statistics (one stream per item, channel `value`); off: raw values only.",
    }),
    topics: Type.Optional(SourceTopicsSchema),
  },
  { additionalProperties: false, description: 'An OPC UA source: one server endpoint and the items monitored on it.' },
);

export type OpcuaSourceConfig = Static<typeof OpcuaSourceSchema>;

/** The security policy in effect: the configured one, else what the mode implies. */
export function securityPolicyOf(c: Pick<OpcuaSourceConfig, 'securityMode' | 'securityPolicy'>): SecurityPolicyName {
  return c.securityPolicy ?? (c.securityMode === 'None' ? 'None' : 'Basic256Sha256');
}
export type OpcuaItemConfig = Static<typeof ItemSchema>;
export type OpcuaGroupConfig = Static<typeof GroupSchema>;
