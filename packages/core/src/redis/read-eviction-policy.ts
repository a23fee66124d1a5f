import type { Redis } from 'ioredis';

/**
 * The server's maxmemory-policy, read from INFO (CONFIG GET is often disabled on managed Redis).
 * BullMQ loses jobs silently under any policy but `noeviction`, so readiness checks it.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string> {
  const info = await redis.info('memory');
  const match = /^maxmemory_policy:(\S+)/m.exec(info);
  return match?.[1] ?? 'unknown';
}
