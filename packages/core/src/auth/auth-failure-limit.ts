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
 * the count. Only keys that fail are counted and only they are refused by it: a key that verifies is
 * never asked about the limit, so a keyless client cannot lock valid keys out of its address.
 *
 * Counts one failed authentication of this address in the current window and returns the seconds
 * until the window ends when the address is now past the limit (the caller answers 429, not 401).
 */
export async function recordAuthFailure(options: AuthFailureLimitOptions, bucket: string, nowMs: number): Promise<number | undefined> {
  if (options.perMinute <= 0) return undefined;
  const minute = Math.floor(nowMs / WINDOW_MS);
  const key = redisKeys.authFailures(options.prefix, bucket, minute);
  // The key outlives its window a little, so a clock skewed between instances never revives a count.
  const replies = await options.redis.multi().incr(key).pexpire(key, WINDOW_MS * 2).exec();
  const count = Number(replies?.[0]?.[1] ?? 0);
  if (count <= options.perMinute) return undefined;
  return Math.max(1, Math.ceil(((minute + 1) * WINDOW_MS - nowMs) / 1000));
}
