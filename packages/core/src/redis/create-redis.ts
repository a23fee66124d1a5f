import { Redis } from 'ioredis';
import type { Logger } from '../logging/create-logger.ts';

export { Redis };

export interface RedisOptions {
  /** BullMQ requires `null` for blocking worker connections; request paths want a bound so they fail fast. */
  maxRetriesPerRequest: number | null;
  connectionName: string;
  /** Fail commands at once while disconnected instead of queueing them (request paths answer 503 instead). */
  failFast?: boolean;
}

/** An ioredis client whose connection errors are logged, never thrown as unhandled events. */
export function createRedis(url: string, options: RedisOptions, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    connectionName: options.connectionName,
    enableOfflineQueue: !options.failFast,
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastLogged = 0;
  redis.on('error', (error) => {
    // Reconnect loops emit an error per attempt; one line a few seconds is enough to see it.
    if (Date.now() - lastLogged > 5000) {
      lastLogged = Date.now();
      logger.warn({ err: error, connection: options.connectionName }, 'redis connection error');
    }
  });
  return redis;
}
