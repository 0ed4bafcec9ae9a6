// The error catalogue. Every error gridgate raises on purpose is a GatewayError with a stable
// `code` that operators can grep for and docs/errors.md explains (a unit test keeps the two in
// step). Across worker threads, pass the code, not the class.

export const ERROR_CODES = {
  GW_ERR_USAGE: 'the command line is wrong (unknown command, missing or unknown flag)',
  GW_ERR_INPUT: 'an input file named on the command line cannot be read',
  GW_ERR_CONFIG_READ: 'the config file cannot be read (missing, unreadable, not a regular file)',
  GW_ERR_CONFIG_INVALID: 'the config file is not valid YAML or does not match the schema',
  GW_ERR_KAFKA_FEATURE: 'the config needs a librdkafka feature this build lacks (zstd, ssl, sasl)',
  GW_ERR_KAFKA_CONNECT: 'the Kafka producer could not connect to any bootstrap broker',
  GW_ERR_KAFKA_PRODUCE: 'librdkafka refused a record synchronously (queue full, too large, fatal)',
  GW_ERR_KAFKA_TOPIC: 'a topic is missing, or could not be read to its end in time',
  GW_ERR_KAFKA_DELIVERY: 'a delivery report said Kafka did not take the record',
  GW_ERR_SPOOL_LOCKED: 'another live process owns the spool directory',
  GW_ERR_SPOOL_FULL: 'the spool is at its bound (or the disk is full) and whenFull is block',
  GW_ERR_SPOOL_CLOSED: 'an append or read after the spool was closed (a bug in the caller)',
  GW_ERR_HTTP_LISTEN: 'the metrics/health server cannot bind its address',
  GW_ERR_SHUTDOWN_TIMEOUT: 'a component did not stop within the shutdown drain deadline',
  GW_ERR_RELOAD: 'a config reload (SIGHUP) was not applied: invalid config, a section that needs a restart, or a source that failed to restart',
  GW_ERR_INTERNAL: 'a bug: an exception nobody handled; the daemon logs it with context and exits',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GatewayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}

/** The code of any thrown value: ours when it is a GatewayError, GW_ERR_INTERNAL otherwise. */
export function codeOf(err: unknown): ErrorCode {
  return err instanceof GatewayError ? err.code : 'GW_ERR_INTERNAL';
}
