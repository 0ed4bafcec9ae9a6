import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../../src/config/load.js';
import { assertFeatures, rdkafkaConfig, requiredFeatures } from '../../../../src/sinks/kafka/producer-config.js';

const kafkaOf = (yaml: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(`site: north\nkafka:\n  brokers: [a:9092, b:9092]\n${yaml}`, 'site.yaml', env).kafka;

describe('librdkafka settings from the site config', () => {
  it('fixes the delivery guarantees: idempotence, acks=all, no message timeout, delivery reports', () => {
    const { global, topic } = rdkafkaConfig(kafkaOf(''), 'gridgate-north');
    assert.equal(global['bootstrap.servers'], 'a:9092,b:9092');
    assert.equal(global['client.id'], 'gridgate-north');
    assert.equal(global['enable.idempotence'], true);
    assert.equal(global['max.in.flight.requests.per.connection'], 5);
    assert.equal(global.dr_cb, true);
    assert.equal(global['compression.codec'], 'lz4');
    assert.equal(global['queue.buffering.max.kbytes'], 65_536);
    assert.equal(global['security.protocol'], 'plaintext');
    assert.equal(topic['request.required.acks'], -1);
    assert.equal(topic['message.timeout.ms'], 0);
  });

  it('passes SASL over TLS and mutual TLS through, revealing secrets only here', () => {
    const kafka = kafkaOf(
      `  security:
    protocol: sasl_ssl
    sasl:
      mechanism: SCRAM-SHA-512
      username: gw
      password: \${PASS}
    tls:
      caFile: /etc/ca.pem
      certFile: /etc/client.pem
      keyFile: /etc/client.key
      keyPassword: \${KEYPASS}
`,
      { PASS: 'p1', KEYPASS: 'p2' },
    );
    const { global } = rdkafkaConfig(kafka, 'c');
    assert.equal(global['security.protocol'], 'sasl_ssl');
    assert.equal(global['sasl.mechanisms'], 'SCRAM-SHA-512');
    assert.equal(global['sasl.username'], 'gw');
    assert.equal(global['sasl.password'], 'p1');
    assert.equal(global['ssl.ca.location'], '/etc/ca.pem');
    assert.equal(global['ssl.certificate.location'], '/etc/client.pem');
    assert.equal(global['ssl.key.location'], '/etc/client.key');
    assert.equal(global['ssl.key.password'], 'p2');
    assert.equal(global['ssl.endpoint.identification.algorithm'], 'https');
    assert.deepEqual(requiredFeatures(kafka), ['lz4', 'ssl', 'sasl_scram']);
  });

  it('refuses at start a codec or protocol the librdkafka build lacks, naming what to install', () => {
    const kafka = kafkaOf('  compression: zstd\n');
    assert.throws(() => assertFeatures(kafka, ['lz4', 'gzip']), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'GW_ERR_KAFKA_FEATURE');
      assert.match(err.message, /lacks zstd.*libzstd-dev/);
      return true;
    });
    assert.doesNotThrow(() => assertFeatures(kafka, ['zstd']));
    assert.doesNotThrow(() => assertFeatures(kafkaOf('  compression: none\n'), []));
  });
});
