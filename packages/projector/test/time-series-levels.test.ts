import t from 'tap';
import { redisKeys } from '@strata/core';
import { startTestProjector } from './start-test-projector.ts';

const DAY = 86_400_000;

t.test('daily rollups and tenant event counts equal an oracle over raw history, late events and re-sends included', async (t) => {
  const ctx = await startTestProjector(t);
  const base = Date.UTC(2026, 10, 17, 21, 59, 0);
  const events = Array.from({ length: 400 }, (_, i) => ({
    device: `d${i % 3}`,
    id: `e${i}`,
    ts: base + i * 911_000, // ~4 days, across UTC midnights
    type: i % 5 === 0 ? 'door' : 'reading',
    values: { temp: (i * 37) % 101, ...(i % 4 === 0 ? { label: 'x' } : {}) },
  }));
  // In order, then a late half of the first day again (re-sent: counted once), then late new ones.
  await ctx.project(events.slice(100, 250));
  await ctx.project(events.slice(250));
  await ctx.project(events.slice(0, 100));
  await ctx.project(events.slice(0, 50));
  await ctx.refresh();

  const daily = await ctx.db.query(
    `SELECT device, bucket, count::int, sum::float8 AS sum, min, max, last FROM rollups_1d WHERE value_key = 'temp' ORDER BY device, bucket`,
  );
  const oracle = await ctx.db.query(
    `SELECT device, date_bin('1 day', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, count(*)::int AS count,
            sum(("values"->>'temp')::float8) AS sum, min(("values"->>'temp')::float8) AS min, max(("values"->>'temp')::float8) AS max,
            (array_agg(("values"->>'temp')::float8 ORDER BY ts DESC))[1] AS last
       FROM tenant_events GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  t.ok(daily.rows.length >= 12, `${daily.rows.length} device-days`);
  t.same(daily.rows, oracle.rows, 'rollups_1d = raw history per UTC day');
  t.ok(daily.rows.every((row) => row.bucket.endsWith(' 00:00:00+00')), 'day buckets are UTC days');

  for (const [table, width] of [['event_counts_1m', '1 minute'], ['event_counts_1h', '1 hour']]) {
    const counts = await ctx.db.query(`SELECT bucket, type, sum(count)::int AS n FROM ${table} GROUP BY 1, 2 ORDER BY 1, 2`);
    const raw = await ctx.db.query(
      `SELECT date_bin($1::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, type, count(*)::int AS n FROM tenant_events GROUP BY 1, 2 ORDER BY 1, 2`,
      [width],
    );
    t.same(counts.rows, raw.rows, `${table} = raw counts`);
  }
  const total = await ctx.db.query(`SELECT sum(count)::int AS n FROM event_counts_1h`);
  t.equal(total.rows[0].n, 400, 'every event counted once');
  t.ok(events.at(-1)!.ts - base > 3 * DAY);
});

t.test('each live update is appended to the tenant stream and published with its entry id', async (t) => {
  const ctx = await startTestProjector(t);
  const messages = await ctx.subscribeLive();
  await ctx.watchLive(); // as query-api does while the tenant has a live client (decision 0087)
  await ctx.project([{ device: 'live', ts: '2026-11-20T12:00:00Z', values: { v: 1.0000000000000002 } }]);
  await ctx.project([{ device: 'live', ts: '2026-11-20T12:00:01Z', values: { v: 2 } }]);
  for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  const entries = await ctx.deps.cache.xrange(redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant), '-', '+');
  t.equal(entries.length, 2);
  const published = messages.map((message) => JSON.parse(message));
  t.same(published.map((message) => message.id), entries.map(([id]) => id), 'published ids are the stream ids, in order');
  t.same(published.map((message) => [message.device, message.version, message.values.v]), [['live', 1, 1.0000000000000002], ['live', 2, 2]]);
  const stored = JSON.parse(entries[0]![1][1]!);
  t.same(stored, {
    device: 'live', ts: '2026-11-20T12:00:00.000Z', values: { v: 1.0000000000000002 }, times: { v: '2026-11-20T12:00:00.000Z' }, updatedAt: published[0].updatedAt, version: 1,
  });
});
