import { Redis } from 'ioredis';
import type { Logger } from '../logging/create-logger.ts';
import { ThrottledLogger } from '../logging/throttled-logger.ts';

export { Redis };

export interface RedisOptions {
  /** BullMQ requires `null` for blocking worker connections; request paths want a bound so they fail fast. */
  maxRetriesPerRequest: number | null;
  connectionName: string;
  /**
   * Request paths set this: a command without a reply within this time fails (the request answers
   * 503 or falls back) instead of hanging on a Redis that is away. Commands issued while the first
   * connection is still opening wait for it rather than fail, so a fresh process does not refuse
   * its first requests.
   */
  commandTimeoutMs?: number;
}

/** An ioredis client whose connection errors are logged, never thrown as unhandled events. */
export function createRedis(url: string, options: RedisOptions, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    connectionName: options.connectionName,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Reconnect loops emit an error per attempt; one line a few seconds is enough to see it.
  const errors = new ThrottledLogger(logger, 5000);
  redis.on('error', (error) => {
    errors.warn(options.connectionName, { err: error, connection: options.connectionName }, 'redis connection error');
  });
  return redis;
}
