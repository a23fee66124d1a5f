import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Teardownable } from '@strata/testkit';

const MIGRATIONS = fileURLToPath(new URL('../../../../migrations', import.meta.url));
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface MigrationDatabase {
  client: pg.Client;
  /** The migration files, in the order node-pg-migrate applies them. */
  files: string[];
  /** Applies `files` as node-pg-migrate does: each file's SQL as is. */
  apply(files: string[]): Promise<void>;
}

/**
 * An empty scratch database, dropped when `t` ends, for tests that apply the migrations up to one and
 * then that one over data written in the earlier schema.
 */
export async function openMigrationDatabase(t: Teardownable): Promise<MigrationDatabase> {
  const name = `strata_test_migration_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  t.teardown(() => client.end());
  const files = (await readdir(MIGRATIONS)).filter((file) => file.endsWith('.sql')).sort();
  const apply = async (chosen: string[]): Promise<void> => {
    for (const file of chosen) await client.query(await readFile(`${MIGRATIONS}/${file}`, 'utf8'));
  };
  return { client, files, apply };
}
