import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger, createPool, Redis, type Config, type Pool, INGEST_QUEUE } from '@strata/core';
import { createTenant, deleteKeysWithPrefix, ensureDatabase, freePort, launchSystem, runMigrations, type ServiceName } from '@strata/testkit';
import { BENCH_START_MS, SERIES_DAYS } from './event-bodies.ts';

export interface BenchStack {
  databaseUrl: string;
  db: Pool;
  urls: Record<ServiceName, string>;
  /** command-api's MQTT listener, `mqtt://127.0.0.1:<port>`. */
  mqttUrl: string;
  apiKey: string;
  tenant: string;
  /** The queue Redis, for sampling the ingest queue's depth. */
  redis: Redis;
  /** BullMQ's key prefix of the ingest queue. */
  queueKey: string;
  /** Each service's OS process id, for the CPU by component (bench/component-cpu.ts). */
  servicePids(): Record<ServiceName, number | undefined>;
  stop(): Promise<void>;
}

/**
 * A fresh `strata_bench` database beside the configured one and the four services as their own
 * processes, exactly as `pnpm start` runs them. Starting from nothing each time keeps runs comparable.
 * `profileDir`: a V8 CPU profile per service; `logDir`: each service's output (warnings and errors,
 * such as a refresher round that failed) in `<service>.log` there, otherwise kept only for failures.
 * `byteRate`: INGEST_RATE_LIMIT_BYTES_PER_SECOND for the services (unset: off, as every tenant limit);
 * `ingestLimits`: both ingest rate limits (over byteRate).
 */
export async function startBenchStack(
  config: Config,
  dirs: { profileDir?: string | undefined; logDir?: string | undefined; byteRate?: number | undefined; ingestLimits?: { eventsPerSecond: number; bytesPerSecond: number } | undefined } = {},
): Promise<BenchStack> {
  const { profileDir, logDir, byteRate, ingestLimits } = dirs;
  const limits: Record<string, string> = ingestLimits
    ? { INGEST_RATE_LIMIT_EVENTS_PER_SECOND: String(ingestLimits.eventsPerSecond), INGEST_RATE_LIMIT_BYTES_PER_SECOND: String(ingestLimits.bytesPerSecond) }
    : byteRate === undefined ? {} : { INGEST_RATE_LIMIT_BYTES_PER_SECOND: String(byteRate) };
  const logger = createLogger('bench', 'warn');
  // Config is the server to measure: DATABASE_URL, or the private server main.ts started for --embedded.
  const url = new URL(config.databaseUrl);
  url.pathname = '/strata_bench';
  const databaseUrl = url.toString();
  if (logDir) mkdirSync(logDir, { recursive: true });
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

  // MQTT is on, as `pnpm start` runs command-api, on a free port rather than the one default per machine.
  const mqttPort = await freePort();
  const services = await launchSystem({
    databaseUrl,
    redisUrl: config.redisUrl,
    cacheRedisUrl: config.cacheRedisUrl,
    redisPrefix: 'bench',
    // The series device holds 30 days of history, which the default retention would refuse at its edge.
    env: { RETENTION_DAYS: '60', MQTT_PORT: String(mqttPort), ...limits },
    // --profile: each service writes a V8 CPU profile when it exits (open it in Chrome DevTools).
    nodeArgs: (name) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []),
    // A profile is written on the way out: give every service time to finish it.
    stopTimeoutMs: 60_000,
    log: logDir ? (name) => createWriteStream(join(logDir, `${name}.log`), { flags: 'a' }) : undefined,
  });
  const { tenant, apiKey } = await createTenant(db, 'bench');
  return {
    databaseUrl,
    db,
    urls: services.urls,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    apiKey,
    tenant,
    redis,
    queueKey: `bench:${INGEST_QUEUE}`,
    servicePids: () => Object.fromEntries(Object.keys(services.urls).map((name) => [name, services.process(name as ServiceName).pid])) as Record<ServiceName, number | undefined>,
    async stop() {
      await services.stop();
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
