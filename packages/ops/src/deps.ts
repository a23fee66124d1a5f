import { Queue } from 'bullmq';
import { PgBoss } from 'pg-boss';
import type { Registry } from 'prom-client';
import {
  INGEST_QUEUE,
  closeAll,
  createLogger,
  createMetricsRegistry,
  createPool,
  KEEPALIVE_INITIAL_DELAY_MS,
  createRedis,
  systemClock,
  TenantAuthenticator,
  type Clock,
  type Config,
  type Logger,
  type Pool,
  type Redis,
} from '@strata/core';
import { createOpsMetrics, type OpsMetrics } from './metrics.ts';

/** pg-boss keeps its tables in a schema of their own, out of the way of the application's. */
export const PGBOSS_SCHEMA = 'pgboss';

/** How long ops trusts a verified key without asking the database again. */
const KEY_TTL_MS = 1000;

/** The configuration the ops service reads; each component takes its own slice of it. */
export type OpsConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'replicas'
  | 'redisUrl'
  | 'cacheRedisUrl'
  | 'redisPrefix'
  | 'host'
  | 'opsPort'
  | 'queryApiPort'
  | 'logLevel'
  | 'retentionDays'
  | 'aggregateRetentionDays'
  | 'maxFutureSkewMs'
  | 'projectorBatchAttempts'
  | 'stagingSweepIntervalMs'
  | 'stagingSweepAgeMs'
  | 'churnedTableVacuumIntervalMs'
  | 'httpRequestTimeoutMs'
  | 'httpConnectionTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpMaxConnections'
  | 'trustProxy'
  | 'authFailuresPerMinute'
>;

export interface OpsDeps {
  config: OpsConfig;
  logger: Logger;
  clock: Clock;
  /** The primary: maintenance DDL and the heartbeat must run there. */
  pool: Pool;
  queueRedis: Redis;
  cacheRedis: Redis;
  /** Depth and failed counts of the projector's queue; dead-letter retries are added to it as new batches. */
  ingestQueue: Queue;
  boss: PgBoss;
  registry: Registry;
  metrics: OpsMetrics;
  /** Verifies the keys the status page's dead-letter actions are sent with (decision 0080). */
  authenticator: TenantAuthenticator;
}

/** Test knobs (and the CLI's silent logger); the service takes every default. */
export interface OpsDepsOverrides {
  logger: Logger;
  clock: Clock;
}

/** Creates every client the ops service uses; nothing connects until first used (or boss.start()). */
export function createOpsDeps(config: Config, overrides: Partial<OpsDepsOverrides> = {}): OpsDeps {
  const logger = overrides.logger ?? createLogger('ops', config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const pool = createPool(
    { connectionString: config.databaseUrl, max: 4, applicationName: 'strata-ops', statementTimeoutMs: 60_000 },
    logger,
  );
  // One retry, then a command fails: checks and scrapes must report "down", not wait for Redis to return.
  const queueRedis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'strata-ops' }, logger);
  const cacheRedis =
    config.cacheRedisUrl === config.redisUrl
      ? queueRedis
      : createRedis(config.cacheRedisUrl, { maxRetriesPerRequest: 1, connectionName: 'strata-ops-cache' }, logger);
  const ingestQueue = new Queue(INGEST_QUEUE, { connection: queueRedis, prefix: config.redisPrefix });
  ingestQueue.on('error', (error) => logger.warn({ err: error }, 'ingest queue client error'));
  const boss = new PgBoss({
    connectionString: config.databaseUrl,
    schema: PGBOSS_SCHEMA,
    max: 3,
    application_name: 'strata-ops-pgboss',
    // pg-boss hands its options to pg's Pool (its types omit these): keepalive as createPool's pools.
    ...{ keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS },
  });
  boss.on('error', (error) => logger.warn({ err: error }, 'pg-boss error'));
  const registry = createMetricsRegistry('ops');
  const metrics = createOpsMetrics({ registry, pool, ingestQueue, clock, logger });
  const authenticator = new TenantAuthenticator({
    db: pool,
    clock,
    logger,
    redis: cacheRedis,
    prefix: config.redisPrefix,
    authFailuresPerMinute: config.authFailuresPerMinute,
    // No revocation subscription (and no connection held for one): a key is trusted for at most this
    // long, which keeps `ops key revoke` effective within 1 s here too. The status page sends a key a
    // few times a minute, so looking it up again each second costs nothing.
    ttlMs: KEY_TTL_MS,
  });
  return { config, logger, clock, pool, queueRedis, cacheRedis, ingestQueue, boss, registry, metrics, authenticator };
}

/** Closes the clients in reverse order of creation; pg-boss is stopped by the scheduler that started it. */
export async function closeOpsDeps(deps: OpsDeps): Promise<void> {
  await closeAll(deps.logger, [
    ['ingest queue', () => deps.ingestQueue.close()],
    ...(deps.cacheRedis === deps.queueRedis ? [] : [['cache redis', () => deps.cacheRedis.quit()] as [string, () => Promise<unknown>]]),
    ['queue redis', () => deps.queueRedis.quit()],
    ['postgres pool', () => deps.pool.end()],
  ]);
}
