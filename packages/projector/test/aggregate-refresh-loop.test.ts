import t from 'tap';
import type { Config, Pool } from '@strata/core';
import { createTenant } from '@strata/testkit';
import { buildAggregateRefreshLoop } from '../src/aggregation/build-aggregate-refresh-loop.ts';
import { ClaimSizes } from '../src/aggregation/claim-sizes.ts';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { closeProjectorDeps, createProjectorDeps } from '../src/deps.ts';
import { startTestProjector } from './start-test-projector.ts';

/*
 * Decision 0064: the refresher catches up a backlog in as many rounds as the work needs, not one
 * round a tick; one tenant's backlog does not hold back another's fresh minutes; stop() is heard
 * between transactions; two processes share a backlog. Every check ends with the aggregates equal
 * to an oracle over raw history (replace, never add).
 */
const MINUTE = 60_000;
// The timer never fires here: rounds run through runOnce, so the test decides when.
const NO_TICKS: Partial<Config> = { aggregateRefreshIntervalMs: 3_600_000 };

/** One reading a minute for `minutes` minutes, ending `endsAgo` minutes before the current one. */
function minutesOfReadings(device: string, minutes: number, endsAgo = 2): unknown[] {
  const last = Math.floor(Date.now() / MINUTE) * MINUTE - endsAgo * MINUTE;
  return Array.from({ length: minutes }, (_, i) => ({ device, id: `${device}-${i}`, ts: last - (minutes - 1 - i) * MINUTE + 7_000, values: { v: i % 17, w: 0.1 } }));
}

async function dueNotes(db: Pool, tenant: string): Promise<number> {
  const result = await db.query(`SELECT count(DISTINCT bucket)::int AS n FROM aggregate_dirty WHERE tenant_id = $1 AND bucket < date_bin('1 minute', now(), TIMESTAMPTZ '1970-01-01 00:00:00+00') - interval '1 minute'`, [tenant]);
  return result.rows[0].n;
}

/** Every level and counter of the tenant equals the same aggregate taken straight from history. */
interface Asserts {
  same(found: unknown, wanted: unknown, message: string): unknown;
}

