import t from 'tap';
import type { Queryable } from '@strata/core';
import { seedEvents, recentBaseTime } from '@strata/testkit';
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
