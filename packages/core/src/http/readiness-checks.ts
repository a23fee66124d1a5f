import type { Redis } from 'ioredis';
import type { Queryable } from '../db/create-pool.ts';
import { readEvictionPolicy } from '../redis/read-eviction-policy.ts';
import type { ReadinessCheck } from './register-probe-routes.ts';

export const postgresCheck = (db: Queryable): ReadinessCheck => async () => {
  await db.query('SELECT 1');
};

export const redisCheck = (redis: Redis): ReadinessCheck => async () => {
  await redis.ping();
};

/** The queue's Redis must never evict: an evicted job is an acknowledged batch silently gone. */
export const queueRedisCheck = (redis: Redis): ReadinessCheck => async () => {
  const policy = await readEvictionPolicy(redis);
  if (policy !== 'noeviction') {
    throw new Error(`maxmemory-policy is "${policy}"; the queue Redis must use "noeviction"`);
  }
};
