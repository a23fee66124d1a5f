import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createLogger, loadConfig, type Config, type Logger } from '@strata/core';
import { runMigrations } from '@strata/ops/run-migrations';
import { deleteKeysWithPrefix } from './delete-keys-with-prefix.ts';
import { createMigratedDatabase } from './migrated-template.ts';

/** The part of a tap test this helper needs; keeps the testkit free of a dependency on tap. */
export interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface TestEnvironment {
  config: Config;
  logger: Logger;
}

/**
 * A private world for one test file on the real local servers: a fresh migrated database (a clone of
 * the migrated template, createMigratedDatabase) and a Redis prefix of its own, both removed at teardown.
 * Tests use the default local URLs (the ones `.ci/run` makes sure are up), overridden only by what the
 * test passes in.
 */
export async function createTestEnvironment(
  t: Teardownable,
  overrides: Partial<Config> = {},
): Promise<TestEnvironment> {
  const base = loadConfig({});
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const adminUrl = new URL(overrides.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  adminUrl.pathname = '/postgres';
  const databaseName = `strata_test_${suffix}`;
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;

  const logger = createLogger('test', 'silent');
  await createMigratedDatabase(adminUrl.toString(), databaseName, logger);
  t.teardown(async () => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    // pg-pool's end() resolves once it has asked its clients to close, not once they have. A backend
    // that DROP … WITH (FORCE) terminates first sends its client "terminating connection due to
    // administrator command", an error event the ended pool no longer listens for: it failed whichever
    // test file it hit (packages/core/test/fold-label-samples.test.ts, twice in a row on a loaded CI
    // run). So the sessions a test's pools are closing get up to 2 s to leave; FORCE takes the rest.
    for (let waited = 0; waited < 2000; waited += 50) {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [databaseName]);
      if (rows[0]?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await client.end();
  });

  const config: Config = {
    ...base,
    redisUrl: 'redis://127.0.0.1:6379',
    cacheRedisUrl: 'redis://127.0.0.1:6379',
    logLevel: 'silent',
    // Tests send bursts far above a real tenant's rate; the limits are on by default in production and
    // each test that checks one sets it explicitly.
    ingestRateLimitEventsPerSecond: 0,
    ingestRateLimitBytesPerSecond: 0,
    readRateLimitPerSecond: 0,
    authFailuresPerMinute: 0,
    // Off unless a test asks for it with a port of its own: the default 1884 would be shared by every file.
    mqttPort: 0,
    ...overrides,
    databaseUrl: databaseUrl.toString(),
    redisPrefix: `test_${suffix}`,
    commandApiPort: 0,
    queryApiPort: 0,
    opsPort: 0,
    projectorMetricsPort: 0,
    // loadConfig refuses AGGREGATE_RETENTION_DAYS below RETENTION_DAYS; a test that widens the raw
    // window (old event times) gets aggregates kept at least as long, as a valid configuration would.
    aggregateRetentionDays: Math.max(overrides.aggregateRetentionDays ?? base.aggregateRetentionDays, overrides.retentionDays ?? base.retentionDays),
  };
  // Already migrated (the template); this finds nothing to apply, and keeps the test honest if it did.
  await runMigrations(config.databaseUrl, logger);
  t.teardown(() => deleteRedisPrefix(config.redisUrl, config.redisPrefix));
  return { config, logger };
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysWithPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
