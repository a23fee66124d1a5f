import t from 'tap';
import { explainPlans, planNodes, type PlanNode } from '@strata/testkit';
import { selectDeviceLabelNames } from '../src/queries/select-device-label-names.ts';
import { selectDeviceValueKeys } from '../src/queries/select-device-value-keys.ts';
import { buildTestApp } from './build-test-app.ts';

/*
 * A device's first request reads what it already holds (its value keys from device_state, its labels
 * from label_versions) to seed the per-device registries. Named, each statement kept the generic plan
 * a connection made at its sixth run, on a new deployment's empty tables: the bench's first 10,000
 * devices read 3.3 million rows of device_state through a hashed sequential scan. Both are unnamed
 * now, planned at every run, and must probe their table by key once per pair in both states an empty
 * table has: never analysed (a new database) and counted empty by ops' churned-table vacuum, then
 * grown with no vacuum since (the hostile review found the LATERAL form's generic plan scanned the
 * table once per pair there).
 */
function keyProbesOnly(t: Asserts, plan: PlanNode | undefined, table: string, name: string): void {
  const reads = planNodes(plan as PlanNode).filter((node) => node['Relation Name'] === table);
  t.ok(reads.length > 0, `${name}: the plan reads ${table}`);
  t.same(reads.map((node) => node['Node Type']).filter((type) => type !== 'Index Scan' && type !== 'Index Only Scan'), [], `${name}: ${table} is only probed by its index`);
}
interface Asserts {
  ok(value: unknown, message: string): void;
  same(found: unknown, wanted: unknown, message: string): void;
}

t.test('the registry seeds are planned at every run and probe by key, whatever the tables were counted as', async (t) => {
  const { db, tenant } = await buildTestApp(t);
  const devices = Array.from({ length: 20 }, (_, i) => `d${i}`);
  const tenants = devices.map(() => tenant.tenant);
  const named: (string | undefined)[] = [];
  const recording = { query: (config: { name?: string }) => (named.push(config.name), { rows: [] }) } as never;
  await selectDeviceValueKeys(recording, tenants, devices);
  await selectDeviceLabelNames(recording, tenants, devices);
  t.same(named, [undefined, undefined], 'neither statement is named (no plan is kept between runs)');

  const reads = [
    ['value keys', (q: Parameters<typeof selectDeviceValueKeys>[0]) => selectDeviceValueKeys(q, tenants, devices), 'device_state'],
    ['label names', (q: Parameters<typeof selectDeviceLabelNames>[0]) => selectDeviceLabelNames(q, tenants, devices), 'label_versions'],
  ] as const;
  for (const [name, read, table] of reads) keyProbesOnly(t, (await explainPlans(db, 'force_custom_plan', read))[0], table, `${name}, never analysed`);

  // As ops' churned-table vacuum leaves them on a new deployment: counted empty, then grown.
  await db.query('VACUUM (TRUNCATE false) device_state, label_versions');
  await db.query(
    `INSERT INTO device_state (tenant_id, device, ts, state) SELECT $1, 'g' || i, now(), '{"v": {"v": 1}}' FROM generate_series(1, 10000) i`,
    [tenant.tenant],
  );
  await db.query(
    `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
     SELECT $1, 'g' || i, 'site', 's' || i, now(), 'infinity', now(), 'a' FROM generate_series(1, 10000) i`,
    [tenant.tenant],
  );
  for (const [name, read, table] of reads) keyProbesOnly(t, (await explainPlans(db, 'force_custom_plan', read))[0], table, `${name}, counted empty, then grown`);
});

t.test('a seed answers each pair by position, absent devices holding nothing', async (t) => {
  const { db, tenant } = await buildTestApp(t);
  await db.query(
    `INSERT INTO device_state (tenant_id, device, ts, state) VALUES
       ($1, 'b', now(), '{"t": {"v": 1}, "h": {"v": 2}}'), ($1, 'a', now(), '{"x": {"v": 3}}')`,
    [tenant.tenant],
  );
  const other = '00000000-0000-4000-8000-000000000001';
  const keys = await selectDeviceValueKeys(db, [tenant.tenant, tenant.tenant, other, tenant.tenant], ['a', 'missing', 'b', 'b']);
  t.same([...keys.keys()].sort(), [0, 3], 'only the pairs whose device has state');
  t.same(keys.get(0), ['x']);
  t.same([...(keys.get(3) ?? [])].sort(), ['h', 't'], "another tenant's device of the same name is not read");
});
