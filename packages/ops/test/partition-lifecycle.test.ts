import t from 'tap';
import { createPool, type Clock } from '@strata/core';
import { createTestEnvironment, seedEvents } from '@strata/testkit';
import type { MaintenanceJobDeps } from '../src/jobs/maintenance-job.ts';
import { maintenanceJobs } from '../src/jobs/maintenance-jobs.ts';
import { partitionAnalyzeJob } from '../src/jobs/partition-analyze-job.ts';
import { partitionDefaultMoveJob } from '../src/jobs/partition-default-move-job.ts';
import { partitionPremakeJob } from '../src/jobs/partition-premake-job.ts';
import { partitionRetentionJob } from '../src/jobs/partition-retention-job.ts';
import { missingPartitions } from '../src/partitions/missing-partitions.ts';
import { utcDay } from '../src/partitions/utc-day.ts';
import { listEventPartitions } from '../src/queries/list-event-partitions.ts';

const DAY = 86_400_000;
const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 6, applicationName: 'ops-lifecycle-test' }, logger);
t.teardown(() => pool.end());
const clock: Clock = { now: () => Date.now() };
const deps: MaintenanceJobDeps = { pool, clock, logger, retentionDays: 30, aggregateRetentionDays: 400, maxFutureSkewMs: 3_600_000 };
const tenant = '6f1c1a52-1111-4a4a-9b9b-000000000002';
const names = async (): Promise<string[]> => (await listEventPartitions(pool)).map((p) => p.name);
const partition = (ms: number): string => `events_${utcDay(ms).replaceAll('-', '')}`;

/** Events of `device` at `times`, through the projection (history rows land wherever its day lives). */
async function insertEvents(device: string, times: number[]): Promise<void> {
  await seedEvents(pool, times.map((ts, n) => ({ tenantId: tenant, device, ts, key: `k${n + 1}`, values: { v: 1 } })));
}

t.test('rows in DEFAULT (far future, days back) move into day partitions, readable throughout', async (t) => {
  // 01:00 UTC of each day, so the 300 and 200 seconds of events stay within one day whatever the
  // time of the run (from 23:55 UTC they used to spill into the next day's partition).
  const dayStart = (ms: number): number => Math.floor(ms / DAY) * DAY + 3_600_000;
  const future = dayStart(Date.now() + 200 * DAY);
  const past = dayStart(Date.now() - 20 * DAY);
  const times = [...Array.from({ length: 300 }, (_, i) => future + i * 1000), ...Array.from({ length: 200 }, (_, i) => past + i * 1000)];
  await insertEvents('far', times);
  const inDefault = await pool.query(`SELECT count(*)::int AS n FROM events_default`);
  t.equal(inDefault.rows[0].n, 500, 'both days land in DEFAULT');
  t.equal((await partitionPremakeJob.run({ ...deps, clock: { now: () => future - DAY } })).result, 'completed', 'premake skips a day held in DEFAULT instead of failing');

  let reading = true;
  const seen: number[] = [];
  const reader = (async () => {
    while (reading) {
      const result = await pool.query(`SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1 AND device = 'far'`, [tenant]);
      seen.push(result.rows[0].n);
    }
  })();
  const outcome = await partitionDefaultMoveJob.run({ ...deps, maxFutureSkewMs: 366 * DAY }); // rows accepted under a wide skew
  reading = false;
  await reader;
  t.equal(outcome.result, 'completed');
  const moved = outcome.detail?.moved as Record<string, number>;
  t.equal(Object.values(moved).reduce((a, b) => a + b, 0), 500);
  t.ok(seen.length > 0 && seen.every((n) => n === 500), `every read during the move saw all 500 rows (${seen.length} reads)`);
  const after = await names();
  t.ok(after.includes(partition(future)) && after.includes(partition(past)), 'the days are partitions now');
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM events_default`)).rows[0].n, 0, 'DEFAULT is empty');
  const routed = await pool.query(`SELECT e.tableoid::regclass::text AS part, count(*)::int AS n FROM events e JOIN devices d USING (device_no) WHERE d.device = 'far' GROUP BY 1 ORDER BY 1`);
  t.same(routed.rows.map((r) => r.n).sort(), [200, 300]);
  const again = await partitionDefaultMoveJob.run({ ...deps, maxFutureSkewMs: 366 * DAY });
  t.same(again.detail?.moved, {}, 'idempotent');
  await insertEvents('far2', [future + 5000]);
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM events_default`)).rows[0].n, 0, 'new rows of that day go to its partition');
  await everyPartitionSummarizedByOps(t); // the moved days' too
});

