import t from 'tap';
import { explainPlans, planNodes, seedEvents, type PlanNode } from '@strata/testkit';
import { selectGroupTotal } from '../src/queries/select-group-total.ts';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0100. Sums are exact numerics; answers carry doubles, and PostgreSQL's conversion used to
 * fail the read with a 400 blaming the request (SQLSTATE 22003) in two cases:
 *  - a sum beyond the largest double (~1.8e308). A value is at most 1e300, so that takes some 1.8e8
 *    readings in one bucket (a day of a device sending 2,000 a second) or in a group's running total.
 *    No test can send 200 million readings: two real ones are projected and refreshed by the
 *    projector's own code, and their materialized rows are then scaled by 1e8, as 200 million would
 *    have left them. Such a sum is answered as null, the average and the rest stay exact;
 *  - a sum that is not zero but rounds to zero: three accepted readings (4.4e-323, -4e-323, -5e-324)
 *    sum to -1e-324. It is answered as 0, materialized or live.
 */
const DAY = 86_400_000;
const MINUTE = 60_000;

interface Bucket {
  [aggregate: string]: unknown;
}

t.test('a sum beyond a double answers null, the average and the other aggregates stay exact, on every route that sums', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const day = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  await foldLabelSamples(deps.pool, tenant, [
    { device: 'w0', label: 'site', ts: day - DAY, value: 'north' },
    { device: 'w1', label: 'site', ts: day - DAY, value: 'south' },
  ]);
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'w0', ts: day + 61_000, key: 'w:1', values: { w: 1e300 } },
    { tenantId: tenant, device: 'w0', ts: day + 62_000, key: 'w:2', values: { w: 1e300 } },
    { tenantId: tenant, device: 'w1', ts: day + 61_000, key: 'w:3', values: { w: -1e300 } },
    { tenantId: tenant, device: 'w1', ts: day + 62_000, key: 'w:4', values: { w: -1e300 } },
  ]);
  for (const table of ['rollups_1m', 'rollups_1h', 'rollups_1d', 'group_rollups_1m', 'group_rollups_1h', 'group_rollups_1d']) {
    const { rowCount } = await deps.pool.query(`UPDATE ${table} SET count = count * 100000000, sum = sum * 100000000 WHERE tenant_id = $1 AND value_key = 'w'`, [tenant]);
    t.equal(rowCount, 2, `${table}: both buckets are materialized`);
  }
  // A group minute's running sums at its event times (a total inside the minute reads them), scaled alike.
  await deps.pool.query(
    `UPDATE group_rollups_1m SET step_sum = (SELECT array_agg(s * 100000000 ORDER BY n) FROM unnest(step_sum) WITH ORDINALITY AS x(s, n))
      WHERE tenant_id = $1 AND value_key = 'w'`,
    [tenant],
  );

  const range = `from=${new Date(day).toISOString()}&to=${new Date(day + DAY).toISOString()}`;
  const checkBucket = (buckets: Bucket[] | undefined, sign: 1 | -1, what: string): void => {
    t.equal(buckets?.length, 1, `${what}: one bucket`);
    const bucket = buckets?.[0] ?? {};
    t.ok(Object.hasOwn(bucket, 'sum'), `${what}: sum is answered`);
    t.equal(bucket.sum, null, `${what}: the sum beyond a double is null`);
    t.equal(bucket.avg, sign * 1e300, `${what}: the average stays`);
    t.equal(bucket.count, 2e8, `${what}: count`);
    t.equal(bucket.max, sign * 1e300, `${what}: max`);
  };
  // 1m, 1h and 1d answer stored rows as they are; 5m combines minutes (numeric sums added in SQL).
  for (const interval of ['1m', '5m', '1h', '1d']) {
    for (const [device, site, sign] of [['w0', 'north', 1], ['w1', 'south', -1]] as const) {
      const series = await get(app, `/v1/devices/${device}/series?value=w&interval=${interval}&agg=sum,avg,count,max&${range}`, apiKey);
      t.equal(series.status, 200, `device series ${device} ${interval}: ${series.text}`);
      checkBucket(series.body.buckets, sign, `device series ${device} ${interval}`);
      for (const agg of ['sum,avg,count,max', 'sum,avg,count,max,devices']) {
        const group = await get(app, `/v1/groups/site/${site}/series?value=w&interval=${interval}&agg=${agg}&${range}`, apiKey);
        t.equal(group.status, 200, `group series ${site} ${interval} ${agg}: ${group.text}`);
        checkBucket(group.body.buckets, sign, `group series ${site} ${interval} ${agg}`);
      }
    }
  }
  for (const [site, what] of [['north', 'positive'], ['south', 'negative']]) {
    const total = await get(app, `/v1/groups/site/${site}/total?value=w&at=${new Date(day + DAY).toISOString()}`, apiKey);
    t.equal(total.status, 200, `group total ${site}: ${total.text}`);
    t.equal(total.body.total, null, `a ${what} running total beyond a double is null`);
  }
  // The largest double itself (its exact integer), and just past the rounding edge above it.
  const largest = BigInt(Number.MAX_VALUE);
  for (const [sum, expected] of [[largest, Number.MAX_VALUE], [2n ** 1024n - 2n ** 970n, null]] as const) {
    // A rollup rewritten behind the projection's back: the device's state row says so, as a drain's
    // would, or query-api would reuse the answer it kept for the same question (decision 0103).
    await deps.pool.query(
      `WITH scaled AS (UPDATE rollups_1d SET sum = $2::numeric WHERE tenant_id = $1 AND device = 'w0' AND value_key = 'w')
       UPDATE device_state SET version = version + 1 WHERE tenant_id = $1 AND device = 'w0'`,
      [tenant, sum.toString()],
    );
    const series = await get(app, `/v1/devices/w0/series?value=w&interval=1d&agg=sum&${range}`, apiKey);
    t.equal(series.status, 200, series.text);
    t.equal(series.body.buckets?.[0]?.sum, expected, `a sum of ${expected === null ? '2^1024 − 2^970 overflows' : 'the largest double is that double'}`);
  }
  const within = await get(app, `/v1/groups/site/north/total?value=w&at=${new Date(day + 61_000).toISOString()}`, apiKey);
  t.equal(within.status, 200);
  t.equal(within.body.total, 1e308, 'a total within range is the number (the first reading, scaled, from the minute\'s stored steps)');
});

