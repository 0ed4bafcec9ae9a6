// Counters of one simulator run, live (the caller reads them; the simulator writes them).

export interface ModbusSimulatorStats {
  /** Whole requests framed (every transport, every unit). */
  requests: number;
  /** Requests per unit id, as received (unknown units too). */
  requestsByUnit: Record<number, number>;
  /** Responses sent (data, exceptions and malformed ones). */
  responses: number;
  /** Exception responses sent, in total and per exception code. */
  exceptions: number;
  exceptionsByCode: Record<number, number>;
  /** Write requests (function codes 5, 6, 15, 16, 21, 22, 23): always refused, exception 1. */
  writes: number;
  /** Requests left unanswered: dead unit, unknown unit, RTU broadcast. */
  unanswered: number;
  /** Malformed responses sent on purpose (a unit's `garbage`). */
  garbage: number;
  /** Bytes received that were not part of a valid request (bad CRC, bad MBAP header). */
  badBytes: number;
  /** Requests dropped because a client had too many delayed responses pending. */
  shed: number;
  bytesIn: number;
  bytesOut: number;
  connections: number;
  connectionsTotal: number;
}

export const newStats = (): ModbusSimulatorStats => ({
  requests: 0,
  requestsByUnit: {},
  responses: 0,
  exceptions: 0,
  exceptionsByCode: {},
  writes: 0,
  unanswered: 0,
  garbage: 0,
  badBytes: 0,
  shed: 0,
  bytesIn: 0,
  bytesOut: 0,
  connections: 0,
  connectionsTotal: 0,
});
