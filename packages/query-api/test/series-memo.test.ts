import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent, Pool } from '@strata/core';
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { buildTestApp, get, newTenant, type TestApp } from './helpers.ts';

/*
 * Decision 0103: query-api keeps device-series answers and reuses one only while the device's state
 * row is what the answer's own snapshot saw. Every answer here is compared with raw history; the
 * memo's counter says which path answered, so a test that passed without the memo being used (or
 * being used where it must not be) fails.
 */
const MINUTE = 60_000;

async function lookups(deps: TestApp['deps']): Promise<Record<string, number>> {
  const counts: Record<string, number> = { hit: 0, changed: 0, miss: 0 };
  for (const { labels, value } of (await deps.metrics.answerMemoLookups.get()).values) if (labels.read === 'series') counts[String(labels.result)] = value;
  return counts;
}

async function oracle(pool: Pool, tenant: string, device: string, from: string, to: string): Promise<unknown[]> {
  const result = await pool.query(
    `SELECT to_char(date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
            count(*)::int AS count, sum(("values"->>'v')::numeric)::float8 AS sum
       FROM tenant_events
      WHERE tenant_id = $1 AND device = $2 AND ts >= $3 AND ts < $4 AND jsonb_typeof("values"->'v') = 'number'
      GROUP BY 1 ORDER BY 1`,
    [tenant, device, from, to],
  );
  return result.rows;
}

t.test('a kept answer is reused while the device is unchanged, and never once it changed', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const from = new Date(Math.floor(now / MINUTE) * MINUTE - 60 * MINUTE).toISOString();
  const to = new Date(Math.floor(now / MINUTE) * MINUTE + MINUTE).toISOString();
  let n = 0;
  const event = (ts: number, v: number, device = 'dev'): BatchEvent => ({ tenantId: tenant, device, key: `m:${n++}`, ts, type: 'reading', values: { v } });
  const path = `/v1/devices/dev/series?value=v&interval=1m&agg=count,sum&from=${from}&to=${to}`;
  const read = async (label: string, headers: Record<string, string> = {}) => {
    const answer = await get(app, path, apiKey, headers);
    t.equal(answer.status, 200, `${label}: ${answer.text}`);
    t.same(answer.body.buckets, await oracle(deps.pool, tenant, 'dev', from, to), `${label}: the answer is raw history's`);
    return answer;
  };

  await projectBatch(deps.pool, randomUUID(), Array.from({ length: 30 }, (_, i) => event(now - 50 * MINUTE + i * MINUTE, i)));
  await read('first read');
  t.same(await lookups(deps), { hit: 0, changed: 0, miss: 1 }, 'the first read found nothing kept');
  const second = await read('the same question again');
  t.same(await lookups(deps), { hit: 1, changed: 0, miss: 1 }, 'the second reused the answer');
  t.equal(second.body.meta.source, 'primary', "a reused answer carries the probe's source");
  t.equal(second.body.meta.lagMs, 0);

  // Materializing the ended minutes changes no answer: the kept one is still right and still used.
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: now + 2 * MINUTE })).minutes;
  await read('after the refresher materialized the minutes');
  t.same(await lookups(deps), { hit: 2, changed: 0, miss: 1 }, 'materialization left the device unchanged: reused');

  // A late event (into an old minute of the range), an event already stored (re-sent), the current minute.
  const late = event(now - 40 * MINUTE + 7, 1000);
  await projectBatch(deps.pool, randomUUID(), [late]);
  await read('after a late event');
  t.same(await lookups(deps), { hit: 2, changed: 1, miss: 1 }, 'the late event changed the device: read again');
  await read('again, unchanged since');
  t.same(await lookups(deps), { hit: 3, changed: 1, miss: 1 });
  await projectBatch(deps.pool, randomUUID(), [late]);
  await read('after a re-sent event history already held');
  await projectBatch(deps.pool, randomUUID(), [event(now, 5)]);
  await read('after an event in the current minute');
  t.same(await lookups(deps), { hit: 4, changed: 2, miss: 1 }, 're-sent: nothing stored, reused; the current minute: read again');

  // Another device's events leave this device's answer alone.
  await projectBatch(deps.pool, randomUUID(), [event(now - 30 * MINUTE, 7, 'other')]);
  await read("after another device's event");
  t.same(await lookups(deps), { hit: 5, changed: 2, miss: 1 });

  // Strong and token reads are answered as exactly: the probe runs where the read is routed.
  await projectBatch(deps.pool, randomUUID(), [event(now - 20 * MINUTE, 3)]);
  const strong = await read('a strong read after a write', { 'x-consistency': 'strong' });
  t.equal(strong.body.meta.consistency, 'strong');
  t.same(await lookups(deps), { hit: 5, changed: 3, miss: 1 });

  // Another aggregate list is another answer.
  const other = await get(app, path.replace('agg=count,sum', 'agg=sum,count'), apiKey);
  t.same(other.body.buckets.map((b: { sum: number }) => b.sum), strong.body.buckets.map((b: { sum: number }) => b.sum));
  t.same(Object.keys(other.body.buckets[0]), ['ts', 'sum', 'count'], 'in its own order');
  t.same(await lookups(deps), { hit: 5, changed: 3, miss: 2 });
});