t.test('a sum that rounds to zero answers 0, materialized and live, on every route that sums', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
  await foldLabelSamples(deps.pool, tenant, [{ device: 'u0', label: 'site', ts: minute - DAY, value: 'tiny' }]);
  const readings = (keyPrefix: string, ts: number) =>
    [4.4e-323, -4e-323, -5e-324].map((v, i) => ({ tenantId: tenant, device: 'u0', ts: ts + i * 1000, key: `${keyPrefix}:${i}`, values: { u: v } }));
  // One minute materialized, the next left noted (answered live from history).
  await seedEvents(deps.pool, readings('m', minute));
  await seedEvents(deps.pool, readings('l', minute + MINUTE), { refresh: false });
  const range = `from=${new Date(minute - MINUTE).toISOString()}&to=${new Date(minute + 2 * MINUTE).toISOString()}`;
  for (const interval of ['1m', '5m', '1h']) {
    const series = await get(app, `/v1/devices/u0/series?value=u&interval=${interval}&agg=sum,count&${range}&consistency=strong`, apiKey);
    t.equal(series.status, 200, `device series ${interval}: ${series.text}`);
    const group = await get(app, `/v1/groups/site/tiny/series?value=u&interval=${interval}&agg=sum,count&${range}&consistency=strong`, apiKey);
    t.equal(group.status, 200, `group series ${interval}: ${group.text}`);
    for (const body of [series.body, group.body]) {
      for (const bucket of body.buckets ?? []) t.equal(bucket.sum, 0, `${interval}: ${bucket.ts}: the sum that rounds to zero is 0`);
      t.equal((body.buckets ?? []).reduce((n: number, b: Bucket) => n + Number(b.count), 0), 6, `${interval}: all six readings counted`);
    }
  }
  const total = await get(app, `/v1/groups/site/tiny/total?value=u&at=${new Date(minute + 2 * MINUTE).toISOString()}&consistency=strong`, apiKey);
  t.equal(total.status, 200, `group total: ${total.text}`);
  t.equal(total.body.total, 0);
});

t.test("the group total is converted once: each level's rows are read by one plan node, custom or generic", async (t) => {
  // Inlined into the conversion's branches, the sum (and every level's subquery in it) was planned
  // three times and run twice: the bench's group totals went from 2 ms to 1.6 s at the median.
  const { deps } = await buildTestApp(t);
  const { tenant } = await newTenant(deps.pool);
  for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
    const [plan] = await explainPlans(deps.pool, mode, (db) =>
      selectGroupTotal(db, { tenantId: tenant, label: 'site', labelValue: 'north', valueKey: 'w', at: new Date().toISOString() }),
    );
    const nodes = planNodes(plan as PlanNode);
    for (const table of ['group_rollups_1d', 'group_rollups_1h', 'group_totals_base']) {
      t.equal(nodes.filter((node) => node['Relation Name'] === table).length, 1, `${mode}: ${table} is read by one node`);
    }
  }
});
