import type pg from 'pg';
import t from 'tap';
import { openMigrationDatabase } from './support/migration-database.ts';

// Migration 0024 moves history to rows keyed by a device number. On a database with history it must
// keep every row as it was (seen through the view, by tenant and device, including two tenants'
// devices of the same name and rows in the DEFAULT partition), keep the day partitions' names and
// bounds (ops finds them by name), and leave nothing of the old table behind. The files are applied
// as node-pg-migrate applies them (each file's SQL as is).

const ROWS = `SELECT tenant_id::text, device, ts, event_key, type, "values"::text, labels::text FROM %s ORDER BY 1, 2, 3, 4`;

async function partitions(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ part: string }>(
    `SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) AS part
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1`,
  );
  return result.rows.map((row) => row.part);
}

t.test('0024 numbers devices and keeps every row of history, its partitions and its names', async (t) => {
  const { client, files, apply } = await openMigrationDatabase(t);
  const numbers = files.find((file) => file.startsWith('0024_'));
  t.ok(numbers, '0024 exists');
  await apply(files.filter((file) => file < '0024'));
  const [alice, bob] = ['00000000-0000-0000-0000-0000000000aa', '00000000-0000-0000-0000-0000000000bb'];
  // Both tenants have devices d0..d6; rows an hour apart reach back past the premade partitions
  // into DEFAULT; one row has labels, one a quoted device name.
  await client.query(
    `INSERT INTO events (tenant_id, device, ts, event_key, type, "values", labels)
     SELECT t, 'd' || (g % 7), now() - g * interval '1 hour', 'k' || g, 'reading', jsonb_build_object('v', g),
            CASE WHEN g = 3 THEN '{"room":"a"}'::jsonb END
       FROM unnest(ARRAY[$1::uuid, $2::uuid]) t, generate_series(1, 60) g`,
    [alice, bob],
  );
  await client.query(`INSERT INTO events (tenant_id, device, ts, event_key, type, "values") VALUES ($1, 'it''s "far"', '1999-01-01', 'k', 'door', '{}')`, [alice]);
  const before = (await client.query(ROWS.replace('%s', 'events'))).rows;
  const parts = await partitions(client);
  t.equal(before.length, 121);
  t.ok(parts.some((part) => part.startsWith('events_default ')) && parts.length > 2, 'day partitions and DEFAULT');

  await apply([numbers as string]);
  t.same((await client.query(ROWS.replace('%s', 'tenant_events'))).rows, before, 'every row, as it was, through the view');
  t.same(await partitions(client), parts, 'the same partitions under the same names and bounds');
  const devices = await client.query<{ n: number; numbers: number }>('SELECT count(*)::int AS n, count(DISTINCT device_no)::int AS numbers FROM devices');
  t.same(devices.rows[0], { n: 15, numbers: 15 }, 'one number per (tenant, device): 7 + 7 + 1');
  const types = await client.query<{ defaulted: number; other: string[] }>(
    `SELECT count(*) FILTER (WHERE type IS NULL)::int AS defaulted, array_agg(type) FILTER (WHERE type IS NOT NULL) AS other FROM events`,
  );
  t.same(types.rows[0], { defaulted: 120, other: ['door'] }, 'the default type is stored as NULL, any other as itself');
  const leftovers = await client.query(`SELECT relname FROM pg_class WHERE relname LIKE '%\\_0023%'`);
  t.same(leftovers.rows, [], 'nothing of the old table is left');
  const columns = await client.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  t.same(columns.rows.map((row) => row.attname), ['ts', 'device_no', 'event_key', 'type', 'values', 'labels']);
  const key = await client.query<{ def: string }>(`SELECT pg_get_indexdef('events_pkey'::regclass) AS def`);
  t.match(key.rows[0]?.def, /\(device_no, ts, event_key\)$/, 'the narrow unique key');

  // The history a later release writes through the same partitions: a new day is premade by name.
  await client.query('SELECT ensure_event_partitions((now() AT TIME ZONE \'UTC\')::date + 20, 1)');
  t.equal((await partitions(client)).length, parts.length + 1, 'partitions are still premade');
});
