import t from 'tap';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { startTestProjector } from './start-test-projector.ts';

/*
 * Decision 0093: an ended minute whose notes are still coming (a backlog's drains reaching it) is not
 * claimed until they stopped for `settleMs`, or until it ended a minute ago; each claim recomputes the
 * whole minute from history, so claiming it on every new note repeated a busy minute's recomputation.
 * Notes carry the database's time (`noted_at`); the tests age them by hand instead of sleeping.
 */
const MINUTE = 60_000;
const M = Date.UTC(2026, 10, 20, 8, 15, 0);
const SETTLE_MS = 60_000;

t.test('a minute still noted waits, claimed once its notes stop or it ended a minute ago, equal to raw history', async (t) => {
  const ctx = await startTestProjector(t);
  const events = (prefix: string, n: number, at: number): unknown[] =>
    Array.from({ length: n }, (_, i) => ({ device: `d${i % 3}`, id: `${prefix}${i}`, ts: at + i * 500, type: 'reading', values: { v: i } }));
  const stored = async (): Promise<unknown[]> =>
    (await ctx.db.query(`SELECT device, value_key, count::int, sum::text, min, max, last FROM rollups_1m WHERE tenant_id = $1 AND bucket = $2 ORDER BY 1, 2`, [ctx.tenant, new Date(M).toISOString()])).rows;
  const oracle = async (): Promise<unknown[]> =>
    (
      await ctx.db.query(
        `SELECT device, k.key AS value_key, count(*)::int AS count, sum((k.value)::numeric)::text AS sum, min((k.value)::float8) AS min, max((k.value)::float8) AS max,
                (array_agg((k.value)::float8 ORDER BY ts DESC, (k.value)::float8 DESC))[1] AS last
           FROM tenant_events CROSS JOIN LATERAL jsonb_each("values") k
          WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1, 2 ORDER BY 1, 2`,
        [ctx.tenant, new Date(M).toISOString(), new Date(M + MINUTE).toISOString()],
      )
    ).rows;
  const notes = async (): Promise<number> => (await ctx.db.query(`SELECT count(*)::int AS n FROM aggregate_dirty WHERE tenant_id = $1`, [ctx.tenant])).rows[0].n;
  const age = async (seconds: number): Promise<void> => {
    await ctx.db.query(`UPDATE aggregate_dirty SET noted_at = noted_at - make_interval(secs => $2) WHERE tenant_id = $1`, [ctx.tenant, seconds]);
  };

  // Two drains of the minute, noted just now; the refresher's clock says it ended 30 s ago.
  await ctx.project(events('a', 40, M));
  await ctx.project(events('b', 40, M + 20_000));
  const early = await refreshAggregates(ctx.deps.pool, { now: M + 90_000, settleMs: SETTLE_MS });
  t.equal(early.minutes, 0, 'not claimed while its notes are younger than settleMs');
  t.same(await stored(), [], 'nothing materialized');
  t.equal(await notes(), 2, 'both notes kept: reads still compute the minute from history');

  // One note aged past settleMs, the other still young: the minute's newest note decides, so it waits.
  await ctx.db.query(
    `UPDATE aggregate_dirty SET noted_at = noted_at - interval '61 seconds'
      WHERE ctid = (SELECT min(ctid) FROM aggregate_dirty WHERE tenant_id = $1)`,
    [ctx.tenant],
  );
  t.equal((await refreshAggregates(ctx.deps.pool, { now: M + 90_000, settleMs: SETTLE_MS })).minutes, 0, 'an old first note does not settle it while a newer one is young');
  t.equal(await notes(), 2);

  // The notes stopped a while ago (all aged past settleMs): claimed at the same clock.
  await age(61);
  const settled = await refreshAggregates(ctx.deps.pool, { now: M + 90_000, settleMs: SETTLE_MS });
  t.equal(settled.minutes, 1, 'claimed once its notes stopped for settleMs');
  t.equal(await notes(), 0, 'its notes are gone');
  t.same(await stored(), await oracle(), 'the minute equals raw history');
  t.equal((await stored()).length, 3, 'three devices');
  const counted = async (): Promise<unknown[]> =>
    (await ctx.db.query(`SELECT type, count::int FROM event_counts_1m WHERE tenant_id = $1 AND bucket = $2`, [ctx.tenant, new Date(M).toISOString()])).rows;
  t.same(await counted(), [{ type: 'reading', count: 80 }], 'the minute counted once');

  // A late drain notes it again, just now: it waits again, and is claimed by the cap once it ended a
  // minute before the refresher's clock, however new its notes.
  await ctx.project(events('c', 10, M + 45_000));
  t.equal((await refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE - 1, settleMs: SETTLE_MS })).minutes, 0, 'the re-noted minute waits');
  t.equal((await refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE, settleMs: SETTLE_MS })).minutes, 1, 'claimed when it ended a minute ago');
  t.equal(await notes(), 0);
  t.same(await stored(), await oracle(), 'the late events are in it');
  t.same(await counted(), [{ type: 'reading', count: 90 }], 'and counted once');
  const hour = await ctx.db.query(`SELECT sum(count)::int AS n FROM rollups_1h WHERE tenant_id = $1`, [ctx.tenant]);
  t.equal(hour.rows[0].n, 90, 'the hour holds every event once');
  t.equal((await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1`, [ctx.tenant])).rows[0].n, 90, 'every event stored once');
});

t.test('without settleMs an ended minute is claimed at once, and a settling minute does not hold back an older one', async (t) => {
  const ctx = await startTestProjector(t);
  await ctx.project([
    { device: 'a', id: 'old', ts: M - 10 * MINUTE, type: 'reading', values: { v: 1 } },
    { device: 'a', id: 'new', ts: M + 1_000, type: 'reading', values: { v: 2 } },
  ]);
  // M ended 30 s ago and was noted just now: it waits; the minute ten minutes earlier is past the cap.
  const round = await refreshAggregates(ctx.deps.pool, { now: M + 90_000, settleMs: SETTLE_MS });
  t.equal(round.minutes, 1, 'the older minute claimed');
  const left = await ctx.db.query(`SELECT (extract(epoch FROM bucket) * 1000)::float8 AS ms FROM aggregate_dirty WHERE tenant_id = $1`, [ctx.tenant]);
  t.same(left.rows.map((row) => row.ms), [M], 'only the settling minute stays noted');
  t.equal((await refreshAggregates(ctx.deps.pool, { now: M + 90_000 })).minutes, 1, 'settleMs 0: claimed as soon as it ended');
  const rows = await ctx.db.query(`SELECT (extract(epoch FROM bucket) * 1000)::float8 AS ms, count::int FROM rollups_1m WHERE tenant_id = $1 ORDER BY bucket`, [ctx.tenant]);
  t.same(rows.rows.map((row) => [row.ms, row.count]), [[M - 10 * MINUTE, 1], [M, 1]], 'both minutes stored');
});
