import { createLogger, createPool, type Config, type Pool } from '@strata/core';

/** A small pool for one CLI command, always closed afterwards. */
export async function withCliPool<T>(config: Config, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(
    { connectionString: config.databaseUrl, max: 2, applicationName: 'strata-ops-cli', statementTimeoutMs: 30_000 },
    createLogger('ops', 'silent'),
  );
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}
