import {
  closeAll,
  createLogger,
  createMetricsRegistry,
  createPool,
  createRedis,
  systemClock,
  TenantAuthenticator,
  type Clock,
  type Config,
  type Logger,
  type Pool,
  type Redis,
} from '@strata/core';
import type { Registry } from 'prom-client';
import { createQueryMetrics, type QueryMetrics } from './metrics.ts';

export interface Deps {
  config: Config;
  logger: Logger;
  pool: Pool;
  /** The cache Redis (CACHE_REDIS_URL); optional for reads, so it fails fast instead of queueing. */
  cache: Redis;
  registry: Registry;
  metrics: QueryMetrics;
  authenticator: TenantAuthenticator;
  clock: Clock;
}

/** A slow read is cancelled by the server rather than holding a pooled connection indefinitely. */
const STATEMENT_TIMEOUT_MS = 5000;

export function createDeps(config: Config, clock: Clock = systemClock): Deps {
  const logger = createLogger('query-api', config.logLevel);
  const pool = createPool(
    {
      connectionString: config.databaseUrl,
      max: config.dbPoolSize,
      applicationName: 'strata-query-api',
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    },
    logger,
  );
  const cache = createRedis(
    config.cacheRedisUrl,
    { maxRetriesPerRequest: 1, connectionName: 'strata-query-api-cache', commandTimeoutMs: 2000 },
    logger,
  );
  const registry = createMetricsRegistry('query-api');
  return {
    config,
    logger,
    pool,
    cache,
    registry,
    metrics: createQueryMetrics(registry),
    authenticator: new TenantAuthenticator(pool, clock),
    clock,
  };
}

/** Closes what createDeps opened, in reverse order. */
export async function closeDeps(deps: Deps): Promise<void> {
  await closeAll(deps.logger, [
    // QUIT needs a live connection; a cache that is down is just disconnected, ending its reconnect loop.
    ['cache redis', async () => (deps.cache.status === 'ready' ? deps.cache.quit() : deps.cache.disconnect())],
    ['postgres pool', async () => deps.pool.end()],
  ]);
}
