import { Redis } from 'ioredis';

/**
 * Whether a Redis server answers at the URL. An authentication error still means a server is
 * there; only a refused connection or a timeout counts as down.
 */
export async function isRedisUp(url: string, timeoutMs = 2000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return /^(NOAUTH|WRONGPASS|ERR)\b/.test(message);
  } finally {
    redis.disconnect();
  }
}
