import t from 'tap';
import { seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0105: the group total runs on the primary's generic-plan pool, so PostgreSQL plans it once
 * per connection instead of at every read. The pool must really force generic plans, and the total
 * must be read there (a backend of that pool ran it), with the answer the usual pool gives.
 */
const T0 = Date.UTC(2026, 10, 20, 12);
const MINUTE = 60_000;

t.test('group totals are read through the generic-plan pool', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await foldLabelSamples(deps.pool, tenant, [{ device: 'a', label: 'team', ts: T0 - MINUTE, value: 'red' }]);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'a', ts: T0 + 1000, values: { v: 5 } }]);
  t.equal((await deps.genericPool.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode, 'force_generic_plan');
  t.equal((await deps.pool.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode, 'auto', 'the usual pool lets PostgreSQL choose');

  for (let i = 0; i < 8; i++) {
    const total = await get(app, `/v1/groups/team/red/total?value=v&at=${new Date(T0 + MINUTE + i).toISOString()}`, apiKey);
    t.equal(total.body.total, 5, `read ${i}`);
  }
  const backends = await deps.pool.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata-query-api-generic' AND query LIKE '%group_totals_base%'`,
  );
  t.ok(backends.rows[0].n >= 1, 'a backend of the generic-plan pool ran the total last');
});
