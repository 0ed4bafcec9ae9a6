import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { ConfigError, formatProblem } from '../../../src/config/problems.js';
import { Secret } from '../../../src/config/secret.js';

const minimal = 'site: north\nkafka:\n  brokers: [127.0.0.1:9092]\n';

function problemsOf(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, 'site.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map(formatProblem);
  }
  assert.fail('expected the config to be rejected');
}

describe('loading a site config', () => {
  it('fills in every default and freezes the result', () => {
    const config = parseConfig(minimal, 'site.yaml', {});
    assert.equal(config.log.level, 'info');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 9464 });
    assert.equal(config.kafka.compression, 'lz4');
    assert.equal(config.kafka.security.protocol, 'plaintext');
    assert.equal(config.shutdown.drainTimeoutMs, 10_000);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.kafka.brokers));
    assert.throws(() => {
      (config.http as { port: number }).port = 1;
    }, TypeError);
  });

  it('loads the shipped example from disk', async () => {
    const config = await loadConfig('config/example-site.yaml', {});
    assert.equal(config.site, 'north-substation');
  });

  it('names an unknown key with file:line:column, its path and the closest known key', () => {
    assert.deepEqual(problemsOf(`${minimal}  lingerms: 5\n`), [
      'site.yaml:4:3 kafka.lingerms: unknown key "lingerms" (did you mean "lingerMs"?); allowed here: brokers, clientId, encoding, compression, lingerMs, pollIntervalMs, connectTimeoutMs, queue, reconnect, topics, missingTopics, newTopics, delivery, security',
    ]);
  });

  it('lists every problem at once, in file order', () => {
    const problems = problemsOf(`site: North!
http: { port: 70000, hots: x }
kafka:
  brokers: [nohostport]
  compression: brotli
  security: { protocol: sasl_ssl }
`);
    assert.deepEqual(problems, [
      'site.yaml:1:7 site: must match pattern "^[a-z0-9][a-z0-9_-]{0,62}$"',
      'site.yaml:2:15 http.port: must be <= 65535',
      'site.yaml:2:22 http.hots: unknown key "hots" (did you mean "host"?); allowed here: host, port',
      'site.yaml:4:13 kafka.brokers[0]: must match pattern "^[^\\s,]+:[0-9]{1,5}$"',
      'site.yaml:5:16 kafka.compression: must be one of: none, gzip, snappy, lz4, zstd',
      'site.yaml:6:13 kafka.security.sasl: required key is missing',
    ]);
  });

  it('requires the spool section for WAL delivery', () => {
    assert.deepEqual(problemsOf(`${minimal}  delivery: { mode: wal }\n`), ['site.yaml:1:1 spool: required key is missing']);
  });

  it('requires the spool and state sections once there are sources, and unique source names', () => {
    const source = (name: string, address = '10.0.0.1:4712'): string => `  - { name: ${name}, type: c37118, address: "${address}", idcode: 1 }\n`;
    assert.deepEqual(problemsOf(`${minimal}sources:\n${source('pmu-a')}`), [
      'site.yaml:1:1 spool: required key is missing',
      'site.yaml:1:1 state: required key is missing',
    ]);
    const withState = `${minimal}spool: { dir: /s }\nstate: { dir: /t }\nsources:\n`;
    assert.deepEqual(problemsOf(withState + source('pmu-a') + source('pmu-a', '10.0.0.2:4712')), [
      'site.yaml:8:13 sources[1].name: "pmu-a" names another source already; names must be unique',
    ]);
    assert.deepEqual(problemsOf(`${withState}  - { name: pmu-a, type: c37118, idcode: 1 }\n`), ['site.yaml:7:5 sources[0].address: required key is missing']);
    const udp = parseConfig(`${withState}  - { name: pmu-a, type: c37118, transport: udp, idcode: 1 }\n`, 'site.yaml', {});
    const receiver = udp.sources[0];
    assert.ok(receiver?.type === 'c37118' && receiver.address === undefined, 'a pure UDP receiver needs no address');
  });

  it('rejects analytics windows without a tumbling one or sliding further than their size, and angle pairs of unknown sources', () => {
    const site = `${minimal}spool: { dir: /s }\nstate: { dir: /t }\nsources:\n  - { name: pmu-a, type: c37118, address: "10.0.0.1:4712", idcode: 1 }\n`;
    assert.deepEqual(problemsOf(`${site}analytics:\n  windows: [{ sizeMs: 200, slideMs: 100 }]\n`), [
      'site.yaml:9:12 analytics.windows: needs a tumbling window (an entry without slideMs): the anomaly flags are evaluated on the first one',
    ]);
    assert.deepEqual(
      problemsOf(
        `${site}analytics:\n  windows: [{ sizeMs: 100 }, { sizeMs: 200, slideMs: 300 }]\n  anglePairs:\n    - { name: p, a: { source: pmu-a, pmu: 1 }, b: { source: pmu-b } }\n`,
      ),
      [
        'site.yaml:9:54 analytics.windows[1].slideMs: slideMs 300 is longer than sizeMs 200; a window slides by at most its size',
        'site.yaml:11:61 analytics.anglePairs[0].b.source: "pmu-b" is not a configured source',
      ],
    );
  });

  it('reports a missing required key at the map that should hold it', () => {
    assert.deepEqual(problemsOf('site: north\nkafka:\n  lingerMs: 1\n'), ['site.yaml:3:3 kafka.brokers: required key is missing']);
    assert.deepEqual(problemsOf(''), ['site.yaml:1:1 site: required key is missing', 'site.yaml:1:1 kafka: required key is missing']);
  });

  it('reports broken YAML with its position and the enclosing key', () => {
    const problems = problemsOf(`${minimal}  lingerMs: 2\n   pollIntervalMs: 3\n`);
    assert.ok(problems.length >= 1);
    for (const p of problems) assert.match(p, /^site\.yaml:4:13 kafka\.lingerMs: /);
  });

  it('rejects a duplicate key instead of silently taking the last one', () => {
    assert.deepEqual(problemsOf(`${minimal}  lingerMs: 2\n  lingerMs: 3\n`), ['site.yaml:5:3 kafka.lingerMs: Map keys must be unique']);
  });

  it('rejects a document that is not a mapping', () => {
    assert.deepEqual(problemsOf('- a\n- b\n'), ['site.yaml:1:1 (root): must be object']);
  });

  it('reports an unreadable file as GW_ERR_CONFIG_READ without a position', async () => {
    await assert.rejects(loadConfig('does/not/exist.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'GW_ERR_CONFIG_READ');
      assert.equal(err.report(), 'does/not/exist.yaml: cannot read config file: ENOENT');
      return true;
    });
    await assert.rejects(loadConfig('config'), /not a regular file/);
  });
});

