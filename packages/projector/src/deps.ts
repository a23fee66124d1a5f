import type { Registry } from 'prom-client';
import {
  type CallBatcher,
  closeAll,
  createLogger,
  createMetricsRegistry,
  createPool,
  createRedis,
  systemClock,
  type Clock,
  type Config,
  type Logger,
  type Pool,
  type Redis,
} from '@strata/core';
import { LiveWatchHints } from './cache/live-watch-hints.ts';
import { defineWriteStateCommand } from './cache/write-through-states.ts';
import { createProjectorMetrics, type ProjectorMetrics } from './metrics.ts';
import { createBatchDrains, type BatchOutcome } from './processors/batch-drains.ts';
import { HISTORY_CONFLICT_MEMORY_MS, HistoryConflictMemory } from './processors/history-conflict-memory.ts';
import { createDrainWriteThrough } from './processors/write-through-drain.ts';
import type { DrainedBatch } from './queries/project-batch.ts';

/** The configuration the projector reads; each component takes its own slice of it. */
export type ProjectorConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'redisUrl'
  | 'cacheRedisUrl'
  | 'redisPrefix'
  | 'host'
  | 'projectorMetricsPort'
  | 'logLevel'
  | 'cacheTtlSeconds'
  | 'liveStreamMaxBytes'
  | 'projectorConcurrency'
  | 'projectorDrainsInFlight'
  | 'projectorDrainMaxEvents'
  | 'projectorDrainLingerMs'
  | 'projectorDrainMinEvents'
  | 'aggregateRefreshIntervalMs'
  | 'aggregateSettleMs'
  | 'groupHeadLagMs'
  | 'httpRequestTimeoutMs'
  | 'httpConnectionTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpMaxConnections'
  | 'trustProxy'
>;

export interface ProjectorDeps {
  config: ProjectorConfig;
  logger: Logger;
  clock: Clock;
  pool: Pool;
  /** The drains' own connections, which plan the drain statement once (decision 0095). */
  drainPool: Pool;
  /** BullMQ's connection: blocking commands, so no per-request retry limit. */
  queueRedis: Redis;
  /** The latest-state cache and live channel (CACHE_REDIS_URL, which may be another server). */
  cache: Redis;
  registry: Registry;
  metrics: ProjectorMetrics;
  /** Where jobs hand their batches: drained together, one transaction for the jobs active at once. */
  drains: CallBatcher<DrainedBatch, BatchOutcome>;
}

/**
 * The drains' connections:
 *  - they plan named statements once (a generic plan): PostgreSQL otherwise re-plans the drain
 *    statement on every run, ~1 ms of CPU of a 30-event drain's ~3 under one-event requests, where
 *    ~150 drains a second run. Safe only because no join of the statement depends on an estimate
 *    (decision 0095): its joins are FULL joins, which PostgreSQL runs only by hashing or merging;
 *  - of those two, they hash (decision 0128): a merge join sorts both sides, and the drain's input
 *    rows are wide (values, labels, state), so joining them to the device numbers cost 12 ms of a
 *    120 ms drain of 4,000 events merged and 3 ms hashed;
 *  - the projection must be on disk before its job completes and leaves the queue.
 */
export const DRAIN_CONNECTION_SETTINGS: Readonly<Record<string, string>> = {
  synchronous_commit: 'on',
  plan_cache_mode: 'force_generic_plan',
  enable_mergejoin: 'off',
};

/** Test knobs; production takes every default. */
export interface ProjectorDepsOverrides {
  logger: Logger;
  clock: Clock;
  /** Whether drains try history's plain insert (decision 0127); by default HISTORY_CONFLICT_MEMORY_MS on the system's clock. */
  historyConflicts: HistoryConflictMemory;
}

/** Opens what the projector uses (pool, Redis connections, drains); nothing is started yet. */
export function createProjectorDeps(config: Config, overrides: Partial<ProjectorDepsOverrides> = {}): ProjectorDeps {
  const logger = overrides.logger ?? createLogger('projector', config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const pool = createPool(
    {
      connectionString: config.databaseUrl,
      // One connection per concurrent job, one for readiness probes, one for the aggregate refresher.
      max: config.projectorConcurrency + 2,
      applicationName: 'strata-projector',
      // The projection must be on disk before its job completes and leaves the queue.
      settings: { synchronous_commit: 'on' },
      statementTimeoutMs: 60_000,
    },
    logger,
  );
  // One connection per drain in flight (DRAIN_CONNECTION_SETTINGS).
  const drainPool = createPool(
    {
      connectionString: config.databaseUrl,
      max: config.projectorDrainsInFlight,
      applicationName: 'strata-projector-drains',
      settings: DRAIN_CONNECTION_SETTINGS,
      statementTimeoutMs: 60_000,
    },
    logger,
  );
  const queueRedis = createRedis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'projector-queue' }, logger);
  const cache = createRedis(config.cacheRedisUrl, { maxRetriesPerRequest: 1, connectionName: 'projector-cache', commandTimeoutMs: 2000 }, logger);
  defineWriteStateCommand(cache);
  const registry = createMetricsRegistry('projector');
  const metrics = createProjectorMetrics(registry);
  const writeThrough = createDrainWriteThrough({
    cache,
    logger,
    metrics,
    options: {
      prefix: config.redisPrefix,
      ttlSeconds: config.cacheTtlSeconds,
      liveStreamMaxBytes: config.liveStreamMaxBytes,
      // What each write-through call last said about a tenant's live watch (decision 0098).
      hints: new LiveWatchHints(),
    },
  });
  const drains = createBatchDrains({
    pool: drainPool,
    logger,
    metrics,
    writeThrough,
    historyConflicts: overrides.historyConflicts ?? new HistoryConflictMemory(HISTORY_CONFLICT_MEMORY_MS),
    options: {
      drainsInFlight: config.projectorDrainsInFlight,
      drainMaxEvents: config.projectorDrainMaxEvents,
      concurrency: config.projectorConcurrency,
      lingerMs: config.projectorDrainLingerMs,
      minEvents: config.projectorDrainMinEvents,
    },
  });
  return { config, logger, clock, pool, drainPool, queueRedis, cache, registry, metrics, drains };
}

export async function closeProjectorDeps(deps: ProjectorDeps): Promise<void> {
  await closeAll(deps.logger, [
    ['cache', () => deps.cache.quit()],
    ['queueRedis', () => deps.queueRedis.quit()],
    ['pool', () => deps.pool.end()],
    ['drainPool', () => deps.drainPool.end()],
  ]);
}
