import t from 'tap';
import { seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * A value is at most 1e300, so a sum passes the largest double (~1.8e308) only after some 1.8e8 such
 * readings in one bucket (a day of a device sending 2,000 a second) or in a group's running total.
 * Sums are exact numerics; the answer carries doubles, and the cast used to fail the read with a
 * 400 blaming the request (SQLSTATE 22003). Now such a sum is answered as null and the average stays.
 * No test can send 200 million readings: two real ones are projected and refreshed by the projector's
 * own code, and their materialized rows are then scaled by 1e8, as 200 million would have left them.
 */
const DAY = 86_400_000;

t.test('a sum beyond a double answers null, the average and the other aggregates stay exact, on every route that sums', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const day = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  await foldLabelSamples(deps.pool, tenant, [{ device: 'w0', label: 'site', ts: day - DAY, value: 'north' }]);
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'w0', ts: day + 61_000, key: 'w:1', values: { w: 1e300 } },
    { tenantId: tenant, device: 'w0', ts: day + 62_000, key: 'w:2', values: { w: 1e300 } },
  ]);
  for (const table of ['rollups_1m', 'rollups_1h', 'rollups_1d', 'group_rollups_1m', 'group_rollups_1h', 'group_rollups_1d']) {
    const { rowCount } = await deps.pool.query(`UPDATE ${table} SET count = count * 100000000, sum = sum * 100000000 WHERE tenant_id = $1 AND value_key = 'w'`, [tenant]);
    t.equal(rowCount, 1, `${table}: the bucket is materialized`);
  }

  const range = `from=${new Date(day).toISOString()}&to=${new Date(day + DAY).toISOString()}`;
  const expected = { sum: null, avg: 1e300, count: 2e8, max: 1e300 };
  // 1m, 1h and 1d answer stored rows as they are; 5m combines minutes (numeric sums added in SQL).
  for (const interval of ['1m', '5m', '1h', '1d']) {
    const device = await get(app, `/v1/devices/w0/series?value=w&interval=${interval}&agg=sum,avg,count,max&${range}`, apiKey);
    t.equal(device.status, 200, `device series ${interval}: ${device.text}`);
    t.match(device.body.buckets, [{ ...expected, ts: String }], `device series ${interval}`);
    t.equal(device.body.buckets.length, 1);
    const group = await get(app, `/v1/groups/site/north/series?value=w&interval=${interval}&agg=sum,avg,count,max&${range}`, apiKey);
    t.equal(group.status, 200, `group series ${interval}: ${group.text}`);
    t.match(group.body.buckets, [{ ...expected, ts: String }], `group series ${interval}`);
  }
  const total = await get(app, `/v1/groups/site/north/total?value=w&at=${new Date(day + DAY).toISOString()}`, apiKey);
  t.equal(total.status, 200, `group total: ${total.text}`);
  t.equal(total.body.total, null, 'a running total beyond a double is null');
  const before = await get(app, `/v1/groups/site/north/total?value=w&at=${new Date(day).toISOString()}`, apiKey);
  t.equal(before.body.total, 0, 'and a total within range is still a number');
});
