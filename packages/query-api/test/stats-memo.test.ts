import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent, Pool } from '@strata/core';
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { StatsResponses } from '../src/routes/read-responses.ts';
import { buildTestApp, get, newTenant, schemaSerializer, type TestApp } from './helpers.ts';

/*
 * Decision 0103 for stats: a kept answer is reused only while the range's notes and counter rows are
 * what its own snapshot saw. Every answer is compared with raw history, and the memo's counter says
 * which path answered.
 */
const MINUTE = 60_000;

async function lookups(deps: TestApp['deps']): Promise<Record<string, number>> {
  const counts: Record<string, number> = { hit: 0, changed: 0, miss: 0 };
  for (const { labels, value } of (await deps.metrics.answerMemoLookups.get()).values) if (labels.read === 'stats') counts[String(labels.result)] = value;
  return counts;
}

async function oracle(pool: Pool, tenant: string, width: string, from: string, to: string, type?: string): Promise<unknown[]> {
  const result = await pool.query(
    `SELECT to_char(date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
            jsonb_object_agg(type, n) AS counts
       FROM (SELECT ts, type, count(*) OVER (PARTITION BY date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), type)::int AS n
               FROM tenant_events WHERE tenant_id = $1 AND ts >= $3 AND ts < $4 AND ($5::text IS NULL OR type = $5)) e
      GROUP BY 1 ORDER BY 1`,
    [tenant, width, from, to, type ?? null],
  );
  return result.rows;
}

t.test('a kept stats answer is reused while the range is unchanged, and never once it changed', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const hour = Math.floor(now / 3_600_000) * 3_600_000;
  const from = new Date(hour - 3 * 3_600_000).toISOString();
  const to = new Date(hour + 3_600_000).toISOString();
  let n = 0;
  const event = (ts: number, type = 'reading', device = 'dev'): BatchEvent => ({ tenantId: tenant, device, key: `s:${n++}`, ts, type, values: { v: n } });
  const check = async (label: string, interval: '1m' | '1h', width: string, type?: string) => {
    const answer = await get(app, `/v1/stats?interval=${interval}&from=${from}&to=${to}${type === undefined ? '' : `&type=${encodeURIComponent(type)}`}`, apiKey);
    t.equal(answer.status, 200, `${label}: ${answer.text}`);
    t.same(answer.body.buckets, await oracle(deps.pool, tenant, width, from, to, type), `${label}: the counts are raw history's`);
  };
  const refresh = async () => {
    for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: now + 2 * MINUTE })).minutes;
  };

  await projectBatch(deps.pool, randomUUID(), Array.from({ length: 40 }, (_, i) => event(now - 150 * MINUTE + i * 3 * MINUTE, i % 3 === 0 ? 'door' : 'reading')));
  await check('1m, first read', '1m', '1 minute');
  await check('1m, again (notes unrefreshed)', '1m', '1 minute');
  t.same(await lookups(deps), { hit: 1, changed: 0, miss: 1 }, 'reused while nothing changed, with the minutes still noted');

  await refresh();
  await check('1m, after the refresher materialized the minutes', '1m', '1 minute');
  t.same(await lookups(deps), { hit: 1, changed: 1, miss: 1 }, 'the refresh changed what the answer is read from: read again (same counts)');
  await check('1m, again', '1m', '1 minute');
  t.same(await lookups(deps), { hit: 2, changed: 1, miss: 1 });

  // A late event into an old minute, noted and not yet refreshed; then refreshed.
  await projectBatch(deps.pool, randomUUID(), [event(now - 100 * MINUTE + 5, 'door', 'other')]);
  await check('1m, after a late event of another device', '1m', '1 minute');
  t.same(await lookups(deps), { hit: 2, changed: 2, miss: 1 }, 'the late event changed the tenant: read again');
  await refresh();
  await check('1m, after its minute was refreshed', '1m', '1 minute');
  await check('1m, again', '1m', '1 minute');
  t.same(await lookups(deps), { hit: 3, changed: 3, miss: 1 });

  // Hours: a late event changes the hour's row, refreshed in the same transaction as the minute's note.
  await check('1h, first read', '1h', '1 hour');
  await check('1h, again', '1h', '1 hour');
  await projectBatch(deps.pool, randomUUID(), [event(now - 90 * MINUTE + 7)]);
  await refresh();
  await check('1h, after a late event, refreshed before this read', '1h', '1 hour');
  t.same(await lookups(deps), { hit: 4, changed: 4, miss: 2 }, '1h: a miss, a hit, and read again after a late event refreshed in between');

  // A type filter is another answer, and a type called what the unfiltered key says is another again.
  await check('1m, doors only', '1m', '1 minute', 'door');
  await check('1m, doors only, again', '1m', '1 minute', 'door');
  await check("1m, the type 'every type'", '1m', '1 minute', 'every type');
  t.same(await lookups(deps), { hit: 5, changed: 4, miss: 4 }, 'each filter its own answer');
});

t.test('stats bodies are what the schema serializer writes, kept or not, for hostile type names; tenants apart', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const now = Date.now();
  const types = ['reading', 'quote " and \\ backslash', 'line\u2028separator', '__proto__', 'emoji 🚪', '<\/script>'];
  await projectBatch(deps.pool, randomUUID(), types.map((type, i) => ({ tenantId: a.tenant, device: 'dev', key: `h:${i}`, ts: now - 5 * MINUTE + i, type, values: { v: i } })));
  await projectBatch(deps.pool, randomUUID(), [{ tenantId: b.tenant, device: 'dev', key: 'b', ts: now - 5 * MINUTE, type: 'reading', values: { v: 1 } }]);
  const serialize = schemaSerializer(StatsResponses[200]);
  const path = `/v1/stats?interval=1h&from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
  for (let i = 0; i < 2; i++) {
    const answer = await get(app, path, a.apiKey);
    t.equal(answer.text, serialize(answer.body), `read ${i + 1}: byte for byte the schema serializer's body`);
    t.same(Object.keys(answer.body.buckets[0].counts).sort(), [...types].sort(), `read ${i + 1}: every type, __proto__ as an own key`);
    const other = await get(app, path, b.apiKey);
    t.same(other.body.buckets[0].counts, { reading: 1 }, `read ${i + 1}: the other tenant's own counts`);
  }
  for (const type of ['every type', '__proto__', 'line\u2028separator']) {
    for (let i = 0; i < 2; i++) {
      const typed = await get(app, `${path}&type=${encodeURIComponent(type)}`, a.apiKey);
      t.equal(typed.text, serialize(typed.body), `type ${encodeURIComponent(type)}, read ${i + 1}: byte for byte, \`type\` after \`meta\` as the serializer wrote it`);
    }
  }
  t.same(await lookups(deps), { hit: 5, changed: 0, miss: 5 }, 'each tenant and each filter its own answer, each reused once');
});
