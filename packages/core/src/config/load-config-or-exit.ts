import { ConfigError } from '../errors/config-error.ts';
import type { Config } from './config.ts';
import { loadConfig } from './load-config.ts';

/** For composition roots: bad configuration prints every problem and exits 1, before any I/O. */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`strata: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
