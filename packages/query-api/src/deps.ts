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
import { createQueryMetrics } from './metrics/create-query-metrics.ts';
import type { QueryMetrics } from './model/query-metrics.ts';
import { Breaker, type BreakerOptions } from './read-routing/breaker.ts';
import type { ReadRouter } from './read-routing/read-router.ts';
import { ProjectionWaiter } from './read-routing/projection-waiter.ts';
import { GENERIC_PLAN_APPLICATION, GENERIC_PLAN_SETTINGS } from './read-routing/generic-plans.ts';
import { ReplicaSet } from './read-routing/replica-set.ts';
import { createSourceErrorLog } from './read-routing/source-error-log.ts';
import { AnswerMemo } from './reads/answer-memo.ts';
import type { KeptAnswers } from './reads/kept-answers.ts';

/** The configuration the query API reads; each component takes its own slice of it. */
export type QueryConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'dbPoolSize'
  | 'replicas'
  | 'redisUrl'
  | 'cacheRedisUrl'
  | 'redisPrefix'
  | 'host'
  | 'queryApiPort'
  | 'logLevel'
  | 'maxStalenessMs'
  | 'strongReadWaitMs'
  | 'answerMemoMaxBytes'
  | 'aggregateRetentionDays'
  | 'readRateLimitPerSecond'
  | 'authFailuresPerMinute'
  | 'streamsPerTenant'
  | 'streamsTotal'
  | 'streamMaxBufferBytes'
  | 'liveResumeSeconds'
  | 'httpRequestTimeoutMs'
  | 'httpConnectionTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpMaxConnections'
  | 'trustProxy'
>;

export interface QueryDeps {
  config: QueryConfig;
  logger: Logger;
  pool: Pool;
  /** The primary with generic plans only (decision 0105): `genericPlan` reads. */
  genericPool: Pool;
  /** The cache Redis (CACHE_REDIS_URL); optional for reads, so it fails fast instead of queueing. */
  cache: Redis;
  registry: Registry;
  metrics: QueryMetrics;
  authenticator: TenantAuthenticator;
  /** The authenticator's own connection to REDIS_URL, subscribed to key revocations. */
  authSubscriber: Redis;
  clock: Clock;
  /** Read replicas (DATABASE_REPLICA_URLS) with their breakers; startQueryApi starts their lag monitor. */
  replicas: ReplicaSet;
  cacheBreaker: Breaker;
  /** What every routed read is given: the sources, their breakers and the routing counters. */
  router: ReadRouter;
  /** Where strong and token reads wait for their batches to be projected (decision 0104). */
  projection: ProjectionWaiter;
  /** Live updates for GET /v1/stream: one Redis subscription per process, shared by every client. */
  live: LiveDeps;
  /** Series and stats answers kept for reuse (decision 0103); undefined when ANSWER_MEMO_MAX_BYTES is 0. */
  keptAnswers: KeptAnswers | undefined;
}

export interface LiveDeps {
  hub: LiveHub;
  subscriber: Redis;
  /** Comment lines this often keep idle SSE connections open through proxies. */
  heartbeatMs: number;
  /** The `retry:` advice to EventSource clients: how soon to reconnect after a drop. */
  retryMs: number;
}

/** Test knobs; production takes every default. */
export interface QueryDepsOverrides {
  logger: Logger;
  clock: Clock;
  /** The primary pool's statement_timeout; tests shorten it to reach a timeout quickly. */
  statementTimeoutMs: number;
  liveHeartbeatMs: number;
}

/** A slow read is cancelled by the server rather than holding a pooled connection indefinitely. */
const STATEMENT_TIMEOUT_MS = 5000;

