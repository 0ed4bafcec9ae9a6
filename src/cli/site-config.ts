import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/problems.js';
import type { SiteConfig } from '../config/site-schema.js';

/**
 * A command's load of a site file: an invalid one prints every problem, then `FILE: outcome
 * [code]` (what the command does about it), and gives undefined for the command to return its
 * exit status; any other error is thrown.
 */
export async function loadSiteConfig(file: string, outcome: string): Promise<SiteConfig | undefined> {
  try {
    return await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.report()}\n${file}: ${outcome} [${err.code}]\n`);
    return undefined;
  }
}
