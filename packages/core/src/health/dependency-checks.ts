import type { Redis } from 'ioredis';
import type { Queryable } from '../db/create-pool.ts';
import { readEvictionPolicy } from '../redis/read-eviction-policy.ts';
import type { HealthCheck } from './check-result.ts';

/*
 * The checks of the shared dependencies, used alike by every service's /readyz and by `ops health`
 * (which shows the details: latency, eviction policy). A dependency that is down throws.
 */

export const postgresCheck = (db: Queryable): HealthCheck => async () => ({ ok: true, latencyMs: await latencyOf(() => db.query('SELECT 1')) });

export const redisCheck = (redis: Redis): HealthCheck => async () => ({ ok: true, latencyMs: await latencyOf(() => redis.ping()) });

/** The queue's Redis must never evict: an evicted job is an acknowledged batch silently gone. */
export const queueRedisCheck = (redis: Redis): HealthCheck => async () => {
  const maxmemoryPolicy = await readEvictionPolicy(redis);
  if (maxmemoryPolicy === 'noeviction') return { ok: true, maxmemoryPolicy };
  return { ok: false, maxmemoryPolicy, error: `maxmemory-policy is "${maxmemoryPolicy}"; the queue Redis must use "noeviction"` };
};

/** Milliseconds `work` took, to a tenth. */
async function latencyOf(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return Math.round((performance.now() - start) * 10) / 10;
}
