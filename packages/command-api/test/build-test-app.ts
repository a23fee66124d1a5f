import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { INGEST_QUEUE, createPool, type Config, type IngestJobData } from '@strata/core';
import { createTenant, createTestEnvironment, type Teardownable } from '@strata/testkit';
import { closeCommandDeps, createCommandDeps } from '../src/deps.ts';
import { startCommandApi } from '../src/service.ts';

export interface CommandTestContext {
  app: FastifyInstance;
  config: Config;
  db: pg.Pool;
  queue: Queue<IngestJobData>;
  tenant: { tenant: string; apiKey: string };
}

/** The real command API on a private database and Redis prefix, plus handles to inspect both stores. */
export async function buildTestApp(t: Teardownable, overrides: Partial<Config> = {}): Promise<CommandTestContext> {
  // The fixtures date from 2025 and 2026; a retention of a century keeps them inside the window
  // whatever day the tests run. The retention test sets its own.
  const { config, logger } = await createTestEnvironment(t, { retentionDays: 36500, ...overrides });
  const deps = createCommandDeps(config, { logger });
  const { app, stop } = await startCommandApi(deps);
  t.teardown(async () => {
    await stop();
    await closeCommandDeps(deps);
  });
  const db = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, logger);
  t.teardown(() => db.end());
  const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
  t.teardown(() => queue.close());
  const tenant = await createTenant(db, 'test tenant');
  return { app, config, db, queue, tenant };
}

export async function countStaged(db: pg.Pool): Promise<number> {
  const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events');
  return result.rows[0]?.n ?? 0;
}

/**
 * Holds an ACCESS EXCLUSIVE lock on `table` until the returned client rolls back: statements on it
 * wait as they would behind a stalled or overloaded server (staging writes; first sightings of a
 * device, which the key registry seeds from device_state).
 */
export async function lockTable(t: Teardownable, ctx: Pick<CommandTestContext, 'config'>, table: 'staging_events' | 'device_state'): Promise<pg.Client> {
  const locker = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return locker;
}