/**
 * Decision 0106: every partition of events (made by the migrations, by premake, by the DEFAULT mover)
 * has exactly one BRIN index, attached to events_ts_brin_idx, that does not ask autovacuum to summarize
 * its ranges (ops does): with autosummarize on, each full page range queued a work item, and a full
 * queue logged the inserting statement for every range.
 */
async function everyPartitionSummarizedByOps(t: { same(found: unknown, wanted: unknown, message: string): boolean }): Promise<void> {
  const result = await pool.query<{ partition: string; brin: number; attached: number; asking: number }>(
    `SELECT p.inhrelid::regclass::text AS partition,
            count(i.indexrelid)::int AS brin,
            count(h.inhrelid)::int AS attached,
            count(*) FILTER (WHERE NOT coalesce(c.reloptions @> ARRAY['autosummarize=off'], false))::int AS asking
       FROM pg_inherits p
       JOIN pg_index i ON i.indrelid = p.inhrelid
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_am a ON a.oid = c.relam AND a.amname = 'brin'
       LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid AND h.inhparent = 'events_ts_brin_idx'::regclass
      WHERE p.inhparent = 'events'::regclass
      GROUP BY 1 ORDER BY 1`,
  );
  const partitions = await names();
  t.same(result.rows.map((row) => row.partition).sort(), [...partitions].sort(), 'every partition has a BRIN index');
  t.same(result.rows.filter((row) => row.brin !== 1 || row.attached !== 1 || row.asking !== 0), [], 'one each, attached to the parent, none asking autovacuum');
}

t.test('partitions made by premake, as those the migrations made, leave their BRIN ranges to ops', async (t) => {
  t.equal((await partitionPremakeJob.run({ ...deps, clock: { now: () => Date.now() + 400 * DAY } })).result, 'completed');
  t.ok((await names()).includes(partition(Date.now() + 400 * DAY)), 'premake made a partition of that day');
  await everyPartitionSummarizedByOps(t);
});