// Replicas are optional, so they are held to a much shorter leash than the primary: a read that
// takes a second there is better served by the next source. Five consecutive failures open a
// breaker; two seconds later one call (a probe, for replicas) tries again. The breaker's timeout is
// a replica read's one deadline; the replica pool's statement_timeout, a little above it, only has
// the server end the statement the router abandoned.
const REPLICA_BREAKER: BreakerOptions = { failures: 5, halfOpenAfterMs: 2000, timeoutMs: 1000 };
// A cache read has one deadline: this breaker's timeout (250 ms: a hung cache must cost a read little
// more than a miss). It is the breaker's and not the connection's because it must count towards
// opening the breaker; a race of its own inside the breaker's used to make one of the two dead code.
// ioredis' commandTimeout (below) is not lowered to match: the same connection serves the read rate
// limit, failed-auth counters and live replay, which want a looser bound; for a cache read it only
// ends the command the router abandoned.
const CACHE_BREAKER: BreakerOptions = { failures: 5, halfOpenAfterMs: 2000, timeoutMs: 250 };
const CACHE_COMMAND_TIMEOUT_MS = 2000;
/** A probe's deadline (and the primary's WAL position read for a probe round). */
const PROBE_TIMEOUT_MS = 500;

// A kept answer is reused only while what it was computed from is unchanged (decision 0103). One
// tenant may hold this share of ANSWER_MEMO_MAX_BYTES, so a tenant asking many different questions
// evicts its own answers before its neighbours'.
const ANSWER_MEMO_TENANT_SHARE = 4;
// A kept answer is dropped after a minute whatever its tag says: a bound on anything the tag cannot
// see that a future change might add (aggregate retention is kept out by the range rule instead).
const ANSWER_MEMO_MAX_AGE_MS = 60_000;
/**
 * Strong reads waiting for their batches (decision 0104), every bound per tenant: one probe for all
 * waiting reads at most every 5 ms (a drain takes tens of milliseconds, so a wait ends a few ms after
 * its drain); 64 reads of a tenant finding or waiting at once (each holds its client's request open
 * and a place in the tenant's search); 1,000 distinct batches a tenant's reads wait for (the probe's
 * share: at 20-50 events a batch under one-event requests, a second or two of ingest); 100,000 staged
 * rows read by one search (~50-130 ms, once at a time per tenant: a tenant further behind than that
 * is refused, not scanned again and again).
 */
const PROJECTION_POLL_MS = 5;
const PROJECTION_READS_PER_TENANT = 64;
const PROJECTION_BATCHES_PER_TENANT = 1000;
const PROJECTION_STAGED_ROWS_PER_SEARCH = 100_000;
const LIVE_HEARTBEAT_MS = 15_000;
const LIVE_RETRY_MS = 1000;

