import t from 'tap';
import type { Pool, PoolClient } from 'pg';
import { createPool, createLogger } from '@strata/core';
import { createTenant, createTestEnvironment, explainingQueryable, insertIntoHistory, planNodes, stageEvents, type PlanNode, type Teardownable } from '@strata/testkit';
import { projectStagedDrain } from '../src/queries/project-batch.ts';
import { replaceMinuteAggregates } from '../src/queries/replace-minute-aggregates.ts';

/*
 * The drain statement joins its CTEs, whose sizes the planner guesses from staging's statistics: a
 * handful of rows when staging has none (autovacuum off, or a table truncated and refilled faster
 * than autoanalyze). A join it plans as a nested loop then costs rows × rows: per_device joined the
 * new rows to a grouped copy of themselves that way, 714 ms of an 854 ms drain of 2,500 events
 * (2026-12-01). Here a drain of 2,500 events over 2,500 devices runs as a generic plan (a named
 * statement after five runs) under EXPLAIN ANALYZE, and no node may run once per row of another.
 */
const EVENTS = 2_500;

/** A pool on a fresh test database with one tenant. */
async function tenantPool(t: Teardownable, name: string): Promise<{ pool: Pool; tenant: string }> {
  const { config } = await createTestEnvironment(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  return { pool, tenant: (await createTenant(pool, name)).tenant };
}

/** A client in a transaction rolled back at the end, planning named statements generically. */
async function explainingClient(t: Teardownable, pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  t.teardown(() => client.release());
  await client.query('BEGIN');
  t.teardown(() => client.query('ROLLBACK'));
  await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
  return client;
}

/** Scans of a CTE run once per row of another: a join of CTEs planned as a nested loop. */
function repeatedCteScans(nodes: PlanNode[]): string[] {
  return nodes.filter((node) => (node['Actual Loops'] ?? 0) > 100 && node['Node Type'] === 'CTE Scan').map((node) => `${node['Node Type']} × ${node['Actual Loops']}`);
}

t.test('a drain of 2,500 events runs no node once per row of another', async (t) => {
  const { pool, tenant } = await tenantPool(t, 'drain');
  await pool.query('ALTER TABLE staging_events SET (autovacuum_enabled = false)');
  const now = Date.now();
  const batches: { batchId: string; events: never[] }[] = [];
  for (let b = 0; b < 5; b++) {
    const events = Array.from({ length: EVENTS / 5 }, (_, i) => ({ tenantId: tenant, device: `d${b * 500 + i}`, id: `e${b}-${i}`, ts: now + i, values: { v: i, w: 'ok' } }));
    batches.push({ batchId: await stageEvents(pool, events), events: new Array(EVENTS / 5) as never[] });
  }
  const client = await explainingClient(t, pool);
  const plans: PlanNode[] = [];
  // The explaining client returns no rows, so reading the drain's result throws: only the plan counts.
  await projectStagedDrain(explainingQueryable(client, plans), batches).catch(() => undefined);
  t.equal(plans.length, 1, 'the drain was explained');
  const nodes = planNodes(plans[0] as PlanNode);
  const staged = nodes.find((node) => node['Node Type'] === 'ModifyTable' && node['Relation Name'] === 'events');
  t.ok(staged, 'the drain inserted history');
  t.same(repeatedCteScans(nodes), [], 'no CTE is scanned once per row of another');
});

t.test('a claim of a busy minute runs no node once per row of another', async (t) => {
  // The minute statement's CTEs are sized from history's estimate, tiny for a table without
  // statistics: a join of the written minutes with the new ones ran as a nested loop over a CTE
  // scan, 54 s for a busy minute's 20,000 keys in the bench (auto_explain, 2026-12-01 06:03).
  const { pool, tenant } = await tenantPool(t, 'claim');
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  await pool.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'd' || i AS device, $2::timestamptz + (i % 60) * interval '1 second' AS ts, 'e' || i AS event_key,
                              'reading' AS type, jsonb_build_object('v', i, 'w', i % 7) AS "values", NULL::jsonb AS labels
                         FROM generate_series(1, $3) i`),
    [tenant, new Date(minute).toISOString(), EVENTS],
  );
  const client = await explainingClient(t, pool);
  const plans: PlanNode[] = [];
  await replaceMinuteAggregates(explainingQueryable(client, plans), { tenantId: tenant, minutes: [new Date(minute).toISOString()] });
  const nodes = planNodes(plans[0] as PlanNode);
  t.ok(nodes.some((node) => node['Node Type'] === 'ModifyTable' && node['Relation Name'] === 'rollups_1m'), 'the claim wrote minutes');
  t.same(repeatedCteScans(nodes), [], 'no CTE is scanned once per row of another');
});
