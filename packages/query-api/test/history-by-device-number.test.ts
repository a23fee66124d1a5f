import t from 'tap';
import { explainingQueryable, insertIntoHistory, planNodes, recentBaseTime, type PlanNode } from '@strata/testkit';
import { selectDeviceEvents } from '../src/queries/select-device-events.ts';
import { buildTestApp, newTenant } from './helpers.ts';

/*
 * History is keyed by device number (decision 0092). A read that wants a device's first or last
 * rows must take the number as a constant (looked up once), so that each day's primary key yields the
 * rows in time order and the LIMIT ends the scan. Joined through the view tenant_events, the planner
 * sorted every row of the window first: a page of 10 events of a 1,000,000-event device read all
 * of them. These run the statements as generic plans (what a prepared statement gets after five
 * runs) and fail on a Sort or on reading more rows than the page.
 */
const BASE = recentBaseTime();
const EVENTS = 20_000;

t.test("a device's newest page and the label fold's nearest sample read only the rows they return", async (t) => {
  const { deps } = await buildTestApp(t);
  const { tenant } = await newTenant(deps.pool, 'paged');
  const other = await newTenant(deps.pool, 'other');
  // One busy device over five and a half hours (a second apart); the same device name in another tenant; a neighbour device.
  await deps.pool.query(
    insertIntoHistory(`SELECT t AS tenant_id, d AS device, to_timestamp(($3::float8 - i * 1000) / 1000) AS ts, 'i:' || i AS event_key,
                              'reading' AS type, jsonb_build_object('v', i) AS "values",
                              CASE WHEN i % 100 = 0 THEN '{"room":"a"}'::jsonb END AS labels
                         FROM unnest(ARRAY[$1::uuid, $2::uuid]) t, unnest(ARRAY['busy', 'near']) d, generate_series(0, ${EVENTS - 1}) i`),
    [tenant, other.tenant, BASE],
  );

  const client = await deps.pool.connect();
  t.teardown(() => client.release());
  await client.query('BEGIN');
  t.teardown(() => client.query('ROLLBACK'));
  await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
  const plans: PlanNode[] = [];
  await selectDeviceEvents(explainingQueryable(client, plans), {
    tenantId: tenant, device: 'busy', from: '-infinity', to: 'infinity', type: undefined, before: undefined, limit: 10, maxBytes: 1_000_000,
  });
  const page = planNodes(plans[0] as PlanNode);
  t.notOk(page.some((node) => node['Node Type'] === 'Sort'), 'the page is not sorted: it comes in key order');
  const read = page.filter((node) => node['Relation Name']?.startsWith('events')).reduce((sum, node) => sum + Number((node as { 'Actual Rows'?: number })['Actual Rows'] ?? 0), 0);
  t.ok(read <= 10 * 4, `history rows read for a page of 10: ${read} (of ${EVENTS})`);

  // The fold's nearest sample of a value after an instant: the first labelled row, found at once.
  // SQL functions with a sub-select are not inlined, so the plan shows only the call; its buffers
  // count the function's reads.
  // Called once first: the first call of a session plans the function's statement, reading the catalogs.
  await client.query(`SELECT label_sample_after($1, 'busy', 'room', 'a', '-infinity', 'infinity', NULL)`, [tenant]);
  const explained = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT label_sample_after($1, 'busy', 'room', 'a', '-infinity', 'infinity', NULL)`,
    [tenant],
  );
  const call = explained.rows[0]!['QUERY PLAN'][0].Plan;
  // Buffer accesses, one per row visited: the first labelled row is 100 rows from the oldest; a
  // sorted range would visit all 20,000.
  const accesses = Number(call['Shared Hit Blocks'] ?? 0) + Number(call['Shared Read Blocks'] ?? 0);
  t.ok(accesses < EVENTS / 10, `the nearest sample takes ${accesses} buffer accesses for a device of ${EVENTS} rows`);
  const sample = await client.query<{ at: string }>(`SELECT label_sample_after($1, 'busy', 'room', 'a', '-infinity', 'infinity', NULL) AS at`, [tenant]);
  t.equal(new Date(sample.rows[0]?.at ?? 0).getTime(), BASE - (EVENTS - 100) * 1000, 'the oldest labelled row of the device');
  const wrong = await client.query<{ at: string | null }>(`SELECT label_sample_after($1, 'nobody', 'room', 'a', '-infinity', 'infinity', NULL) AS at`, [tenant]);
  t.equal(wrong.rows[0]?.at, null, 'an unknown device has no sample');
});