async function assertMaterialized(t: Asserts, db: Pool, tenant: string): Promise<void> {
  for (const [table, width] of [['rollups_1m', '1 minute'], ['rollups_1h', '1 hour'], ['rollups_1d', '1 day']] as const) {
    const stored = await db.query(`SELECT device, value_key, bucket, count::int, sum::float8 AS sum, min, max, last FROM ${table} WHERE tenant_id = $1 ORDER BY 1, 2, 3`, [tenant]);
    const oracle = await db.query(
      `SELECT device, v.key AS value_key, date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, count(*)::int AS count,
              sum(v.value::numeric)::float8 AS sum, min(v.value::float8) AS min, max(v.value::float8) AS max,
              (array_agg(v.value::float8 ORDER BY ts DESC, v.value::float8 DESC))[1] AS last
         FROM tenant_events CROSS JOIN LATERAL jsonb_each("values") v WHERE tenant_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [tenant, width],
    );
    t.same(stored.rows, oracle.rows, `${table} = raw history (${stored.rows.length} rows)`);
  }
  const counts = await db.query(`SELECT bucket, type, count::int FROM event_counts_1h WHERE tenant_id = $1 ORDER BY 1, 2`, [tenant]);
  const oracle = await db.query(`SELECT date_bin('1 hour', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, type, count(*)::int AS count FROM tenant_events WHERE tenant_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`, [tenant]);
  t.same(counts.rows, oracle.rows, 'event_counts_1h = raw counts');
}

t.test('one run catches up a backlog of thousands of minutes, however many rounds it takes', async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  await ctx.project(minutesOfReadings('backlog', 3_000));
  t.equal(await dueNotes(ctx.db, ctx.tenant), 3_000, 'every minute noted');
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  await loop.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 0, 'one run left no ended minute noted (one round claims at most 960 of them here)');
  const rounds = await ctx.deps.registry.getSingleMetric('strata_aggregate_refreshes_total')?.get();
  const completed = rounds?.values.find((value) => value.labels.result === 'completed')?.value ?? 0;
  t.ok(completed >= 2, `${completed} rounds followed each other without waiting for a tick`);
  await assertMaterialized(t, ctx.db, ctx.tenant);
});

t.test("a tenant's backlog does not hold back another tenant's fresh minute", async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  const { tenant: fresh } = await createTenant(ctx.db, 'fresh');
  await ctx.project(minutesOfReadings('backlog', 3_000, 3));
  await ctx.project(minutesOfReadings('fresh', 1), fresh);
  const sizes = new ClaimSizes();
  const round = await refreshAggregates(ctx.deps.pool, { now: Date.now(), claimSizes: sizes });
  t.equal(await dueNotes(ctx.db, fresh), 0, "the fresh tenant's minute was refreshed in the first round");
  t.ok((await dueNotes(ctx.db, ctx.tenant)) > 0, 'while the backlog is still being worked off');
  t.same({ backlogged: round.backloggedTenants, minutes: round.minutes }, { backlogged: 1, minutes: 241 }, 'the backlogged tenant took one bounded claim');
  await assertMaterialized(t, ctx.db, fresh);
});

t.test('stop() ends a run after the transaction in hand; what it left is noted and the next run completes it', async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  await ctx.project(minutesOfReadings('backlog', 3_000));
  // Each refresh transaction is slowed by a quarter second, so the run is still going when stop() comes.
  await ctx.db.query(`CREATE FUNCTION slow_hours() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.25); RETURN NULL; END $$`);
  await ctx.db.query(`CREATE TRIGGER slow_hours AFTER INSERT ON rollups_1h FOR EACH STATEMENT EXECUTE FUNCTION slow_hours()`);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  const run = loop.runOnce();
  // stop() comes once a refresh transaction is in hand (its trigger sleeping), not after a fixed
  // 100 ms: on a loaded machine the run had not begun one by then, and nothing was left half done.
  const deadline = Date.now() + 10_000;
  while ((await ctx.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)).rowCount === 0) {
    if (Date.now() > deadline) throw new Error('no refresh transaction began within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const started = performance.now();
  await loop.stop();
  await run;
  const waited = performance.now() - started;
  t.ok(waited < 2_000, `stop() returned after ${Math.round(waited)} ms`);
  const left = await dueNotes(ctx.db, ctx.tenant);
  t.ok(left > 0 && left < 3_000, `${left} minutes still noted after the stop`);
  await ctx.db.query(`DROP TRIGGER slow_hours ON rollups_1h`);
  const next = buildAggregateRefreshLoop(ctx.deps);
  await next.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 0);
  await assertMaterialized(t, ctx.db, ctx.tenant);
});

t.test('two processes working off one backlog together materialize every minute exactly once', async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  await ctx.project(minutesOfReadings('a', 2_000));
  await ctx.project(minutesOfReadings('b', 1_500, 4));
  const other = createProjectorDeps(ctx.config);
  t.teardown(() => closeProjectorDeps(other));
  const loops = [buildAggregateRefreshLoop(ctx.deps), buildAggregateRefreshLoop(other)];
  await Promise.all(loops.map((loop) => loop.runOnce()));
  // A process that found the tenant locked by the other ends its run; whatever is left, a next run takes.
  await loops[0]?.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 0);
  await assertMaterialized(t, ctx.db, ctx.tenant);
});

t.test('a run that fails mid-transaction rolls its claim back and counts a failed round', async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  await ctx.project(minutesOfReadings('backlog', 2_000));
  // The second transaction fails: the first one's minutes stay materialized, the second's stay noted.
  // (A transaction writes rollups_1h in more than one statement: counted by transaction, not statement.)
  await ctx.db.query(`CREATE TABLE hour_writes (xact bigint)`);
  await ctx.db.query(
    `CREATE FUNCTION fail_second() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN INSERT INTO hour_writes VALUES (txid_current());
       IF (SELECT count(DISTINCT xact) FROM hour_writes) > 1 THEN RAISE EXCEPTION 'refresher crash'; END IF; RETURN NULL; END $$`,
  );
  await ctx.db.query(`CREATE TRIGGER fail_second AFTER INSERT ON rollups_1h FOR EACH STATEMENT EXECUTE FUNCTION fail_second()`);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  await loop.runOnce();
  const metric = await ctx.deps.registry.getSingleMetric('strata_aggregate_refreshes_total')?.get();
  t.equal(metric?.values.find((value) => value.labels.result === 'failed')?.value, 1, 'one failed round');
  t.equal(await dueNotes(ctx.db, ctx.tenant), 2_000 - 240, 'the first claim committed; the failed one is noted again');
  await ctx.db.query(`DROP TRIGGER fail_second ON rollups_1h`);
  await loop.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 2_000 - 240, 'the failed tenant is left alone for a second (its back-off)');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await loop.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 0);
  await assertMaterialized(t, ctx.db, ctx.tenant);
});

t.test('rows whose events left history disappear at every level when their minutes are refreshed again', async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  // Two devices over 90 minutes (two hours, maybe two days): one keeps its events, one loses a value
  // in some minutes and every event in others, as when history rows are removed under the aggregates.
  await ctx.project([...minutesOfReadings('keeps', 90), ...minutesOfReadings('loses', 90)]);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  await loop.runOnce();
  await assertMaterialized(t, ctx.db, ctx.tenant);
  const before = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND device = 'loses'`, [ctx.tenant]);

  // Minutes 0-29 of 'loses' drop value w; minutes 30-59 lose their events entirely. The changed minutes
  // are noted as the projection notes new rows. By hand on purpose: no projection rewrites or deletes
  // history, and the refresher must still recompute whatever history its notes point at.
  await ctx.db.query(
    `WITH ranked AS (SELECT ts, row_number() OVER (ORDER BY ts) - 1 AS i FROM tenant_events WHERE tenant_id = $1 AND device = 'loses')
     UPDATE events e SET "values" = e."values" - 'w' FROM ranked r, devices d
      WHERE d.tenant_id = $1 AND d.device = 'loses' AND e.device_no = d.device_no AND e.ts = r.ts AND r.i < 30`,
    [ctx.tenant],
  );
  await ctx.db.query(
    `WITH ranked AS (SELECT ts, row_number() OVER (ORDER BY ts) - 1 AS i FROM tenant_events WHERE tenant_id = $1 AND device = 'loses')
     DELETE FROM events e USING ranked r, devices d
      WHERE d.tenant_id = $1 AND d.device = 'loses' AND e.device_no = d.device_no AND e.ts = r.ts AND r.i BETWEEN 30 AND 59`,
    [ctx.tenant],
  );
  await ctx.db.query(
    `INSERT INTO aggregate_dirty (tenant_id, bucket)
     SELECT $1, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') FROM tenant_events WHERE tenant_id = $1 AND device = 'keeps'`,
    [ctx.tenant],
  );
  await loop.runOnce();
  await assertMaterialized(t, ctx.db, ctx.tenant);
  const after = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND device = 'loses'`, [ctx.tenant]);
  t.equal(after.rows[0]?.n, (before.rows[0]?.n ?? 0) - 30 - 60, 'minute rows: 30 lost w, 30 minutes lost both values');
});

t.test("a tenant whose refresh fails does not hold back another tenant's minutes, and is retried after its back-off", async (t) => {
  const ctx = await startTestProjector(t, NO_TICKS);
  const { tenant: neighbour } = await createTenant(ctx.db, 'neighbour');
  // The failing tenant's notes are older, so it comes first in every round (oldest note first).
  await ctx.project(minutesOfReadings('broken', 30, 40));
  await ctx.project(minutesOfReadings('fine', 5), neighbour);
  // Any minute of the failing tenant fails its transaction, as a minute too costly for the statement timeout would.
  await ctx.db.query(
    `CREATE FUNCTION refuse_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN IF NEW.tenant_id = '${ctx.tenant}' THEN RAISE EXCEPTION 'refresher crash'; END IF; RETURN NEW; END $$`,
  );
  await ctx.db.query(`CREATE TRIGGER refuse_tenant BEFORE INSERT ON rollups_1m FOR EACH ROW EXECUTE FUNCTION refuse_tenant()`);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  await loop.runOnce();
  t.equal(await dueNotes(ctx.db, neighbour), 0, "the neighbour's minutes were refreshed in the same round");
  await assertMaterialized(t, ctx.db, neighbour);
  t.equal(await dueNotes(ctx.db, ctx.tenant), 30, "the failing tenant's minutes stay noted");
  const metric = await ctx.deps.registry.getSingleMetric('strata_aggregate_refreshes_total')?.get();
  t.equal(metric?.values.find((value) => value.labels.result === 'failed')?.value, 1, 'its failed transaction is counted');
  await loop.runOnce();
  t.equal((await ctx.deps.registry.getSingleMetric('strata_aggregate_refreshes_total')?.get())?.values.find((value) => value.labels.result === 'failed')?.value, 1, 'not retried during its back-off');
  await ctx.db.query(`DROP TRIGGER refuse_tenant ON rollups_1m`);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await loop.runOnce();
  t.equal(await dueNotes(ctx.db, ctx.tenant), 0, 'retried after the back-off, it catches up (smaller claims first)');
  await assertMaterialized(t, ctx.db, ctx.tenant);
});
