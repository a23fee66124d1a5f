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
import { LiveHub } from './live/live-hub.ts';
import { createQueryMetrics, type QueryMetrics } from './metrics/create-query-metrics.ts';
import { Breaker, type BreakerOptions } from './read-routing/breaker.ts';
import { ReplicaSet } from './read-routing/replica-set.ts';
import { createSourceErrorLog, type SourceErrorLog } from './read-routing/source-error-log.ts';

export interface Deps {
  config: Config;
  logger: Logger;
  pool: Pool;
  /** The cache Redis (CACHE_REDIS_URL); optional for reads, so it fails fast instead of queueing. */
  cache: Redis;
  registry: Registry;
  metrics: QueryMetrics;
  authenticator: TenantAuthenticator;
  /** The authenticator's own connection to REDIS_URL, subscribed to key revocations. */
  authSubscriber: Redis;
  clock: Clock;
  /** Read replicas (DATABASE_REPLICA_URLS) with their lag monitor and breakers; started by buildApp. */
  replicas: ReplicaSet;
  cacheBreaker: Breaker;
  sourceErrors: SourceErrorLog;
  /** Live updates for GET /v1/stream: one Redis subscription per process, shared by every client. */
  live: LiveDeps;
}

export interface LiveDeps {
  hub: LiveHub;
  subscriber: Redis;
  /** Comment lines this often keep idle SSE connections open through proxies. */
  heartbeatMs: number;
  /** The `retry:` advice to EventSource clients: how soon to reconnect after a drop. */
  retryMs: number;
}

export interface CreateDepsOptions {
  liveHeartbeatMs?: number;
  /** The primary pool's statement_timeout; tests shorten it to reach a timeout quickly. */
  statementTimeoutMs?: number;
}

/** A slow read is cancelled by the server rather than holding a pooled connection indefinitely. */
const STATEMENT_TIMEOUT_MS = 5000;

// Replicas are optional, so they are held to a much shorter leash than the primary: a read that
// takes a second there is better served by the next source. Five consecutive failures open a
// breaker; two seconds later one call (a probe, for replicas) tries again.
const REPLICA_BREAKER: BreakerOptions = { failures: 5, halfOpenAfterMs: 2000, timeoutMs: 1000 };
const CACHE_BREAKER: BreakerOptions = { failures: 5, halfOpenAfterMs: 2000, timeoutMs: 300 };
/** Probes every 250 ms keep lag figures fresh to within a quarter second at ~4 queries/s per replica. */
const PROBE_INTERVAL_MS = 250;
const PROBE_TIMEOUT_MS = 500;

const LIVE_HEARTBEAT_MS = 15_000;
const LIVE_RETRY_MS = 1000;

export function createDeps(config: Config, clock: Clock = systemClock, options: CreateDepsOptions = {}): Deps {
  const logger = createLogger('query-api', config.logLevel);
  const pool = createPool(
    {
      connectionString: config.databaseUrl,
      max: config.dbPoolSize,
      applicationName: 'strata-query-api',
      statementTimeoutMs: options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
    },
    logger,
  );
  const cache = createRedis(
    config.cacheRedisUrl,
    { maxRetriesPerRequest: 1, connectionName: 'strata-query-api-cache', commandTimeoutMs: 2000 },
    logger,
  );
  const registry = createMetricsRegistry('query-api');
  const replicas = new ReplicaSet({
    targets: config.replicas,
    primary: pool,
    clock,
    logger,
    breaker: REPLICA_BREAKER,
    probeIntervalMs: PROBE_INTERVAL_MS,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    statementTimeoutMs: REPLICA_BREAKER.timeoutMs + 500,
  });
  const cacheBreaker = new Breaker('cache', CACHE_BREAKER, clock, logger);
  const breakers = [...replicas.nodes.map((node) => node.breaker), cacheBreaker];
  // Subscribed connections reconnect and resubscribe on their own, so no per-command retry bound.
  const subscriber = createRedis(config.cacheRedisUrl, { maxRetriesPerRequest: null, connectionName: 'strata-query-api-live' }, logger);
  const live: LiveDeps = {
    hub: new LiveHub({
      subscriber,
      prefix: config.redisPrefix,
      logger,
      streamsPerTenant: config.streamsPerTenant,
      streamsTotal: config.streamsTotal,
    }),
    subscriber,
    // A stream with nothing written for HTTP_CONNECTION_TIMEOUT_MS is closed as idle by the server.
    heartbeatMs: options.liveHeartbeatMs ?? Math.min(LIVE_HEARTBEAT_MS, Math.floor(config.httpConnectionTimeoutMs / 2)),
    retryMs: LIVE_RETRY_MS,
  };
  // Revocations are published on REDIS_URL (what `ops key revoke` knows), whatever CACHE_REDIS_URL is.
  const authSubscriber = createRedis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'strata-query-api-auth' }, logger);
  const authenticator = new TenantAuthenticator({
    db: pool,
    clock,
    logger,
    // Failed-attempt counters are optional state: the cache Redis holds them, and without it the limit is skipped.
    redis: cache,
    subscriber: authSubscriber,
    prefix: config.redisPrefix,
    authFailuresPerMinute: config.authFailuresPerMinute,
  });
  return {
    config,
    logger,
    pool,
    cache,
    registry,
    metrics: createQueryMetrics(registry, { replicas, breakers, live: live.hub }),
    authenticator,
    authSubscriber,
    clock,
    replicas,
    cacheBreaker,
    sourceErrors: createSourceErrorLog(logger),
    live,
  };
}

/** Closes what createDeps opened, in reverse order. */
export async function closeDeps(deps: Deps): Promise<void> {
  await closeAll(deps.logger, [
    ['authenticator', () => deps.authenticator.stop()],
    ['auth subscriber', async () => deps.authSubscriber.disconnect()],
    ['live subscriber', async () => deps.live.subscriber.disconnect()],
    // QUIT needs a live connection; a cache that is down is just disconnected, ending its reconnect loop.
    ['cache redis', async () => (deps.cache.status === 'ready' ? deps.cache.quit() : deps.cache.disconnect())],
    ['replicas', async () => deps.replicas.stop()],
    ['postgres pool', async () => deps.pool.end()],
  ]);
}
