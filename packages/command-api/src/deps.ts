import { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  INGEST_QUEUE,
  TenantAuthenticator,
  closeAll,
  createLogger,
  createMetricsRegistry,
  createPool,
  createRedis,
  systemClock,
  type Clock,
  type Config,
  type IngestJobData,
  type Logger,
  type Pool,
  type Redis,
} from '@strata/core';
import { writeBatch } from './ingest/batch-writer.ts';
import { GroupCommitter } from './ingest/group-committer.ts';
import { createCommandMetrics, type CommandMetrics } from './metrics.ts';

export interface CommandDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  pool: Pool;
  redis: Redis;
  queue: Queue<IngestJobData>;
  registry: Registry;
  metrics: CommandMetrics;
  authenticator: TenantAuthenticator;
  committer: GroupCommitter;
}

export function createDeps(config: Config, logger = createLogger('command-api', config.logLevel), clock = systemClock): CommandDeps {
  const pool = createPool(
    {
      connectionString: config.databaseUrl,
      max: config.dbPoolSize,
      applicationName: 'strata-command-api',
      // Staging writes may skip the WAL flush wait: a staged batch lost in a crash is still in its job.
      settings: { synchronous_commit: 'off' },
      statementTimeoutMs: 10_000,
    },
    logger,
  );
  // Bounded commands: while Redis is away the client gets 503 and retries, rather than a request
  // hanging on an acknowledgement we cannot give.
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'command-api', commandTimeoutMs: 2000 }, logger);
  const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: redis, prefix: config.redisPrefix });
  queue.on('error', (error) => logger.warn({ err: error }, 'queue error'));
  const registry = createMetricsRegistry('command-api');
  const metrics = createCommandMetrics(registry);
  const committer = new GroupCommitter(
    (batchId, events, acceptedAt) =>
      writeBatch({ pool, queue, logger, attempts: config.projectorBatchAttempts }, batchId, events, acceptedAt),
    { maxBatchEvents: config.ingestMaxBatchEvents, maxWaitMs: config.ingestMaxWaitMs },
    clock,
    logger,
    metrics,
  );
  const authenticator = new TenantAuthenticator(pool, clock);
  return { config, logger, clock, pool, redis, queue, registry, metrics, authenticator, committer };
}

/** Finishes acknowledging what was taken in, then closes connections in reverse order of creation. */
export async function closeDeps(deps: CommandDeps): Promise<void> {
  await closeAll(deps.logger, [
    ['committer', () => deps.committer.stop()],
    ['queue', () => deps.queue.close()],
    ['redis', () => deps.redis.quit()],
    ['pool', () => deps.pool.end()],
  ]);
}
