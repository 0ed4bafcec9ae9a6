import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../../config/schema-helpers.js';

// Retry back-off, written once for every source, the Kafka sink (reconnects, and spooled records
// Kafka refused) and the analytics workers' restarts: exponential growth capped at maxMs, with
// "equal jitter" (half fixed, half random) so that many devices reconnecting after a
// substation-wide outage spread out instead of hammering the peer in step, while the delay still
// grows monotonically in expectation.

/** The back-off's config section; `description` says what is retried where it is not a connection. */
export const backoffSchema = (description = 'Retry back-off after a failed connection attempt (exponential with jitter).') =>
  Section(
    {
      initialMs: Type.Integer({
        minimum: 10,
        maximum: 600_000,
        default: 500,
        description: 'First retry delay in milliseconds; each failure multiplies it by 2.',
      }),
      maxMs: Type.Integer({
        minimum: 10,
        maximum: 3_600_000,
        default: 30_000,
        description: 'Upper bound of the retry delay in milliseconds.',
      }),
    },
    { description },
  );

export const BackoffSchema = backoffSchema();

export type BackoffConfig = Static<typeof BackoffSchema>;

export class Backoff {
  #attempt = 0;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;

  constructor(config: BackoffConfig, random: () => number = Math.random) {
    this.#initialMs = config.initialMs;
    this.#maxMs = Math.max(config.initialMs, config.maxMs);
    this.#random = random;
  }

  /** The delay before the next attempt, in milliseconds: in [cap/2, cap], cap = initial·2^n ≤ max. */
  next(): number {
    const cap = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(cap / 2 + (this.#random() * cap) / 2);
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
