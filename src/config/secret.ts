import { inspect } from 'node:util';

// A secret from the environment (or, later, a systemd credential). It prints as [redacted] in every
// form a log line or an error message could take; only reveal() hands out the value, and only the
// code that passes it to a library (librdkafka, node-opcua) should call it.
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
