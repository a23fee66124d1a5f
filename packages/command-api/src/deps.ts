import { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  EVENT_LIMITS,
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
import { DeviceKeyRegistry } from './ingest/device-key-registry.ts';
import { IngestRateLimiter } from './ingest/ingest-rate-limiter.ts';
import { GroupCommitter } from './ingest/group-committer.ts';
import { HeldBytes, LINE_PROTOCOL_BYTES_PER_CHAR, type HeldBytesOptions } from './ingest/held-bytes.ts';
import { LargeBodyLane } from './ingest/large-body-lane.ts';
import { createCommandMetrics, registerHeldGauges, registerLargeBodyGauge, type CommandMetrics } from './metrics.ts';
import { TenantWriteGate } from './labels/tenant-write-gate.ts';

/**
 * Events the group committer holds before it answers 503 (see GroupCommitOptions.maxHeldEvents), and
 * what one tenant may hold of them (decision 0122): a tenant's share is five of the largest requests,
 * far above what healthy load holds (a few batches); the whole is four shares, as for bytes (decision
 * 0120), whose budget is what bounds memory while PostgreSQL or Redis stalls.
 */
export const HELD_EVENTS_PER_TENANT = 5 * EVENT_LIMITS.maxEventsPerRequest;
export const HELD_EVENTS_LIMIT = 4 * HELD_EVENTS_PER_TENANT;

/**
 * A batch's bytes of requests, in HeldBytes' estimate (about 1 MiB of JSON): the bench's batches of
 * 2,000 events hold about 6 MiB, so they are not cut, while a request of large bodies goes alone and
 * never makes a neighbour's small request wait for a write of tens of MiB (decision 0122).
 */
export const BATCH_BYTES_LIMIT = 16 * 1024 * 1024;

/**
 * The bounds of HeldBytes, in estimated memory (held-bytes.ts): far above healthy load (the bench's
 * batches hold ~12 MiB of estimate), low enough that requests waiting on a stalled store cannot hold
 * gigabytes, whatever their shape. A tenant holds at most a quarter, and at least one of the largest
 * line-protocol bodies.
 */
export function heldBytesLimits(maxBodyBytes: number): HeldBytesOptions {
  const maxBytesPerTenant = Math.max(256 * 1024 * 1024, LINE_PROTOCOL_BYTES_PER_CHAR * maxBodyBytes);
  return { maxBytes: 4 * maxBytesPerTenant, maxBytesPerTenant };
}

/**
 * The large requests processed at once per process, in HeldBytes' estimate (16 MiB: 1 MiB of JSON),
 * and how long one may wait for its turn (decision 0123). Measured beside a tenant posting ~1 MiB
 * bodies on four connections: a neighbour's one-event requests took 0.3–0.7 s each with no bound,
 * 50–150 ms with two such bodies at a time, 15–70 ms with one. The bench's batches (eight of ~1.2 MiB
 * of estimate) fit whole. The wait's bound is far above a turn (tens of ms a MiB).
 */
export const LARGE_BODY_LANE = { capacityBytes: 16 * 1024 * 1024, maxWaitMs: 30_000 };

/** The configuration the command API reads; each component takes its own slice of it. */
export type CommandConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'dbPoolSize'
  | 'redisUrl'
  | 'cacheRedisUrl'
  | 'redisPrefix'
  | 'host'
  | 'commandApiPort'
  | 'logLevel'
  | 'retentionDays'
  | 'maxFutureSkewMs'
  | 'maxBodyBytes'
  | 'ingestMaxBatchEvents'
  | 'ingestMaxWaitMs'
  | 'ingestRateLimitEventsPerSecond'
  | 'ingestRateLimitBytesPerSecond'
  | 'authFailuresPerMinute'
  | 'maxKeysPerDevice'
  | 'projectorBatchAttempts'
  | 'httpRequestTimeoutMs'
  | 'httpConnectionTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpMaxConnections'
  | 'trustProxy'
  | 'mqttPort'
  | 'mqttMaxConnections'
  | 'mqttMaxConnectionsPerTenant'
  | 'mqttMaxPendingConnections'
  | 'mqttConnectTimeoutMs'
  | 'mqttMaxKeepAliveSeconds'
  | 'mqttMaxInFlight'
>;

export interface CommandDeps {
  config: CommandConfig;
  logger: Logger;
  clock: Clock;
  pool: Pool;
  redis: Redis;
  queue: Queue<IngestJobData>;
  registry: Registry;
  metrics: CommandMetrics;
  authenticator: TenantAuthenticator;
  /** The authenticator's own connection, subscribed to key revocations. */
  authSubscriber: Redis;
  /** The cache Redis (CACHE_REDIS_URL): label writes update the device's cached labels after commit. */
  cache: Redis;
  /** Label writes, one at a time per tenant in this process (they wait on the tenant's label versions lock). */
  labelWrites: TenantWriteGate;
  committer: GroupCommitter;
  /** The memory of write requests in hand, charged from their first step (held-bytes.ts). */
  heldBytes: HeldBytes;
  /** Large requests processed a budget (~1 MiB of JSON) at a time, tenants taking turns (decision 0123). */
  largeBodies: LargeBodyLane;
  /** INGEST_RATE_LIMIT_EVENTS_PER_SECOND and _BYTES_PER_SECOND, per tenant, shared by every instance through Redis. */
  rateLimiter: IngestRateLimiter;
  /** MAX_KEYS_PER_DEVICE, shared by every instance through Redis (decision 0044). */
  keyRegistry: DeviceKeyRegistry;
}

/** Test knobs; production takes every default. */
export interface CommandDepsOverrides {
  logger: Logger;
  clock: Clock;
}

/** Opens what the command API uses (pool, Redis connections, queue); nothing is started or subscribed yet. */
export function createCommandDeps(config: Config, overrides: Partial<CommandDepsOverrides> = {}): CommandDeps {
  const logger = overrides.logger ?? createLogger('command-api', config.logLevel);
  const clock = overrides.clock ?? systemClock;
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
    {
      maxBatchEvents: config.ingestMaxBatchEvents,
      maxBatchBytes: BATCH_BYTES_LIMIT,
      maxWaitMs: config.ingestMaxWaitMs,
      // Each write holds a pool connection for its staging insert; the rest of the pool stays free for
      // key lookups and registry seeds, so a slow insert cannot starve authentication.
      writesInFlight: Math.max(1, Math.floor(config.dbPoolSize / 2)),
      maxHeldEvents: HELD_EVENTS_LIMIT,
      maxHeldEventsPerTenant: HELD_EVENTS_PER_TENANT,
    },
    clock,
    logger,
    metrics,
  );
  const heldBytes = new HeldBytes(heldBytesLimits(config.maxBodyBytes));
  registerHeldGauges(registry, { events: () => committer.heldEvents, bytes: () => heldBytes.total });
  const largeBodies = new LargeBodyLane(LARGE_BODY_LANE);
  registerLargeBodyGauge(registry, largeBodies);
  // Subscribed connections reconnect and resubscribe on their own, so no per-command retry bound.
  const authSubscriber = createRedis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'command-api-auth' }, logger);
  // Best effort after commit: a cache write that fails leaves the old entry, which readers compare by version.
  const cache = createRedis(config.cacheRedisUrl, { maxRetriesPerRequest: 1, connectionName: 'command-api-cache', commandTimeoutMs: 2000 }, logger);
  const authenticator = new TenantAuthenticator({
    db: pool,
    clock,
    logger,
    redis,
    subscriber: authSubscriber,
    prefix: config.redisPrefix,
    authFailuresPerMinute: config.authFailuresPerMinute,
  });
  const rateLimiter = new IngestRateLimiter(
    redis,
    config.redisPrefix,
    { eventsPerSecond: config.ingestRateLimitEventsPerSecond, bytesPerSecond: config.ingestRateLimitBytesPerSecond },
    logger,
  );
  const keyRegistry = new DeviceKeyRegistry(redis, pool, {
    maxKeysPerDevice: config.maxKeysPerDevice,
    prefix: config.redisPrefix,
    // Long enough that every write of a day-active device renews it, short enough that idle devices'
    // entries leave the queue Redis; a re-seed costs one indexed read of device_state.
    ttlSeconds: 86_400,
    knownNamesLimit: 200_000,
  });
  return { config, logger, clock, pool, redis, queue, registry, metrics, authenticator, authSubscriber, cache, labelWrites: new TenantWriteGate(), committer, heldBytes, largeBodies, rateLimiter, keyRegistry };
}

/**
 * Finishes acknowledging what was taken in, then closes connections in reverse order of creation.
 * Called after the service has stopped (its authenticator no longer subscribed, no request in flight).
 */
export async function closeCommandDeps(deps: CommandDeps): Promise<void> {
  await closeAll(deps.logger, [
    ['committer', () => deps.committer.stop()],
    ['auth subscriber', async () => deps.authSubscriber.disconnect()],
    ['cache', () => deps.cache.quit()],
    ['queue', () => deps.queue.close()],
    ['redis', () => deps.redis.quit()],
    ['pool', () => deps.pool.end()],
  ]);
}
