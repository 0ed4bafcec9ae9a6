import { Type, type Static } from '@sinclair/typebox';
import { SecretString, Section, StringEnum } from '../../config/schema-helpers.js';
import { RECORD_ENCODINGS } from '../../pipeline/encoding/record-encoding.js';
import { backoffSchema } from '../../protocols/shared/backoff.js';

export const COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

const topic = (name: string, what: string) =>
  Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$', default: name, description: `Topic for ${what}.` });

const TopicsSchema = Type.Object(
  {
    pmuFrames: topic('grid.pmu.frames', 'C37.118 data frames'),
    scadaValues: topic('grid.scada.values', 'Modbus and OPC UA values'),
    features: topic('grid.features', 'windowed features'),
    anomalies: topic('grid.anomalies', 'anomaly flags'),
    late: topic('grid.late', 'records later than the allowed lateness (late-data side output)'),
    deadLetter: topic('grid.dlq', 'undecodable input: raw bytes, reason, source, stage, time'),
  },
  { additionalProperties: false, default: {}, description: 'Where each kind of record goes (ARCHITECTURE.md defaults).' },
);

const SaslSchema = Type.Object(
  {
    mechanism: StringEnum(SASL_MECHANISMS, { description: 'SASL mechanism the broker expects.' }),
    username: Type.String({ minLength: 1, description: 'SASL user name.' }),
    password: SecretString({
      description: 'SASL password: a ${ENV_VAR} reference resolved from the environment, never a literal.',
    }),
  },
  {
    additionalProperties: false,
    description: 'SASL authentication; required when security.protocol is sasl_plaintext or sasl_ssl.',
  },
);

const TlsSchema = Type.Object(
  {
    caFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM file of the CA(s) that signed the broker certificates.' }),
    ),
    certFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM client certificate for mutual TLS.' }),
    ),
    keyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of certFile (mutual TLS).' })),
    keyPassword: Type.Optional(
      SecretString({ description: 'Password of keyFile: a ${ENV_VAR} reference, never a literal.' }),
    ),
    verifyHostname: StringEnum(['https', 'none'] as const, {
      default: 'https',
      description: 'Broker host name verification: https (checked against the certificate) or none.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'TLS settings; used when security.protocol is ssl or sasl_ssl.',
  },
);

const SecuritySchema = Type.Object(
  {
    protocol: StringEnum(SECURITY_PROTOCOLS, {
      default: 'plaintext',
      description: 'How to talk to the brokers: plaintext, ssl, sasl_plaintext or sasl_ssl.',
    }),
    sasl: Type.Optional(SaslSchema),
    tls: TlsSchema,
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Transport security and authentication towards the brokers.',
    if: { properties: { protocol: { enum: ['sasl_plaintext', 'sasl_ssl'] } }, required: ['protocol'] },
    then: { required: ['sasl'] },
  },
);

export const KafkaSchema = Type.Object(
  {
    brokers: Type.Array(
      Type.String({ pattern: '^[^\\s,]+:[0-9]{1,5}$', description: 'A bootstrap broker as host:port.' }),
      { minItems: 1, description: 'Bootstrap brokers (host:port); the producer learns the rest from them.' },
    ),
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 249,
        description: 'Kafka client.id, seen in broker logs and quotas. Default: gridgate-<site>.',
      }),
    ),
    encoding: StringEnum(RECORD_ENCODINGS, {
      default: 'json',
      description:
        'How record values are written: json (default: text any tool reads) or avro (Avro binary of schemas/<kind>.avsc, no registry framing; at 100 PMUs a quarter of the bytes of JSON and a third less of the gateway CPU). The content-type header says which (application/json or avro/binary); docs/records.md.',
    }),
    compression: StringEnum(COMPRESSION_CODECS, {
      default: 'lz4',
      description: 'Batch compression: lz4 (default: cheap on CPU), zstd (smaller; checked at start to be built in), gzip, snappy or none.',
    }),
    lingerMs: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 2,
      description: 'Milliseconds librdkafka waits to fill a batch (linger.ms): latency against batching.',
    }),
    pollIntervalMs: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 2,
      description: 'Milliseconds between delivery-report polls; adds directly to acknowledgement latency.',
    }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 300_000,
      default: 5_000,
      description:
        'Milliseconds one connection attempt may take to fetch metadata from a bootstrap broker. A stop during an attempt waits for it to end (librdkafka cannot cancel it), so keep it short; 5 s covers TLS and SASL/SCRAM over a 600 ms round trip.',
    }),
    queue: Type.Object(
      {
        maxMessages: Type.Integer({
          minimum: 1,
          maximum: 10_000_000,
          default: 100_000,
          description: 'Records librdkafka may hold unacknowledged (queue.buffering.max.messages).',
        }),
        maxKbytes: Type.Integer({
          minimum: 1,
          maximum: 2_097_151,
          default: 65_536,
          description: 'KiB librdkafka may hold unacknowledged (queue.buffering.max.kbytes); librdkafka defaults to 1 GiB, too much for an edge box.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Bound of the in-memory producer queue.' },
    ),
    reconnect: backoffSchema('Retry back-off after a failed connection attempt, and before a spooled record Kafka did not take is sent again (exponential with jitter).'),
    topics: TopicsSchema,
    missingTopics: StringEnum(['wait', 'create'] as const, {
      default: 'wait',
      description:
        'When a configured topic does not exist: wait (log at ERROR with the command to create it, report not ready, keep records in the spool and check again) or create (create it with newTopics). Auto-creation by the broker is never relied on.',
    }),
    newTopics: Type.Object(
      {
        partitions: Type.Integer({ minimum: 1, maximum: 10_000, default: 6, description: 'Partitions of a topic gridgate creates (missingTopics: create).' }),
        replicationFactor: Type.Integer({ minimum: 1, maximum: 32, default: 3, description: 'Replication factor of a topic gridgate creates; 3 for a production cluster.' }),
      },
      { additionalProperties: false, default: {}, description: 'How topics are created when missingTopics is create.' },
    ),
    delivery: Type.Object(
      {
        mode: StringEnum(['spill', 'wal'] as const, {
          default: 'spill',
          description:
            'spill: records go straight to Kafka and to the spool only while Kafka cannot take them (low latency, low flash wear; a crash can lose the in-flight window). wal: every record is durable in the spool before it is sent (a crash loses nothing acknowledged). Needs the spool section.',
        }),
        stallMs: Type.Integer({
          minimum: 50,
          maximum: 600_000,
          default: 2000,
          description: 'Spill when the oldest record sent live has had no delivery report for this many milliseconds.',
        }),
        liveWindow: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 10_000,
          description: 'Spill when this many live records are waiting for their delivery report.',
        }),
        drainWindow: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 5000,
          description: 'Records sent from the spool at once while it drains after an outage.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'How records reach Kafka through the spool (ARCHITECTURE.md, delivery contract).' },
    ),
    security: SecuritySchema,
  },
  {
    additionalProperties: false,
    description: 'Kafka producer (idempotent, acks=all). Records are acknowledged only by delivery reports.',
  },
);

export type KafkaConfig = Static<typeof KafkaSchema>;
export type TopicsConfig = KafkaConfig['topics'];
