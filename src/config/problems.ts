import { GatewayError, type ErrorCode } from '../errors.js';

// A problem found in a config file, and the error that carries all of them at once.

export interface ConfigProblem {
  file: string;
  /** 1-based; absent when the problem is the file as a whole (cannot be read). */
  line?: number;
  col?: number;
  /** Dotted key path, `(root)` for the whole document, `(yaml)` where no key applies. */
  path?: string;
  message: string;
}

/** `file:line:column key.path: message`, the form editors and CI annotators understand. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
  return p.path === undefined ? `${where}: ${p.message}` : `${where} ${p.path}: ${p.message}`;
}

export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];

  constructor(code: Extract<ErrorCode, `GW_ERR_CONFIG_${string}`>, problems: ConfigProblem[]) {
    const first = problems[0] ? formatProblem(problems[0]) : 'invalid config';
    super(code, problems.length > 1 ? `${first} (and ${problems.length - 1} more)` : first);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  /** Every problem, one per line. */
  report(): string {
    return this.problems.map(formatProblem).join('\n');
  }
}