/** Opens what the query API uses (pools, Redis connections); nothing is started or subscribed yet. */
export function createQueryDeps(config: Config, overrides: Partial<QueryDepsOverrides> = {}): QueryDeps {
  const logger = overrides.logger ?? createLogger('query-api', config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const pool = createPool(
    {
      connectionString: config.databaseUrl,
      max: config.dbPoolSize,
      applicationName: 'strata-query-api',
      statementTimeoutMs: overrides.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
    },
    logger,
  );
  const genericPool = createPool(
    {
      connectionString: config.databaseUrl,
      max: Math.max(2, Math.ceil(config.dbPoolSize / 2)),
      applicationName: GENERIC_PLAN_APPLICATION,
      statementTimeoutMs: overrides.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
      settings: GENERIC_PLAN_SETTINGS,
    },
    logger,
  );
  const cache = createRedis(
    config.cacheRedisUrl,
    { maxRetriesPerRequest: 1, connectionName: 'strata-query-api-cache', commandTimeoutMs: CACHE_COMMAND_TIMEOUT_MS },
    logger,
  );
  const registry = createMetricsRegistry('query-api');
  const replicas = new ReplicaSet({
    targets: config.replicas,
    primary: pool,
    clock,
    logger,
    breaker: REPLICA_BREAKER,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    statementTimeoutMs: REPLICA_BREAKER.timeoutMs + 500,
  });
  const cacheBreaker = new Breaker('cache', CACHE_BREAKER, clock, logger);
  const live = createLiveDeps(config, cache, logger, overrides.liveHeartbeatMs);
  const memo = new AnswerMemo(
    { maxBytes: config.answerMemoMaxBytes, tenantMaxBytes: Math.floor(config.answerMemoMaxBytes / ANSWER_MEMO_TENANT_SHARE), maxAgeMs: ANSWER_MEMO_MAX_AGE_MS },
    () => clock.now(),
  );
  const metrics = createQueryMetrics(registry, {
    replicas,
    breakers: [...replicas.nodes.map((node) => node.breaker), cacheBreaker],
    live: live.hub,
    answerMemo: memo,
  });
  const keptAnswers: KeptAnswers | undefined =
    config.answerMemoMaxBytes > 0 ? { memo, aggregateRetentionDays: config.aggregateRetentionDays, lookups: metrics.answerMemoLookups } : undefined;
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
  const projection = new ProjectionWaiter(
    pool,
    {
      maxWaitMs: config.strongReadWaitMs,
      pollMs: PROJECTION_POLL_MS,
      readsPerTenant: PROJECTION_READS_PER_TENANT,
      batchesPerTenant: PROJECTION_BATCHES_PER_TENANT,
      stagedRowsPerSearch: PROJECTION_STAGED_ROWS_PER_SEARCH,
    },
    metrics.projectionWaits,
    logger,
  );
  const router: ReadRouter = {
    primary: pool,
    primaryGeneric: genericPool,
    replicas,
    cache: { connected: () => cache.status === 'ready', breaker: cacheBreaker },
    metrics,
    sourceErrors: createSourceErrorLog(logger),
    clock,
    projection,
  };
  return { config, logger, pool, genericPool, cache, registry, metrics, authenticator, authSubscriber, clock, replicas, cacheBreaker, router, projection, live, keptAnswers };
}

function createLiveDeps(
  config: Pick<Config, 'cacheRedisUrl' | 'redisPrefix' | 'streamsPerTenant' | 'streamsTotal' | 'httpConnectionTimeoutMs' | 'liveResumeSeconds'>,
  cache: Redis,
  logger: Logger,
  heartbeatMs: number | undefined,
): LiveDeps {
  // Subscribed connections reconnect and resubscribe on their own, so no per-command retry bound.
  const subscriber = createRedis(config.cacheRedisUrl, { maxRetriesPerRequest: null, connectionName: 'strata-query-api-live' }, logger);
  return {
    hub: new LiveHub({
      subscriber,
      cache,
      resumeSeconds: config.liveResumeSeconds,
      prefix: config.redisPrefix,
      logger,
      streamsPerTenant: config.streamsPerTenant,
      streamsTotal: config.streamsTotal,
    }),
    subscriber,
    // A stream with nothing written for HTTP_CONNECTION_TIMEOUT_MS is closed as idle by the server.
    heartbeatMs: heartbeatMs ?? Math.min(LIVE_HEARTBEAT_MS, Math.floor(config.httpConnectionTimeoutMs / 2)),
    retryMs: LIVE_RETRY_MS,
  };
}

/** Closes what createQueryDeps opened, in reverse order; startQueryApi's stop() must have run first. */
export async function closeQueryDeps(deps: QueryDeps): Promise<void> {
  await closeAll(deps.logger, [
    // Reads still waiting are refused (503) before the pool they probe on ends.
    ['projection waiter', async () => deps.projection.close()],
    ['auth subscriber', async () => deps.authSubscriber.disconnect()],
    ['live subscriber', async () => deps.live.subscriber.disconnect()],
    // QUIT needs a live connection; a cache that is down is just disconnected, ending its reconnect loop.
    ['cache redis', async () => (deps.cache.status === 'ready' ? deps.cache.quit() : deps.cache.disconnect())],
    ['replica pools', async () => deps.replicas.close()],
    ['postgres pool', async () => deps.pool.end()],
    ['postgres generic-plan pool', async () => deps.genericPool.end()],
  ]);
}
