import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Kafka from 'node-rdkafka';

// npm 11 skips install scripts it was not told to allow, and librdkafka silently leaves out what
// its -dev libraries were missing for: both failures only show at a site. Catch them here.

describe('the native Kafka client as installed', () => {
  it('has a compiled binding with librdkafka 2.x', () => {
    assert.match(Kafka.librdkafkaVersion, /^2\.\d+\.\d+$/);
  });

  it('was built with every codec and security feature the site schema offers', () => {
    for (const feature of ['gzip', 'snappy', 'lz4', 'zstd', 'ssl', 'sasl_plain', 'sasl_scram']) {
      assert.ok(Kafka.features.includes(feature), `librdkafka lacks ${feature}: install libzstd-dev libssl-dev libsasl2-dev and rebuild`);
    }
  });
});
