import t from 'tap';
import type { Queryable } from '@strata/core';
import { explainingQueryable, planNodes, seedEvents, recentBaseTime, type PlanNode } from '@strata/testkit';
import { listDeviceStates, type ListDeviceStatesQuery } from '../src/queries/list-device-states.ts';
import { buildTestApp, newTenant } from './helpers.ts';

/*
 * A small tenant's device list must be planned for that tenant, not for an average one. With
 * plan_cache_mode=force_generic_plan on query-api's pools (tried for decision 0083), PostgreSQL planned
 * `tenant_id = $1` as table rows ÷ tenants: a parallel scan of every tenant's device_state for a
 * 6-device tenant (0.11 → 47 ms), and 16 such requests a second took a neighbour's reads from p99
 * 10 ms to 1,477 ms (hostile review). This runs the statements through query-api's own pool, as
 * prepared statements past PostgreSQL's five custom plans, and fails on a scan of device_state.
 */
const BASE = recentBaseTime();

t.test("a small tenant's device list beside a 20,000-device tenant reads its own rows by index", async (t) => {
  const { deps } = await buildTestApp(t);
  const big = await newTenant(deps.pool, 'big');
  const small = await newTenant(deps.pool, 'small');
  for (let start = 0; start < 20_000; start += 5_000) {
    const events = Array.from({ length: 5_000 }, (_, i) => ({ tenantId: big.tenant, device: `b${start + i}`, ts: BASE + i, values: { v: i } }));
    await seedEvents(deps.pool, events, { refresh: false });
  }
  await seedEvents(deps.pool, Array.from({ length: 6 }, (_, i) => ({ tenantId: small.tenant, device: `s${i}`, ts: BASE + i, values: { v: i } })), { refresh: false });
  await deps.pool.query('ANALYZE device_state');

  // The statements exactly as the list route builds them (the sort the review used among them).
  const statements: { text: string; values: unknown[] }[] = [];
  const sorts = ['sort=device', 'sort=ts&order=desc', 'sort=values.v'];
  const capture = { query: async (text: string, values: unknown[]) => (statements.push({ text, values }), { rows: [] }) } as unknown as Queryable;
  const list = (sort: ListDeviceStatesQuery['sort']): ListDeviceStatesQuery => ({ tenantId: small.tenant, sort, where: [], after: undefined, limit: 101, maxBytes: 4_194_304 });
  for (const sort of [{ kind: 'device', order: 'asc' }, { kind: 'ts', order: 'desc' }, { kind: 'value', key: 'v', order: 'asc' }] as const) {
    await listDeviceStates(capture, list(sort));
  }

  const client = await deps.pool.connect();
  t.teardown(() => client.release());
  for (const [index, statement] of statements.entries()) {
    await client.query(`PREPARE listed${index} AS ${statement.text}`);
    // EXECUTE takes literals (a utility statement has no parameters of its own).
    const args = statement.values.map((value) => (typeof value === 'number' ? String(value) : client.escapeLiteral(String(value)))).join(', ');
    // Six executions: PostgreSQL's own choice between custom and generic plans is made after five.
    for (let run = 0; run < 6; run++) await client.query(`EXECUTE listed${index}(${args})`);
    const explained = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE listed${index}(${args})`);
    const plan = JSON.stringify(explained.rows[0]['QUERY PLAN']);
    const scans = [...plan.matchAll(/"Node Type":"([^"]+)"[^{}]*?"Relation Name":"device_state"/g)].map((match) => match[1]);
    t.ok(scans.length > 0, `${sorts[index]}: reads device_state`);
    t.notOk(scans.some((scan) => scan?.includes('Seq Scan')), `${sorts[index]}: reads device_state by index (${scans.join(', ')})`);
    await client.query(`DEALLOCATE listed${index}`);
  }
});

t.test("each listed device's labels come from its own label versions, not the tenant's whole label index", async (t) => {
  // Hostile review (2026-12-01): with `value IS NOT NULL` inside the lateral lookup, the planner read
  // label_versions_current_idx (every current label of the tenant) once per listed device when the
  // table had no statistics and all-visible pages: 54 pages a device, 2 s for 10,000 devices.
  const { deps } = await buildTestApp(t);
  const { tenant } = await newTenant(deps.pool, 'labelled');
  await deps.pool.query('ALTER TABLE label_versions SET (autovacuum_enabled = false)');
  await seedEvents(deps.pool, Array.from({ length: 3_000 }, (_, i) => ({ tenantId: tenant, device: `d${i}`, ts: BASE + i, values: { v: i } })), { refresh: false });
  await deps.pool.query(
    `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
     SELECT $1, 'd' || i, l, 'v' || (i % 7), now() - interval '2 days', 'infinity', now() - interval '2 days', 'a'
       FROM generate_series(0, 2999) i CROSS JOIN unnest(ARRAY['site', 'team', 'zone']) l`,
    [tenant],
  );
  await deps.pool.query('VACUUM label_versions');
  const plans: PlanNode[] = [];
  const client = await deps.pool.connect();
  t.teardown(() => client.release());
  await client.query('BEGIN');
  await listDeviceStates(explainingQueryable(client, plans), { tenantId: tenant, sort: { kind: 'device', order: 'asc' }, where: [], after: undefined, limit: 1_000, maxBytes: 4_194_304 });
  await client.query('ROLLBACK');
  const lookups = planNodes(plans[0]!).filter((node) => node['Relation Name'] === 'label_versions' && (node['Actual Loops'] ?? 0) > 1);
  t.ok(lookups.length > 0, 'one label lookup per listed device');
  for (const lookup of lookups) {
    t.equal(lookup['Index Name'], 'label_versions_pkey', 'by primary key');
    const pages = ((lookup['Shared Hit Blocks'] ?? 0) + (lookup['Shared Read Blocks'] ?? 0)) / (lookup['Actual Loops'] ?? 1);
    t.ok(pages < 6, `${pages.toFixed(1)} pages a device`);
  }
});
