import t from 'tap';
import { explainPlans, planNodes, quadraticNodes, type PlanNode } from '@strata/testkit';
import { selectEventCounts } from '../src/queries/select-event-counts.ts';
import { selectSeriesBuckets } from '../src/queries/select-series-buckets.ts';
import { buildTestApp, newTenant } from './helpers.ts';

/*
 * Series and counts skip the stored buckets that hold a noted minute (`held`) and combine those
 * live. Written as NOT EXISTS over the CTE, the skip ran as a nested-loop anti join: stored rows ×
 * noted minutes ÷ 2 comparisons, 270 ms for a 1-minute series over two days with 1,440 noted minutes
 * (hostile review of decision 0095). A refresher behind by a day leaves that many. Both statements run
 * here as custom and generic plans over such a backlog and may do no rows × rows work.
 */
const MINUTES = 2_880;

t.test('series and counts over a day of noted minutes do no rows × rows work', async (t) => {
  const { deps } = await buildTestApp(t);
  const { tenant } = await newTenant(deps.pool, 'noted');
  const end = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const from = new Date(end - MINUTES * 60_000).toISOString();
  const to = new Date(end).toISOString();
  await deps.pool.query(
    `INSERT INTO rollups_1m (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
     SELECT $1, 'dev', 'v', $2::timestamptz + i * interval '1 minute', 1, 1, 1, 1, 1, $2::timestamptz + i * interval '1 minute'
       FROM generate_series(0, $3 - 1) i`,
    [tenant, from, MINUTES],
  );
  await deps.pool.query(
    `INSERT INTO event_counts_1m (tenant_id, bucket, type, count)
     SELECT $1, $2::timestamptz + i * interval '1 minute', 'reading', 1 FROM generate_series(0, $3 - 1) i`,
    [tenant, from, MINUTES],
  );
  // Every other minute noted: a refresher a day behind.
  await deps.pool.query(
    `INSERT INTO aggregate_dirty (tenant_id, bucket, first_ts, xid)
     SELECT $1, $2::timestamptz + i * interval '1 minute', now(), pg_current_xact_id() FROM generate_series(0, $3 - 1, 2) i`,
    [tenant, from, MINUTES],
  );

  for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
    const plans = await explainPlans(deps.pool, mode, async (db) => {
      await selectSeriesBuckets(db, { tenantId: tenant, device: 'dev', valueKey: 'v', interval: '1 minute', from, to });
      await selectEventCounts(db, { tenantId: tenant, interval: '1 minute', from, to, type: undefined });
    });
    for (const [name, plan] of [['series', plans[0]], ['counts', plans[1]]] as const) {
      const nodes = planNodes(plan as PlanNode);
      t.ok(nodes.some((node) => node['Relation Name']?.startsWith(name === 'series' ? 'rollups_1m' : 'event_counts_1m')), `${mode}, ${name}: the plan reads the stored minutes`);
      t.same(quadraticNodes(nodes), [], `${mode}, ${name}: no node does rows × rows work`);
    }
  }
});
