import type { ProducerGlobalConfig, ProducerTopicConfig } from 'node-rdkafka';
import { GatewayError } from '../../errors.js';
import type { KafkaConfig } from './config.js';

// Site config → librdkafka properties. The delivery guarantees are fixed here, not configurable:
// an idempotent producer with acks=all, and no message timeout, because a record leaves gridgate's
// custody only on a successful delivery report (ARCHITECTURE.md, delivery contract). The facts
// behind each setting are in ../shared/notes/kafka.md.

export interface RdkafkaConfig {
  global: ProducerGlobalConfig;
  topic: ProducerTopicConfig;
}

export function rdkafkaConfig(config: KafkaConfig, clientId: string): RdkafkaConfig {
  const global: ProducerGlobalConfig = {
    'client.id': clientId,
    'enable.idempotence': true,
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': config.lingerMs,
    'compression.codec': config.compression,
    'queue.buffering.max.messages': config.queue.maxMessages,
    'queue.buffering.max.kbytes': config.queue.maxKbytes,
    'socket.keepalive.enable': true,
    'reconnect.backoff.ms': config.reconnect.initialMs,
    'reconnect.backoff.max.ms': config.reconnect.maxMs,
    // One report per message, without copying the payload back (dr_msg_cb would).
    dr_cb: true,
    // Broker connection states once a second, for gridgate_kafka_connected (producer.ts).
    'statistics.interval.ms': 1000,
  };
  Object.assign(global, connectionConfig(config));
  const topic: ProducerTopicConfig = {
    'request.required.acks': -1,
    // librdkafka fails queued records after 5 minutes by default; an outage of any length must
    // not drop data, so records wait (and the spool holds the backlog) instead.
    'message.timeout.ms': 0,
  };
  return { global, topic };
}

/**
 * How to reach and authenticate to the brokers: bootstrap servers, TLS and SASL. Shared by the
 * producer and by consumers such as `gridgate verify-topic`, so both connect the same way.
 */
export function connectionConfig(config: KafkaConfig): Record<string, string> {
  const out: Record<string, string> = {
    'bootstrap.servers': config.brokers.join(','),
    'security.protocol': config.security.protocol,
  };
  const { protocol, tls, sasl } = config.security;
  if (protocol === 'ssl' || protocol === 'sasl_ssl') {
    if (tls.caFile) out['ssl.ca.location'] = tls.caFile;
    if (tls.certFile) out['ssl.certificate.location'] = tls.certFile;
    if (tls.keyFile) out['ssl.key.location'] = tls.keyFile;
    if (tls.keyPassword) out['ssl.key.password'] = tls.keyPassword.reveal();
    out['ssl.endpoint.identification.algorithm'] = tls.verifyHostname;
  }
  if (sasl && (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl')) {
    out['sasl.mechanisms'] = sasl.mechanism;
    out['sasl.username'] = sasl.username;
    out['sasl.password'] = sasl.password.reveal();
  }
  return out;
}

/** librdkafka leaves out codecs and protocols whose libraries were missing at build time. */
export function requiredFeatures(config: KafkaConfig): string[] {
  const needed: string[] = [];
  if (config.compression !== 'none') needed.push(config.compression);
  const protocol = config.security.protocol;
  if (protocol === 'ssl' || protocol === 'sasl_ssl') needed.push('ssl');
  if (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl') {
    needed.push(config.security.sasl?.mechanism === 'PLAIN' ? 'sasl_plain' : 'sasl_scram');
  }
  return needed;
}

export function assertFeatures(config: KafkaConfig, available: readonly string[]): void {
  const missing = requiredFeatures(config).filter((f) => !available.includes(f));
  if (missing.length > 0) {
    throw new GatewayError(
      'GW_ERR_KAFKA_FEATURE',
      `this librdkafka build lacks ${missing.join(', ')}; rebuild node-rdkafka with libzstd-dev, libssl-dev and libsasl2-dev installed, or change kafka.compression/kafka.security`,
    );
  }
}
