import { Queue } from 'bullmq';
import { INGEST_QUEUE, createLogger, createRedis, type Config, type IngestJobData } from '@strata/core';

/** The ingest queue for one CLI command, on its own connection, always closed afterwards. */
export async function withCliQueue<T>(config: Config, work: (queue: Queue<IngestJobData>) => Promise<T>): Promise<T> {
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'strata-ops-cli', commandTimeoutMs: 10_000 }, createLogger('ops', 'silent'));
  const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: redis, prefix: config.redisPrefix });
  queue.on('error', () => {});
  try {
    return await work(queue);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