t.test("a tenant never gets another tenant's kept answer for the same device name and range", async (t) => {
  const { app, deps } = await buildTestApp(t);
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const now = Date.now();
  const from = new Date(Math.floor(now / MINUTE) * MINUTE - 10 * MINUTE).toISOString();
  const to = new Date(Math.floor(now / MINUTE) * MINUTE + MINUTE).toISOString();
  for (const [{ tenant }, v] of [[a, 1], [b, 2]] as const) {
    await projectBatch(deps.pool, randomUUID(), [{ tenantId: tenant, device: 'dev', key: 'k', ts: now - 5 * MINUTE, type: 'reading', values: { v } }]);
  }
  const path = `/v1/devices/dev/series?value=v&interval=1m&agg=sum&from=${from}&to=${to}`;
  for (let i = 0; i < 2; i++) {
    t.equal((await get(app, path, a.apiKey)).body.buckets[0].sum, 1, `tenant a, read ${i + 1}`);
    t.equal((await get(app, path, b.apiKey)).body.buckets[0].sum, 2, `tenant b, read ${i + 1}`);
  }
  t.same(await lookups(deps), { hit: 2, changed: 0, miss: 2 }, 'each tenant its own answer, each reused once');
});

t.test('nothing is kept for a device without a state row, for a range near aggregate retention, or with ANSWER_MEMO_MAX_BYTES=0', async (t) => {
  const { app, deps } = await buildTestApp(t, { retentionDays: 1, aggregateRetentionDays: 2 });
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const hour = Math.floor(now / 3_600_000) * 3_600_000;
  await projectBatch(deps.pool, randomUUID(), [{ tenantId: tenant, device: 'dev', key: 'k', ts: now - MINUTE, type: 'reading', values: { v: 1 } }]);
  const series = (device: string, fromMs: number) =>
    `/v1/devices/${device}/series?value=v&interval=1h&agg=count&from=${new Date(fromMs).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}`;
  for (let i = 0; i < 2; i++) {
    t.same((await get(app, series('nobody', hour - 3_600_000), apiKey)).body.buckets, [], 'a device without events: no buckets');
    t.equal((await get(app, series('dev', hour - 1.5 * 86_400_000), apiKey)).body.buckets.length, 1, 'a range reaching within a day of the retention horizon');
  }
  t.same(await lookups(deps), { hit: 0, changed: 0, miss: 2 }, 'the range near retention is not even looked up; the device without a state row is never kept');
  t.equal(deps.keptAnswers?.memo.size, 0);

  const off = await buildTestApp(t, { answerMemoMaxBytes: 0 });
  t.equal(off.deps.keptAnswers, undefined, 'ANSWER_MEMO_MAX_BYTES=0: no memo');
  const other = await newTenant(off.deps.pool);
  await projectBatch(off.deps.pool, randomUUID(), [{ tenantId: other.tenant, device: 'dev', key: 'k', ts: now - MINUTE, type: 'reading', values: { v: 1 } }]);
  for (let i = 0; i < 2; i++) t.equal((await get(off.app, series('dev', hour - 3_600_000), other.apiKey)).body.buckets[0].count, 1);
  t.same(await lookups(off.deps), { hit: 0, changed: 0, miss: 0 }, 'and no lookups');
});
