import t from 'tap';
import { startTestProjector } from './start-test-projector.ts';

/*
 * Decision 0090: a claim that only adds new minutes to an hour adds them into the stored hour and day;
 * one that changes or removes a stored minute recomputes the hour (and its day) whole. Either way every
 * hour and day must equal raw history. Events arrive in random batches with refreshes in between, so
 * hours are stored and then grown by later minutes (the added path), while late events land in
 * minutes already stored and re-sends recompute minutes unchanged (the whole path, and no change).
 */
const MINUTE = 60_000;
const BASE = Date.UTC(2026, 10, 16, 21, 30, 0); // three hours across a UTC midnight

t.test('hours and days grown by new minutes equal raw history, beside late events, re-sends and equal-time ties', async (t) => {
  const ctx = await startTestProjector(t);
  let seed = 20261201;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  t.comment(`seed ${seed}`);
  const events = Array.from({ length: 900 }, (_, i) => ({
    device: `d${i % 4}`,
    id: `e${i}`,
    ts: BASE + i * 12_000 + Math.floor(random() * 11_000),
    type: 'reading',
    values: { v: Math.round(random() * 20_000 - 10_000) / 100, ...(i % 3 === 0 ? { w: i } : {}) } as Record<string, number>,
  }));
  // A few pairs share a device and an instant (the larger value must be the `last`).
  for (let i = 1; i < events.length; i += 97) Object.assign(events[i]!, { device: events[i - 1]!.device, ts: events[i - 1]!.ts });
  // In time order in batches, a refresh after most, with a late batch of earlier events now and then
  // (into minutes already stored) and re-sends (stored once: their minutes recompute unchanged).
  const late: typeof events = [];
  for (let start = 0; start < events.length; start += 60) {
    const batch = events.slice(start, start + 60);
    const held = batch.filter(() => random() < 0.15);
    late.push(...held);
    await ctx.project(batch.filter((event) => !held.includes(event)));
    if (random() < 0.3 && late.length > 0) await ctx.project(late.splice(0, late.length));
    if (random() < 0.3) await ctx.project(batch.slice(0, 10));
    if (random() < 0.8) await ctx.refresh();
  }
  if (late.length > 0) await ctx.project(late);
  await ctx.refresh();

  for (const [table, width] of [['rollups_1h', '1 hour'], ['rollups_1d', '1 day']] as const) {
    const stored = await ctx.db.query(
      `SELECT device, value_key, bucket, count::int, sum::text, min, max, last, last_ts FROM ${table}
        WHERE tenant_id = $1 ORDER BY 1, 2, 3`,
      [ctx.tenant],
    );
    const oracle = await ctx.db.query(
      `SELECT device, k.key AS value_key, date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, count(*)::int AS count,
              sum((k.value)::numeric)::text AS sum, min((k.value)::float8) AS min, max((k.value)::float8) AS max,
              (array_agg((k.value)::float8 ORDER BY ts DESC, (k.value)::float8 DESC))[1] AS last, max(ts) AS last_ts
         FROM tenant_events CROSS JOIN LATERAL jsonb_each("values") k
        WHERE tenant_id = $1 AND jsonb_typeof(k.value) = 'number'
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [ctx.tenant, width],
    );
    t.ok(oracle.rows.length >= (width === '1 hour' ? 24 : 8), `${oracle.rows.length} ${table} keys`);
    t.same(stored.rows, oracle.rows, `${table} = raw history`);
  }
  const ties = await ctx.db.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM tenant_events WHERE tenant_id = $1 GROUP BY device, ts HAVING count(*) > 1) x`, [ctx.tenant]);
  t.ok(ties.rows[0].n > 0, `${ties.rows[0].n} device-instants hold two events`);
  t.equal((await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1`, [ctx.tenant])).rows[0].n, 900, 'every event stored once');
});

t.test('a late event in a stored minute recomputes its hour and day whole; a new minute is added to them', async (t) => {
  const ctx = await startTestProjector(t);
  const at = (minute: number, second: number): number => BASE + minute * MINUTE + second * 1000;
  await ctx.project([
    { device: 'a', id: 'x1', ts: at(0, 5), type: 'reading', values: { v: 5 } },
    { device: 'a', id: 'x2', ts: at(1, 5), type: 'reading', values: { v: 7 } },
  ]);
  await ctx.refresh();
  const hour = async (): Promise<unknown> =>
    (await ctx.db.query(`SELECT count::int, sum::text, min, max, last FROM rollups_1h WHERE tenant_id = $1 AND device = 'a' AND bucket = $2`, [ctx.tenant, new Date(Math.floor(BASE / 3_600_000) * 3_600_000).toISOString()])).rows[0];
  const day = async (): Promise<unknown> =>
    (await ctx.db.query(`SELECT count::int, sum::text, min, max, last FROM rollups_1d WHERE tenant_id = $1 AND device = 'a' AND bucket = $2`, [ctx.tenant, new Date(Date.UTC(2026, 10, 16)).toISOString()])).rows[0];
  t.same(await hour(), { count: 2, sum: '12', min: 5, max: 7, last: 7 });
  // A new minute: added.
  await ctx.project([{ device: 'a', id: 'x3', ts: at(2, 5), type: 'reading', values: { v: -1 } }]);
  await ctx.refresh();
  t.same(await hour(), { count: 3, sum: '11', min: -1, max: 7, last: -1 }, 'a new minute is combined into the stored hour');
  t.same(await day(), { count: 3, sum: '11', min: -1, max: 7, last: -1 }, '… and into its day');
  // A late event in the first minute (stored): its hour is recomputed from the minutes.
  await ctx.project([{ device: 'a', id: 'x4', ts: at(0, 1), type: 'reading', values: { v: 100 } }]);
  await ctx.refresh();
  t.same(await hour(), { count: 4, sum: '111', min: -1, max: 100, last: -1 }, 'a changed minute recomputes the hour');
  t.same(await day(), { count: 4, sum: '111', min: -1, max: 100, last: -1 }, '… and its day');
  // The same events again: nothing changes.
  await ctx.project([{ device: 'a', id: 'x4', ts: at(0, 1), type: 'reading', values: { v: 100 } }, { device: 'a', id: 'x3', ts: at(2, 5), type: 'reading', values: { v: -1 } }]);
  await ctx.refresh();
  t.same(await hour(), { count: 4, sum: '111', min: -1, max: 100, last: -1 }, 're-sent events change nothing');
  // An event at the same instant as the newest, larger: it becomes the last.
  await ctx.project([{ device: 'a', id: 'x5', ts: at(2, 5), type: 'reading', values: { v: 3 } }]);
  await ctx.refresh();
  t.same(await hour(), { count: 5, sum: '114', min: -1, max: 100, last: 3 }, 'a tie at the newest instant: the larger value');
});
