import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/redis-keys.ts';

/**
 * Tells every process that authenticates (they all subscribe, see TenantAuthenticator) to drop the
 * key from its cache and close what it holds open for it. Returns how many processes heard it.
 */
export async function publishKeyRevocation(redis: Redis, prefix: string, keyId: string): Promise<number> {
  return redis.publish(redisKeys.keyRevocations(prefix), keyId);
}
