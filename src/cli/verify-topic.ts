import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/problems.js';
import { GatewayError } from '../errors.js';
import { connectionConfig } from '../sinks/kafka/producer-config.js';
import { auditTopic, type TopicReport } from '../sinks/kafka/topic-audit.js';
import { readTopic } from '../sinks/kafka/topic-reader.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate verify-topic --topic T --from-beginning`: read a topic and check the delivery contract
// per stream (topic-audit.ts). What operators run after an incident and the oracle of our tests.

export const verifyTopicCommand: Command = {
  summary: 'verify-topic --topic T  check a topic per stream: gaps (loss), duplicates, order',
  usage: `Usage: gridgate verify-topic --topic T --from-beginning (--config SITE.yaml | --brokers HOST:PORT[,…])
                             [--json] [--timeout-ms N]

Reads topic T from the beginning of every partition to its current end and reports, per stream
(Kafka key site/source/stream): records, first and last (epoch, seq), seq gaps inside an epoch
(records lost between gateway and Kafka), seq gaps across an epoch boundary (what a gateway crash
may have lost), duplicates (an (epoch, seq) seen twice) and records out of order.
--config takes the brokers and TLS/SASL settings of a site config; --brokers overrides the brokers.
Exit status: 0 clean (no loss inside an epoch, no duplicate, nothing out of order), 1 otherwise.`,

  async run(args) {
    const { values } = parseCommandArgs('verify-topic', args, {
      topic: { type: 'string' },
      'from-beginning': { type: 'boolean' },
      config: { type: 'string' },
      brokers: { type: 'string' },
      json: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
    });
    const topic = values.topic;
    if (typeof topic !== 'string') throw new GatewayError('GW_ERR_USAGE', 'verify-topic: --topic T is required');
    if (typeof values.config !== 'string' && typeof values.brokers !== 'string') {
      throw new GatewayError('GW_ERR_USAGE', 'verify-topic: give --config SITE.yaml or --brokers HOST:PORT');
    }
    const timeoutMs = Number(values['timeout-ms'] ?? 120_000);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new GatewayError('GW_ERR_USAGE', 'verify-topic: --timeout-ms takes a positive number');
    let connection: Record<string, string> = {};
    if (typeof values.config === 'string') {
      try {
        connection = connectionConfig((await loadConfig(values.config)).kafka);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.report()}\n`);
        return EXIT.FAILURE;
      }
    }
    if (typeof values.brokers === 'string') connection['bootstrap.servers'] = values.brokers;
    const report = auditTopic(await readTopic({ connection, topic, timeoutMs }));
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : format(topic, report));
    return report.clean ? EXIT.OK : EXIT.FAILURE;
  },
};

function format(topic: string, r: TopicReport): string {
  const lines = [`topic ${topic}: ${r.records} records, ${r.streams.length} streams${r.unparseable ? `, ${r.unparseable} not gridgate records` : ''}`];
  for (const s of r.streams) {
    const problems = [
      s.lost ? `${s.lost} lost` : '',
      s.duplicates ? `${s.duplicates} duplicates` : '',
      s.outOfOrder ? `${s.outOfOrder} out of order` : '',
      s.lostAcrossRestarts ? `${s.lostAcrossRestarts} missing across restarts` : '',
    ].filter(Boolean);
    lines.push(
      `  ${s.key}  ${s.records} records  seq ${s.first.epoch}:${s.first.seq} → ${s.last.epoch}:${s.last.seq}  ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}  ${problems.length ? problems.join(', ') : 'ok'}`,
    );
  }
  const t = r.totals;
  lines.push(
    `${r.clean ? 'clean' : 'NOT CLEAN'}: ${t.lost} lost, ${t.duplicates} duplicates, ${t.outOfOrder} out of order, ${t.lostAcrossRestarts} missing across restarts`,
  );
  return `${lines.join('\n')}\n`;
}
