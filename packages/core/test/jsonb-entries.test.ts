import t from 'tap';
import { createTestEnvironment } from '@strata/testkit';
import { createLogger, createPool, jsonbEntries } from '../src/index.ts';

t.test('jsonbEntries gives exactly what jsonb_each gives, in the same order, for awkward objects', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'jsonb-entries-test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const objects = [
    {},
    { v: 1 },
    { temp: 21.5, hr: 130, status: 'ok', on: true, off: null },
    { '': 0, ' ': 1, 'a"b': 2, 'back\\slash': 3, 'é': 4, '温度': 5, '🙂': 6, __proto__x: 7 },
    JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, number>,
    { nested: { a: [1, 2, { b: 'c' }] }, list: [1e300, -0, 0.1], big: 12345678901234567890 },
    Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])),
  ];
  for (const object of objects) {
    const text = JSON.stringify(object);
    const { rows } = await pool.query<{ each: unknown; entries: unknown }>(
      `SELECT (SELECT coalesce(json_agg(json_build_array(key, value)), '[]') FROM jsonb_each($1::jsonb)) AS each,
              (SELECT coalesce(json_agg(json_build_array(key, value)), '[]') FROM ${jsonbEntries('$1::jsonb')} x) AS entries`,
      [text],
    );
    t.same(rows[0]?.entries, rows[0]?.each, `${text.slice(0, 60)}: same keys, values and order`);
  }
  // Beside a table's rows, in a lateral join: the form the aggregate statements use.
  const { rows } = await pool.query<{ n: number; same: boolean }>(
    `WITH e(id, "values") AS (SELECT i, jsonb_build_object('a', i, 'b', i::text, 'c', i % 3 = 0) FROM generate_series(1, 500) i)
     SELECT (SELECT count(*) FROM e CROSS JOIN LATERAL ${jsonbEntries('e."values"')} k)::int AS n,
            NOT EXISTS ((SELECT e.id, k.key, k.value FROM e CROSS JOIN LATERAL jsonb_each(e."values") k)
                        EXCEPT ALL
                        (SELECT e.id, k.key, k.value FROM e CROSS JOIN LATERAL ${jsonbEntries('e."values"')} k)) AS same`,
  );
  t.same(rows[0], { n: 1500, same: true }, 'every row: the same entries');

  // Wide objects stored compressed (or out of line) in a table, and NULL: the same entries as well.
  await pool.query(`CREATE TEMP TABLE wide (id int, "values" jsonb)`);
  await pool.query(
    `INSERT INTO wide SELECT i, CASE WHEN i = 0 THEN NULL
                                     ELSE (SELECT jsonb_object_agg('key_' || k, CASE WHEN k = 7 THEN to_jsonb(repeat('a', 60000)) ELSE to_jsonb(k * i / 7.0) END)
                                             FROM generate_series(1, 200) k) END
       FROM generate_series(0, 20) i`,
  );
  const stored = await pool.query<{ compressed: number }>(`SELECT count(*)::int AS compressed FROM wide WHERE pg_column_compression("values") IS NOT NULL`);
  t.equal(stored.rows[0]?.compressed, 20, 'the wide objects are stored compressed');
  const wide = await pool.query<{ n: number; same: boolean }>(
    `SELECT (SELECT count(*) FROM wide w CROSS JOIN LATERAL ${jsonbEntries('w."values"')} k)::int AS n,
            NOT EXISTS ((SELECT w.id, k.key, k.value FROM wide w CROSS JOIN LATERAL jsonb_each(w."values") k)
                        EXCEPT ALL
                        (SELECT w.id, k.key, k.value FROM wide w CROSS JOIN LATERAL ${jsonbEntries('w."values"')} k)) AS same`,
  );
  t.same(wide.rows[0], { n: 4000, same: true }, 'compressed wide objects: the same entries; NULL: none');
});
