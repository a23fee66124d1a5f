import pg from 'pg';
import { createLogger, createPool, Redis, type Config, type Pool, INGEST_QUEUE } from '@strata/core';
import { createTenant, deleteKeysWithPrefix, ensureDatabase, runMigrations } from '@strata/testkit';
import { freePort } from '../test/support/free-port.ts';
import { startServiceProcess, waitUntilReady, type ServiceName, type ServiceProcess } from '../test/support/start-service-process.ts';
import { BENCH_START_MS } from './event-bodies.ts';
import { SERIES_DAYS } from './load-series-device.ts';

export interface BenchStack {
  databaseUrl: string;
  db: Pool;
  urls: Record<ServiceName, string>;
  apiKey: string;
  tenant: string;
  /** The queue Redis, for sampling the ingest queue's depth. */
  redis: Redis;
  /** BullMQ's key prefix of the ingest queue. */
  queueKey: string;
  stop(): Promise<void>;
}

/**
 * A fresh `strata_bench` database beside the configured one and the four services as their own
 * processes, exactly as `pnpm start` runs them. Starting from nothing each time keeps runs comparable.
 */
export async function startBenchStack(config: Config, env: Record<string, string>, profileDir?: string): Promise<BenchStack> {
  const logger = createLogger('bench', 'warn');
  // Config is the server to measure: DATABASE_URL, or the private server main.ts started for --embedded.
  const url = new URL(config.databaseUrl);
  url.pathname = '/strata_bench';
  const databaseUrl = url.toString();
  await recreateDatabase(databaseUrl);
  await runMigrations(databaseUrl, logger);
  const db = createPool({ connectionString: databaseUrl, max: 8, applicationName: 'strata-bench' }, logger);
  // History for the series device spans 30 days back from the bench start: give it daily partitions
  // as months of unattended operation would have, instead of piling it into DEFAULT.
  await db.query('SELECT ensure_event_partitions($1::date, $2)', [
    new Date(BENCH_START_MS - (SERIES_DAYS + 1) * 86_400_000).toISOString().slice(0, 10),
    SERIES_DAYS + 3,
  ]);
  const redis = new Redis(config.redisUrl);
  await deleteKeysWithPrefix(redis, 'bench');

  const names: ServiceName[] = ['ops', 'projector', 'command-api', 'query-api'];
  const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await freePort()]))) as Record<ServiceName, number>;
  const serviceEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: config.redisUrl,
    CACHE_REDIS_URL: config.cacheRedisUrl,
    REDIS_PREFIX: 'bench',
    LOG_LEVEL: 'warn',
    // The per-tenant limits are on by default; this load is one tenant far above them, on purpose.
    INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
    READ_RATE_LIMIT_PER_SECOND: '0',
    AUTH_FAILURES_PER_MINUTE: '0',
    // The series device holds 30 days of history, which the default retention would refuse at its edge.
    RETENTION_DAYS: '60',
    COMMAND_API_PORT: String(ports['command-api']),
    QUERY_API_PORT: String(ports['query-api']),
    OPS_PORT: String(ports.ops),
    PROJECTOR_METRICS_PORT: String(ports.projector),
  };
  const processes: ServiceProcess[] = [];
  const urls = {} as Record<ServiceName, string>;
  for (const name of names) {
    // --profile: each service writes a V8 CPU profile when it exits (open it in Chrome DevTools).
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    const service = startServiceProcess(name, serviceEnv, [], nodeArgs);
    processes.push(service);
    urls[name] = `http://127.0.0.1:${ports[name]}`;
  }
  await Promise.all(processes.map((service) => waitUntilReady(`${urls[service.name]}/readyz`, service)));
  const { tenant, apiKey } = await createTenant(db, 'bench');
  return {
    databaseUrl,
    db,
    urls,
    apiKey,
    tenant,
    redis,
    queueKey: `bench:${INGEST_QUEUE}`,
    async stop() {
      for (const service of processes) service.child.kill('SIGTERM');
      await Promise.all(processes.map((service) => service.exited));
      redis.disconnect();
      await db.end();
    },
  };
}

async function recreateDatabase(databaseUrl: string): Promise<void> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query('DROP DATABASE IF EXISTS strata_bench WITH (FORCE)');
  await client.end();
  await ensureDatabase(databaseUrl);
}