t.test('retention drops only expired days, keeps a day whose events are still staged, and reads of kept data are unaffected', async (t) => {
  const now = Date.now();
  await pool.query('SELECT ensure_event_partitions($1::date, 6)', [utcDay(now, -36)]); // -36 .. -31
  await insertEvents('old', [now - 35 * DAY, now - 33 * DAY]);
  await insertEvents('kept', [now - 2 * DAY, now - 3600_000]);
  await pool.query(
    `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values")
     VALUES (gen_random_uuid(), $1, 'pending', 'p', $2, 'reading', '{}')`,
    [tenant, new Date(now - 33 * DAY).toISOString()],
  );
  await insertEvents('oldDefault', [Date.UTC(2001, 0, 1)]);
  const outcome = await partitionRetentionJob.run(deps);
  t.equal(outcome.result, 'completed');
  t.ok((outcome.detail?.dropped as string[]).includes(partition(now - 35 * DAY)));
  t.same(outcome.detail?.kept, [partition(now - 33 * DAY)], 'the day with a staged event is kept');
  t.equal(outcome.detail?.defaultRows, 1, 'expired rows in DEFAULT are deleted');
  const left = await names();
  t.notOk(left.includes(partition(now - 35 * DAY)));
  t.ok(left.includes(partition(now - 33 * DAY)));
  const kept = await pool.query(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'kept'`);
  t.equal(kept.rows[0].n, 2, 'retained data reads as before');
  await pool.query(`DELETE FROM staging_events`);
  const later = await partitionRetentionJob.run(deps);
  t.same(later.detail?.dropped, [partition(now - 33 * DAY)], 'dropped once its work is done');
});

t.test('a day the mover cannot move is skipped and reported; the others still move; no partition beyond the horizon', async (t) => {
  const now = Date.now();
  await insertEvents('y9999', [Date.parse('9999-12-31T12:00:00Z')]);
  await insertEvents('beyond', [now + 30 * DAY]); // past today + 1 h skew + the premake horizon
  await insertEvents('movable', [now - 4 * DAY]);
  await insertEvents('blocked', [now - 5 * DAY]);
  // A hand-made table holding the name the blocked day's partition would take.
  await pool.query(`CREATE TABLE ${partition(now - 5 * DAY)} (note text)`);
  const before = new Set(await names());
  const outcome = await partitionDefaultMoveJob.run(deps);
  t.equal(outcome.result, 'completed');
  t.equal((outcome.detail?.moved as Record<string, number>)[partition(now - 4 * DAY)], 1, 'the movable day moved');
  const skipped = outcome.detail?.skipped as Record<string, string>;
  t.same(Object.keys(skipped).sort(), [utcDay(now - 5 * DAY), utcDay(now + 30 * DAY), '9999-12-31'].sort(), 'each other day skipped, with why');
  t.match(skipped[utcDay(now - 5 * DAY)], /already exists/);
  t.match(skipped['9999-12-31'], /beyond/);
  const left = await pool.query(`SELECT d.device FROM events_default e JOIN devices d USING (device_no) ORDER BY d.device`);
  t.same(left.rows.map((r) => r.device), ['beyond', 'blocked', 'y9999'], 'skipped rows stay in DEFAULT, readable');
  const made = (await names()).filter((name) => !before.has(name));
  t.ok(made.includes(partition(now - 4 * DAY)) && made.every((name) => name <= partition(now + 9 * DAY)), `no partition made past the horizon (${made.join(', ')})`);
  const again = await partitionDefaultMoveJob.run(deps);
  t.same(again.detail?.moved, {}, 'every run completes (no day fails the others)');
  await pool.query(`DROP TABLE ${partition(now - 5 * DAY)}`);
  await pool.query(`DELETE FROM events_default WHERE device_no IN (SELECT device_no FROM devices WHERE device IN ('y9999', 'beyond'))`);
  t.same((await partitionDefaultMoveJob.run(deps)).detail?.moved, { [partition(now - 5 * DAY)]: 1 }, 'the blocked day moves once its name is free');
});

t.test('dead letters pin no partition: retention drops their days (they hold their own copy)', async (t) => {
  const now = Date.now();
  await pool.query('SELECT ensure_event_partitions($1::date, 1)', [utcDay(now, -40)]);
  await insertEvents('dead-day', [now - 40 * DAY]);
  await pool.query(
    `INSERT INTO dead_letters (event_digest, batch_id, last_batch_id, tenant_id, device, ts, event, sqlstate, reason)
     VALUES ('d1', gen_random_uuid(), gen_random_uuid(), $1, 'dead-day', $2, '{}', '22003', 'value out of range: overflow')`,
    [tenant, new Date(now - 40 * DAY).toISOString()],
  );
  const outcome = await partitionRetentionJob.run(deps);
  t.ok((outcome.detail?.dropped as string[]).includes(partition(now - 40 * DAY)), 'the day is dropped');
  t.equal((await pool.query('SELECT count(*)::int AS n FROM dead_letters')).rows[0].n, 1, 'the dead letter keeps its event');
});

t.test('analyze refreshes the filling partitions', async (t) => {
  await partitionPremakeJob.run(deps);
  const outcome = await partitionAnalyzeJob.run(deps);
  t.same(outcome.detail?.analyzed, [partition(Date.now() - DAY), partition(Date.now())]);
  const stats = await pool.query(`SELECT last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relname = $1`, [partition(Date.now())]);
  t.same(stats.rows, [{ analyzed: true }]);
});

t.test('two ops instances ticking together: every job runs once per tick at most, and no partition is missing', async (t) => {
  const other = createPool({ connectionString: config.databaseUrl, max: 3, applicationName: 'ops-lifecycle-test-2' }, logger);
  t.teardown(() => other.end());
  await pool.query(`DROP TABLE ${partition(Date.now() + 2 * DAY)}`);
  for (let tick = 0; tick < 5; tick++) {
    for (const job of maintenanceJobs) {
      const outcomes = await Promise.all([job.run(deps), job.run({ ...deps, pool: other })]);
      const completed = outcomes.filter((outcome) => outcome.result === 'completed').length;
      t.ok(completed >= 1, `${job.name} tick ${tick}: ran (${outcomes.map((o) => o.result).join(', ')})`);
    }
  }
  t.same(missingPartitions(await names(), Date.now(), 7), [], 'no partition missing');
});
