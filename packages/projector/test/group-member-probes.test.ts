import t from 'tap';
import { createPool, createLogger } from '@strata/core';
import { createTenant, createTestEnvironment, explainPlans, insertIntoHistory, planNodes, quadraticNodes, type PlanCacheMode, type PlanNode } from '@strata/testkit';
import { advanceGroupHeads } from '../src/queries/advance-group-heads.ts';
import { replaceGroupMinutes } from '../src/queries/replace-group-minutes.ts';

/*
 * The group minute statements (heads and claims, group-minute-sql.ts memberSamples) look up each
 * reporting device's label versions by the primary key (tenant, device, …): one short range a
 * device. The bench once found the heads statement reading label_versions_group_idx instead, a partial
 * index led by (tenant, label, value) that covers every column the probe needs: each of 10,000 active
 * devices then read all of the tenant's entries (730,000 buffers, 1.4 s a round of the shared refresher,
 * every 2 s). The planner takes it on tables it has no statistics for (this machine's server runs with
 * autovacuum off) whose pages are all visible (ops vacuums them), with the generic plan the named
 * statements get after five runs; so the plans are read here that way, on such a tenant: many more
 * reporting devices than labelled ones.
 */
const LABELLED = 2_000;
const REPORTING = 10_000;
const PARTIAL_INDEXES = ['label_versions_group_idx', 'label_versions_current_idx'];

t.test('group minute statements probe each reporting device’s label versions by primary key', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const { tenant } = await createTenant(pool, 'probes');
  // No statistics, as on a server with autovacuum off: an autoanalyze after the inserts below would
  // let even the old statements find the primary key, and the test would then prove nothing.
  await pool.query('ALTER TABLE label_versions SET (autovacuum_enabled = false)');
  await pool.query('ALTER TABLE device_state SET (autovacuum_enabled = false)');
  const now = Date.now();
  const minute = Math.floor(now / 60_000) * 60_000 - 60_000;
  // Fixtures written as the projector would have left them: REPORTING devices that sent in the last
  // minute (their state and one event each), LABELLED of them labelled, three label versions each.
  await pool.query(
    `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
     SELECT $1, 'd' || i, l, 'v' || (i % 7), now() - interval '2 days', 'infinity', now() - interval '2 days', 'a'
       FROM generate_series(1, $2) i CROSS JOIN unnest(ARRAY['site', 'team', 'zone']) l`,
    [tenant, LABELLED],
  );
  await pool.query(
    `INSERT INTO device_state (tenant_id, device, ts, state, "values")
     SELECT $1, 'd' || i, $3::timestamptz + interval '30 seconds', '{}', '{"v": 1}' FROM generate_series(1, $2) i`,
    [tenant, REPORTING, new Date(minute).toISOString()],
  );
  await pool.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'd' || i AS device, 'e' || i AS event_key, $3::timestamptz + interval '30 seconds' AS ts,
                              'reading' AS type, '{"v": 1}'::jsonb AS "values", NULL::jsonb AS labels FROM generate_series(1, $2) i`),
    [tenant, REPORTING, new Date(minute).toISOString()],
  );
  await pool.query(
    `INSERT INTO rollups_1m (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
     SELECT $1, 'd' || i, 'v', $3::timestamptz, 1, 1, 1, 1, 1, $3::timestamptz + interval '30 seconds' FROM generate_series(1, $2) i`,
    [tenant, REPORTING, new Date(minute).toISOString()],
  );
  await pool.query(`INSERT INTO aggregate_dirty (tenant_id, bucket, first_ts, xid) VALUES ($1, $2, $3, pg_current_xact_id())`, [
    tenant,
    new Date(minute).toISOString(),
    new Date(minute + 30_000).toISOString(),
  ]);

  // As ops' churned-table vacuum leaves them (decision 0089): all-visible pages make a covering
  // index-only scan look cheap to the planner, which is when it took the wrong index.
  await pool.query('VACUUM label_versions, device_state');

  // The minute as the open one of the heads (the clock 40 s into it), then as a claimed minute.
  const explain = (mode: PlanCacheMode): Promise<PlanNode[]> =>
    explainPlans(pool, mode, async (db) => {
      await advanceGroupHeads(db, { tenantId: tenant, now: minute + 40_000, lagMs: 500 });
      await replaceGroupMinutes(db, { tenantId: tenant, minutes: [new Date(minute).toISOString()] });
    });
  const plans = await explain('force_generic_plan');
  // Custom plans too (a named statement's first five runs): the claimed minute lies past rollups_1m's
  // statistics, so the planner takes its reporting devices for one and once joined the members' values
  // to their versions as a nested loop, 3 × devices² comparisons (decision 0095's hostile review).
  const custom = await explain('force_custom_plan');
  for (const [name, plan] of [['heads', plans[0]!], ['claim', plans[1]!], ['heads, custom plan', custom[0]!], ['claim, custom plan', custom[1]!]] as const) {
    t.same(quadraticNodes(planNodes(plan)), [], `${name}: no node does rows × rows work`);
  }

  for (const [name, plan] of [['heads', plans[0]!], ['claim', plans[1]!]] as const) {
    const probes = planNodes(plan).filter((node) => node['Relation Name'] === 'label_versions' && (node['Actual Loops'] ?? 0) > 1);
    t.ok(probes.length > 0, `${name}: the plan probes label_versions once per reporting device`);
    for (const probe of probes) {
      t.notOk(PARTIAL_INDEXES.includes(probe['Index Name'] ?? ''), `${name}: the probe does not read ${probe['Index Name']}`);
      const blocks = (probe['Shared Hit Blocks'] ?? 0) + (probe['Shared Read Blocks'] ?? 0);
      t.ok(blocks / (probe['Actual Loops'] ?? 1) < 6, `${name}: ${(blocks / (probe['Actual Loops'] ?? 1)).toFixed(1)} pages a probe (one primary-key range)`);
    }
  }
});
