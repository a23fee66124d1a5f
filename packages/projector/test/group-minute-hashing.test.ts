import t from 'tap';
import { createLogger, createPool, type Queryable } from '@strata/core';
import { createTenant, createTestEnvironment, explainPlans, insertIntoHistory, planNodes, quadraticNodes, type PlanCacheMode, type PlanNode } from '@strata/testkit';
import { replaceGroupMinutes } from '../src/queries/replace-group-minutes.ts';
import { replaceMinuteAggregates } from '../src/queries/replace-minute-aggregates.ts';
import { withHashedAggregation } from '../src/queries/with-hashed-aggregation.ts';

/*
 * The refresher runs the group minute statement of its claimed minutes with sorting discouraged
 * (withHashedAggregation, decision 0108): its samples, a million for a busy labelled minute, are then
 * hashed for each grouping instead of sorted, 8.7 s → 3.7 s on the bench's line-protocol minute. Read
 * here: the plans the refresher gets sort no sample, as planned otherwise they do (so the fixture is
 * one the setting matters for), no node does rows × rows work; the rows written are the same either
 * way, steps (kept in time order, decision 0083) included; and the setting is put back after a failure.
 */
const DEVICES = 300;
const EVENTS_PER_DEVICE = 4;

const { config } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, createLogger('test', 'silent'));
t.teardown(() => pool.end());
const { tenant } = await createTenant(pool, 'hashing');
const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
const bucket = new Date(minute).toISOString();
// Three sites of 100 devices, labelled for days; d7 moves from s1 to s2 in the middle of the minute
// (a version that ends inside it), so a group minute holds part of a device's events.
await pool.query(
  `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
   SELECT $1::uuid, 'd' || i, 'site', 's' || (i % 3), now() - interval '2 days',
          CASE WHEN i = 7 THEN $3::timestamptz + interval '30 seconds' ELSE 'infinity' END, now() - interval '2 days', 'a'
     FROM generate_series(1, $2) i
   UNION ALL
   SELECT $1::uuid, 'd7', 'site', 's2', $3::timestamptz + interval '30 seconds', 'infinity', $3::timestamptz + interval '30 seconds', 'a'`,
  [tenant, DEVICES, bucket],
);
// Each device's events at distinct times across the minute, two numeric values and a string.
await pool.query(
  insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'd' || i AS device, 'e' || i || '-' || k AS event_key,
                            $3::timestamptz + ((i * 37 + k * 7919) % 60000) * interval '1 millisecond' AS ts, 'reading' AS type,
                            jsonb_build_object('a', i * k, 'b', 1.5 + k, 's', 'text') AS "values", NULL::jsonb AS labels
                       FROM generate_series(1, $2) i CROSS JOIN generate_series(1, ${EVENTS_PER_DEVICE}) k`),
  [tenant, DEVICES, bucket],
);
// The device minutes, as the refresher writes them before the group minutes (they name the reporters).
await replaceMinuteAggregates(pool, { tenantId: tenant, minutes: [bucket] });

/** A Sort node reading the samples CTE: what the setting exists to avoid. */
function sortsSamples(plan: PlanNode): boolean {
  return planNodes(plan).some((node) => node['Node Type'] === 'Sort' && (node.Plans ?? []).some((child) => child['CTE Name'] === 'samples'));
}

for (const mode of ['force_custom_plan', 'force_generic_plan'] as PlanCacheMode[]) {
  t.test(`${mode}: the refresher's plan hashes the samples; planned as usual, they are sorted`, async (t) => {
    const claim = (db: Queryable) => replaceGroupMinutes(db, { tenantId: tenant, minutes: [bucket] });
    // [setting on, the claim, setting back]
    const hashed = (await explainPlans(pool, mode, (db) => withHashedAggregation(db, () => claim(db))))[1] as PlanNode;
    const usual = (await explainPlans(pool, mode, claim))[0] as PlanNode;
    t.ok(sortsSamples(usual), 'the premise: without the setting the planner sorts the samples');
    t.notOk(sortsSamples(hashed), 'with it no Sort reads the samples');
    t.same(quadraticNodes(planNodes(hashed)), [], 'no node does rows × rows work');
  });
}

t.test('the rows written are the same, steps and all', async (t) => {
  // Each in a transaction rolled back, as explainPlans runs them.
  const written = async (hashed: boolean) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const claim = () => replaceGroupMinutes(client, { tenantId: tenant, minutes: [bucket] });
      await (hashed ? withHashedAggregation(client, claim) : claim());
      const rows = await client.query(
        `SELECT label, label_value, value_key, bucket, count, sum::text, min, max, last, last_ts, first_ts, devices, step_us, step_sum::text[]
           FROM group_rollups_1m WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4`,
        [tenant],
      );
      const setting = await client.query<{ enable_sort: string }>('SHOW enable_sort');
      return { rows: rows.rows, setting: setting.rows[0]?.enable_sort };
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  };
  const usual = await written(false);
  const hashed = await written(true);
  t.equal(usual.rows.length, 6, 'three sites × two numeric keys');
  t.ok(
    usual.rows.every((row) => Array.isArray(row.step_us) && row.step_us.length > 0),
    'every group minute keeps its steps (at most 1,024 distinct times)',
  );
  t.same(hashed.rows, usual.rows, 'the same rows, the steps in the same order');
  t.equal(hashed.setting, 'on', 'the setting is back as it was for the rest of the transaction');
});

t.test('the setting is put back when the statement fails, and the statement’s error is the one reported', async (t) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // A failure that leaves the transaction usable (thrown in JavaScript): put back at once.
    await t.rejects(
      withHashedAggregation(client, async () => {
        throw new Error('not the database');
      }),
      /not the database/,
    );
    t.equal((await client.query('SHOW enable_sort')).rows[0]?.enable_sort, 'on', 'on again after a thrown error');
    // A failed statement inside a savepoint the caller took: its error, not the failed restore's;
    // the rollback to the savepoint puts the setting back.
    await client.query('SAVEPOINT before_claim');
    await t.rejects(
      withHashedAggregation(client, () => client.query('SELECT 1 / 0')),
      /division by zero/,
    );
    await client.query('ROLLBACK TO SAVEPOINT before_claim');
    t.equal((await client.query('SHOW enable_sort')).rows[0]?.enable_sort, 'on', 'on again after the rollback to the savepoint');
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