describe('secrets in a site config', () => {
  const sasl = (password: string): string =>
    `${minimal}  security:\n    protocol: sasl_ssl\n    sasl:\n      mechanism: SCRAM-SHA-512\n      username: gw\n      password: ${password}\n`;

  it('resolves a ${VAR} reference and hides the value in every printed form', () => {
    const config = parseConfig(sasl('${GW_PASS}'), 'site.yaml', { GW_PASS: 'hunter2-s3cret' });
    const password = config.kafka.security.sasl?.password;
    assert.ok(password instanceof Secret);
    assert.equal(password.reveal(), 'hunter2-s3cret');
    for (const printed of [JSON.stringify(config), String(password), `${password}`, inspect(config, { depth: 10 })]) {
      assert.doesNotMatch(printed, /hunter2/);
    }
  });

  it('rejects a literal secret in the file without echoing it', () => {
    const problems = problemsOf(sasl('hunter2-s3cret'));
    assert.deepEqual(problems, [
      'site.yaml:9:17 kafka.security.sasl.password: must be a ${ENV_VAR} reference: secrets never stand in the config file',
    ]);
  });

  it('rejects a secret whose reference has a default, since the default is a literal in the file', () => {
    assert.deepEqual(problemsOf(sasl('${GW_PASS:-hunter2}')), [
      'site.yaml:9:17 kafka.security.sasl.password: must be a ${ENV_VAR} reference: secrets never stand in the config file',
    ]);
  });

  it('names an unset variable, once, and never a value', () => {
    assert.deepEqual(problemsOf(sasl('${GW_PASS}')), ['site.yaml:9:17 kafka.security.sasl.password: environment variable GW_PASS is not set']);
  });

  it('explains that a reference inside a YAML flow mapping must be quoted', () => {
    // `{ password: ${X} }` is a YAML syntax error (a flow mapping cannot hold a plain `{`);
    // block style or quotes work. The error names the key, so the fix is findable.
    const flow = `${minimal}  security:\n    protocol: sasl_ssl\n    sasl: { mechanism: PLAIN, username: gw, password: \${P} }\n`;
    assert.match(problemsOf(flow)[0] ?? '', /^site\.yaml:6:\d+ kafka\.security\.sasl\.password: /);
    const quoted = flow.replace('${P}', '"${P}"');
    assert.equal(parseConfig(quoted, 'site.yaml', { P: 'x' }).kafka.security.sasl?.password.reveal(), 'x');
  });

  it('never echoes an interpolated value in a schema error', () => {
    const problems = problemsOf('site: ${SITE}\nkafka:\n  brokers: [127.0.0.1:9092]\n', { SITE: 'Not-Valid-secretish' });
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0] ?? '', /secretish/);
  });
});
