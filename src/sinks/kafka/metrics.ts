import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// The Kafka sink's Prometheus metrics. What changes with every record (produced, acknowledged, in
// flight) is counted in plain numbers (tally) and folded into its metric when the metric is read
// (collect): on the hot path a number's increment, not a prom-client call, four times per record.

export interface KafkaMetrics {
  produced: Counter;
  acknowledged: Counter;
  failed: Counter<'reason'>;
  inFlight: Gauge;
  connected: Gauge;
  connectAttempts: Counter<'result'>;
  ackLatency: Histogram;
  spooled: Counter;
  replayed: Counter;
  deliveryState: Gauge<'state'>;
  clientErrors: Counter<'reason'>;
  /** Per-record counts since the last read, and the current producer's in-flight count. */
  tally: { produced: number; acknowledged: number; inFlight: () => number };
}

export function createKafkaMetrics(registry: Registry): KafkaMetrics {
  const registers = [registry];
  const tally: KafkaMetrics['tally'] = { produced: 0, acknowledged: 0, inFlight: () => 0 };
  return {
    tally,
    produced: new Counter({
      name: 'gridgate_kafka_produced_total',
      help: 'Records handed to librdkafka (not yet acknowledged).',
      registers,
      collect() {
        this.inc(tally.produced);
        tally.produced = 0;
      },
    }),
    acknowledged: new Counter({
      name: 'gridgate_kafka_acknowledged_total',
      help: 'Records whose delivery report says Kafka has them (acks=all).',
      registers,
      collect() {
        this.inc(tally.acknowledged);
        tally.acknowledged = 0;
      },
    }),
    failed: new Counter({
      name: 'gridgate_kafka_delivery_failed_total',
      help: 'Records Kafka did not take, by reason (delivery report error or synchronous refusal).',
      labelNames: ['reason'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'gridgate_kafka_in_flight',
      help: 'Records handed to librdkafka and waiting for their delivery report.',
      registers,
      collect() {
        this.set(tally.inFlight());
      },
    }),
    connected: new Gauge({
      name: 'gridgate_kafka_connected',
      help: "1 while the producer has a connection up to at least one broker (librdkafka's statistics, every second); 0 before the first connection, while every broker is unreachable, and after stop.",
      registers,
    }),
    connectAttempts: new Counter({
      name: 'gridgate_kafka_connect_attempts_total',
      help: 'Producer connection attempts, by result (ok or failed).',
      labelNames: ['result'],
      registers,
    }),
    spooled: new Counter({
      name: 'gridgate_kafka_spooled_records_total',
      help: 'Records written to the spool because Kafka could not take them (spill mode), or every record (WAL mode).',
      registers,
    }),
    replayed: new Counter({
      name: 'gridgate_kafka_replayed_records_total',
      help: 'Records sent to Kafka from the spool.',
      registers,
    }),
    deliveryState: new Gauge({
      name: 'gridgate_kafka_delivery_state',
      help: '1 for the state delivery is in: live (straight to Kafka), spilling (Kafka not keeping up) or draining (sending the spool).',
      labelNames: ['state'],
      registers,
    }),
    clientErrors: new Counter({
      name: 'gridgate_kafka_client_errors_total',
      help: 'Errors librdkafka reported about its connections, by reason: authentication, authorization, tls, transport, all_brokers_down or other.',
      labelNames: ['reason'],
      registers,
    }),
    ackLatency: new Histogram({
      name: 'gridgate_kafka_ack_latency_seconds',
      help: 'Time from produce() to a successful delivery report.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    }),
  };
}
