import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/redis-keys.ts';

const WINDOW_MS = 60_000;

export interface AuthFailureLimitOptions {
  redis: Redis;
  prefix: string;
  /** Failures per minute per client address before 429; 0 turns the limit off. */
  perMinute: number;
}

/**
 * A fixed one-minute window per client address, kept in Redis so every instance of every API shares
 * the count. Returns the seconds until the window ends when the address is over the limit.
 */
export async function authFailureRetryAfter(options: AuthFailureLimitOptions, bucket: string, nowMs: number): Promise<number | undefined> {
  if (options.perMinute <= 0) return undefined;
  const minute = Math.floor(nowMs / WINDOW_MS);
  const count = Number(await options.redis.get(redisKeys.authFailures(options.prefix, bucket, minute)));
  if (count < options.perMinute) return undefined;
  return Math.max(1, Math.ceil(((minute + 1) * WINDOW_MS - nowMs) / 1000));
}

/** Counts one failed authentication of this address in the current window. */
export async function recordAuthFailure(options: AuthFailureLimitOptions, bucket: string, nowMs: number): Promise<void> {
  if (options.perMinute <= 0) return;
  const key = redisKeys.authFailures(options.prefix, bucket, Math.floor(nowMs / WINDOW_MS));
  // The key outlives its window a little, so a clock skewed between instances never revives a count.
  await options.redis.multi().incr(key).pexpire(key, WINDOW_MS * 2).exec();
}
