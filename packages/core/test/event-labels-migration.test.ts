import type pg from 'pg';
import t from 'tap';
import { openMigrationDatabase } from './support/migration-database.ts';

// Migration 0017 adds labels to staging and history. On a big events table that must stay a catalog
// change: no partition (nor staging, nor the notes) may be rewritten, and rows stored before it read
// as "no labels". The files are applied as node-pg-migrate applies them (each file's SQL as is).

async function storage(client: pg.Client): Promise<Map<string, string>> {
  const result = await client.query<{ relname: string; relfilenode: string }>(
    `SELECT c.relname, c.relfilenode::text FROM pg_class c
      WHERE c.relkind = 'r' AND (c.relname LIKE 'events\\_%' OR c.relname IN ('staging_events', 'aggregate_dirty'))`,
  );
  return new Map(result.rows.map((row) => [row.relname, row.relfilenode]));
}

t.test('0017 adds labels without rewriting events, its partitions, staging or the notes', async (t) => {
  const { client, files, apply } = await openMigrationDatabase(t);
  const before = files.filter((file) => file < '0017');
  const labels = files.find((file) => file.startsWith('0017_'));
  t.ok(labels, '0017 exists');
  await apply(before);
  const tenant = '00000000-0000-0000-0000-0000000000aa';
  await client.query(
    `INSERT INTO events (tenant_id, device, ts, event_key, type, "values")
     SELECT $1, 'd' || g, now() - g * interval '1 minute', 'k', 'reading', '{"v": 1}' FROM generate_series(1, 500) g`,
    [tenant],
  );
  await client.query(`INSERT INTO events (tenant_id, device, ts, event_key, type, "values") VALUES ($1, 'far', '1999-01-01', 'k', 'reading', '{}')`, [tenant]);
  await client.query(
    `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values") VALUES (gen_random_uuid(), $1, 'd', 'k', now(), 'reading', '{}')`,
    [tenant],
  );
  await client.query('INSERT INTO aggregate_dirty (tenant_id, bucket) VALUES ($1, now())', [tenant]);
  const stored = await storage(client);
  t.ok(stored.size >= 4, 'partitions, default partition, staging and notes are all looked at');

  await apply([labels as string]);
  t.same(await storage(client), stored, 'no table was rewritten');
  const rows = await client.query<{ labelled: number; events: string }>(
    `SELECT (SELECT count(*) FROM events WHERE labels IS NOT NULL)::int AS labelled, (SELECT count(*) FROM events)::text AS events`,
  );
  t.same(rows.rows[0], { labelled: 0, events: '501' }, 'rows stored before read as no labels');
  const notes = await client.query<{ labelled: boolean }>('SELECT labelled FROM aggregate_dirty');
  t.same(notes.rows, [{ labelled: false }], 'an old note is not labelled');
  const staged = await client.query<{ labels: unknown }>('SELECT labels FROM staging_events');
  t.same(staged.rows, [{ labels: null }]);
});
