import type { Logger } from '../../../observability/logger.js';

// Repeated warnings are rate-limited (STYLE.md): at most one line per interval per key, carrying
// how many were suppressed since the last one. Keys are few and fixed (a reason, not a value), so
// the map stays small.

export class LogLimiter {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(log: Logger, intervalMs = 10_000) {
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    this.log('warn', key, fields, message);
  }

  log(level: 'warn' | 'info', key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    this.#log[level](last?.suppressed ? { ...fields, suppressed: last.suppressed } : fields, message);
    this.#last.set(key, { at: now, suppressed: 0 });
  }
}
