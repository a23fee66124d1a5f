import t from 'tap';
import pg from 'pg';
import { createLogger } from '@strata/core';
import { runMigrations } from '@strata/ops/run-migrations';
import { createMigratedDatabase } from '../src/migrated-template.ts';

// Decision 0102: a test database is a clone of a migrated template. The clone holds every migration
// (the runner finds nothing to apply), and a template another run dropped is built again.
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger('test', 'silent');

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

t.test('a clone holds every migration, and a dropped template is built again', async (t) => {
  const names = [`strata_test_clone_${process.pid}_a`, `strata_test_clone_${process.pid}_b`];
  t.teardown(() => admin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }));
  const url = (name: string): string => ADMIN.replace(/\/postgres$/, `/${name}`);

  await createMigratedDatabase(ADMIN, names[0]!, logger);
  t.same(await runMigrations(url(names[0]!), logger), [], 'the clone needs no migration');
  const { rows } = await admin((client) => client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'strata_test_template_%' AND datname NOT LIKE '%_building'`));
  t.equal(rows[0]!.n, 1, 'one template on the server');

  // Another run over other migrations drops this run's template; the next clone builds it again.
  await admin(async (client) => {
    const { rows: templates } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'strata_test_template_%' AND datname NOT LIKE '%_building'`,
    );
    for (const { datname } of templates) await client.query(`DROP DATABASE ${datname} WITH (FORCE)`);
  });
  await createMigratedDatabase(ADMIN, names[1]!, logger);
  t.same(await runMigrations(url(names[1]!), logger), [], 'the clone of the rebuilt template needs no migration');
});
