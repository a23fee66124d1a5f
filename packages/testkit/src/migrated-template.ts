import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '@strata/core';
import { MIGRATIONS_DIR, runMigrations } from '@strata/ops/run-migrations';

/** Taken while a template is looked up or built, so that one process builds it and the others wait. */
const TEMPLATE_LOCK = 60_100;
const PREFIX = 'strata_test_template_';

/** Per server (admin URL): a test may start a PostgreSQL of its own (the replica clusters do). */
const cached = new Map<string, Promise<string>>();

/**
 * A database with every migration applied, for test databases to be created from
 * (`CREATE DATABASE … TEMPLATE`): cloning it costs a fraction of creating a database and migrating it,
 * which every test file did (~0.2 s of CPU each, ~145 files). Named by a hash of `migrations/`, so a
 * changed or added migration gets a template of its own, built once by the first test file that needs
 * it (under an advisory lock: concurrent files wait for it) and kept for the next runs; templates of
 * other migrations are dropped then. Nobody connects to a template after it is built, which
 * `CREATE DATABASE … TEMPLATE` requires.
 */
function migratedTemplate(adminUrl: string, logger: Logger): Promise<string> {
  let template = cached.get(adminUrl);
  if (template === undefined) {
    template = findOrBuild(adminUrl, logger);
    cached.set(adminUrl, template);
    template.catch(() => cached.delete(adminUrl));
  }
  return template;
}

/**
 * Creates `databaseName` as a clone of the migrated template. A run over other migrations (another
 * checkout) drops this run's template when it builds its own: the clone then finds none (3D000) and
 * builds it again, at most twice.
 */
export async function createMigratedDatabase(adminUrl: string, databaseName: string, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const template = await migratedTemplate(adminUrl, logger);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${databaseName} TEMPLATE ${template}`);
      await ensureTodaysPartitions(adminUrl, databaseName);
      return;
    } catch (error) {
      if (attempt >= 3 || (error as { code?: string }).code !== '3D000') throw error;
      cached.delete(adminUrl);
    } finally {
      await admin.end();
    }
  }
}

/**
 * The template keeps the history partitions of the day it was built (migration 0003 makes yesterday
 * to +7), and lives on for later runs: a clone made on a later day, or a run that crosses midnight
 * UTC, would lack the newest days that ops' health and premake expect (seen 2026-12-04 00:00). Each
 * clone gets today's window, as a database migrated today has.
 */
async function ensureTodaysPartitions(adminUrl: string, databaseName: string): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  const clone = new pg.Client({ connectionString: url.toString() });
  await clone.connect();
  try {
    await clone.query("SELECT ensure_event_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9)");
  } finally {
    await clone.end();
  }
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(MIGRATIONS_DIR)).sort()) {
    hash.update(name).update('\0').update(await readFile(join(MIGRATIONS_DIR, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function findOrBuild(adminUrl: string, logger: Logger): Promise<string> {
  const name = `${PREFIX}${await migrationsHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${PREFIX}%`]);
    if (rows.some((row) => row.datname === name)) return name;
    // Built under another name and renamed when complete: a crash mid-build leaves no template that looks whole.
    const building = `${name}_building`;
    await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${building}`);
    const url = new URL(adminUrl);
    url.pathname = `/${building}`;
    await runMigrations(url.toString(), logger);
    await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    for (const row of rows) if (row.datname !== building) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => undefined);
    await admin.end();
  }
}
