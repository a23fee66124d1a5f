import type { LevelWithSilent } from 'pino';

/** Everything a Strata process can be configured with; one shape for all four services. */
export interface Config {
  databaseUrl: string;
  replicaUrls: string[];
  redisUrl: string;
  cacheRedisUrl: string;
  /** Prefix for every Redis key, queue and channel, so several deployments (or test files) share one Redis. */
  redisPrefix: string;
  host: string;
  commandApiPort: number;
  queryApiPort: number;
  opsPort: number;
  projectorMetricsPort: number;
  logLevel: LevelWithSilent;
  retentionDays: number;
  maxStalenessMs: number;
  cacheTtlSeconds: number;
  /** Group commit: a batch closes at this many events or this many milliseconds after its first request. */
  ingestMaxBatchEvents: number;
  ingestMaxWaitMs: number;
  maxBodyBytes: number;
  /** Requests per second per tenant on the command API; 0 disables the limit. */
  ingestRateLimitPerSecond: number;
  projectorConcurrency: number;
  projectorBatchAttempts: number;
  dbPoolSize: number;
  /** Where `pnpm start` keeps private PostgreSQL / Redis data when it has to start its own. */
  dataDir: string;
}
