// What the daemon starts and stops. Sources, pipeline stages, the spool and the sink are all
// components; the daemon knows nothing else about them.

export interface Readiness {
  ready: boolean;
  /** Why not, for /readyz and STATUS= lines; a short phrase, no secrets. */
  detail?: string;
}

export interface Component {
  /** Stable, kebab-case; the `component` field of its log lines and the /readyz key. */
  readonly name: string;
  /** Resolve once running. Long waits (a broker that is down) happen in the background. */
  start(): Promise<void>;
  /** Stop, draining what it holds within `deadline`. Must not throw on a second call. */
  stop(deadline: Deadline): Promise<void>;
  readiness(): Readiness;
}

/**
 * A stop budget: the signal aborts when time is up; remainingMs() sizes flushes and waits. Its
 * timer is deliberately ref'd (AbortSignal.timeout's is not): while a stop is under way, the
 * process must not end just because the work it waits for holds no handle. clear() releases it.
 */
export class Deadline {
  readonly signal: AbortSignal;
  readonly #at: number;
  readonly #timer: NodeJS.Timeout;

  constructor(budgetMs: number) {
    const controller = new AbortController();
    this.#at = Date.now() + budgetMs;
    this.#timer = setTimeout(() => controller.abort(), budgetMs);
    this.signal = controller.signal;
  }

  remainingMs(): number {
    return Math.max(0, this.#at - Date.now());
  }

  clear(): void {
    clearTimeout(this.#timer);
  }

  /** Resolves with `work` or when the deadline passes, whichever is first; true if work finished. */
  async race(work: Promise<unknown>): Promise<boolean> {
    if (this.signal.aborted) return false;
    let onAbort = (): void => undefined;
    const expired = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work.then(() => true as const), expired]);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }
}
