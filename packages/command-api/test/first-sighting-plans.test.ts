import t from 'tap';
import { explainPlans, planNodes, type PlanNode } from '@strata/testkit';
import { selectDeviceLabelNames } from '../src/queries/select-device-label-names.ts';
import { selectDeviceValueKeys } from '../src/queries/select-device-value-keys.ts';
import { buildTestApp } from './build-test-app.ts';

/*
 * A device's first request reads what it already holds (its value keys from device_state, its labels
 * from label_versions) to seed the per-device registries. Both statements are named, so each
 * connection keeps the generic plan it made at its sixth run; on a new deployment that run sees
 * empty tables. As a plain join, that plan hashed a sequential scan of device_state, and kept doing
 * so as the fleet grew: the bench's first 10,000 devices read 3.3 million rows. Planned generic on
 * empty tables, each must still probe its table by key, once per pair.
 */
t.test('the registry seeds probe by key in the generic plan of an empty table', async (t) => {
  const { db, tenant } = await buildTestApp(t);
  const devices = Array.from({ length: 20 }, (_, i) => `d${i}`);
  const tenants = devices.map(() => tenant.tenant);
  for (const [name, read, table] of [
    ['value keys', (q: Parameters<typeof selectDeviceValueKeys>[0]) => selectDeviceValueKeys(q, tenants, devices), 'device_state'],
    ['label names', (q: Parameters<typeof selectDeviceLabelNames>[0]) => selectDeviceLabelNames(q, tenants, devices), 'label_versions'],
  ] as const) {
    const [plan] = await explainPlans(db, 'force_generic_plan', read);
    const reads = planNodes(plan as PlanNode).filter((node) => node['Relation Name'] === table);
    t.ok(reads.length > 0, `${name}: the plan reads ${table}`);
    t.same(
      reads.map((node) => node['Node Type']).filter((type) => type !== 'Index Scan' && type !== 'Index Only Scan'),
      [],
      `${name}: ${table} is only probed by its index`,
    );
  }
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
