import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { AppError, redisKeys, type Config, type Redis } from '@strata/core';

export interface ReadRateLimitDeps {
  /** The cache Redis: the counters are shared by every query-api instance. */
  cache: Redis;
  config: Pick<Config, 'readRateLimitPerSecond' | 'redisPrefix'>;
}

/**
 * READ_RATE_LIMIT_PER_SECOND per tenant (0 turns it off): without it one tenant's reads can take
 * every connection of the small database pools and delay everybody else's. Registered inside the
 * authenticated /v1 scope and run as a preHandler, so it counts by the tenant of the verified key,
 * never by address or URL; the counters live in the cache Redis, so every query-api instance shares
 * them. Without that Redis (down, or failing) reads are not refused: the limit protects the
 * database, and a cache outage must not become a read outage.
 */
export async function registerReadRateLimit(app: FastifyInstance, deps: ReadRateLimitDeps): Promise<void> {
  const max = deps.config.readRateLimitPerSecond;
  if (max <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: 1000,
    hook: 'preHandler',
    redis: deps.cache,
    nameSpace: redisKeys.readRateLimit(deps.config.redisPrefix),
    keyGenerator: (request) => request.auth.tenantId,
    // A cache Redis that is not connected would make every read wait for its command timeout first.
    allowList: () => deps.cache.status !== 'ready',
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'rate_limited', `over the tenant's read rate of ${context.max} requests per second`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  });
}
