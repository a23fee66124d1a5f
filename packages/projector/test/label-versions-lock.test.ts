import pg from 'pg';
import t from 'tap';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { foldAsLabelWrite } from './fold-as-label-write.ts';
import { startTestProjector, type ProjectorTestContext } from './start-test-projector.ts';

/*
 * Decision 0113: a label write (command-api's PUT/PATCH: the label versions lock, class 60060, with a
 * lock timeout) waits for the refresher only while the refresher is in its label steps, never while it
 * recomputes a claim's device minutes; the refresher still takes that lock before folding, and two
 * refreshers of a tenant still exclude each other (class 60061). The refresher is held inside its
 * device minutes by a row lock on the minute it rewrites, so every wait here is a real lock wait.
 */
const MINUTE = 60_000;
const M = Date.UTC(2026, 10, 20, 8, 15, 0);

const events = (prefix: string, n: number): unknown[] =>
  Array.from({ length: n }, (_, i) => ({ device: `d${i % 2}`, id: `${prefix}${i}`, ts: M + i * 1000, type: 'reading', values: { v: i }, labels: { zone: 'north' } }));

/** Waits until some backend of the database waits on a lock of this kind (e.g. 'transactionid', 'advisory'). */
async function waitForLockWait(db: pg.Pool, kind: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const waiting = await db.query(`SELECT 1 FROM pg_locks l WHERE NOT l.granted AND l.locktype = $1 AND l.database IS NOT DISTINCT FROM (CASE WHEN $1 = 'advisory' THEN (SELECT oid FROM pg_database WHERE datname = current_database()) ELSE l.database END)`, [kind]);
    if (waiting.rowCount) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no backend waited on a ${kind} lock within 10 s`);
}

async function materializedCount(ctx: ProjectorTestContext): Promise<number> {
  const rows = await ctx.db.query(`SELECT coalesce(sum(count), 0)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND bucket = $2`, [ctx.tenant, new Date(M).toISOString()]);
  return rows.rows[0].n;
}

t.test('a label write goes through while the refresher recomputes device minutes; a second refresher still skips the tenant', async (t) => {
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 3 });
  t.teardown(() => side.end());
  await ctx.project(events('a', 20));
  t.equal((await refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE })).minutes, 1, 'the minute materialized once');
  await ctx.project(events('b', 20));

  // Hold a row of the minute the refresher will rewrite: it blocks inside its device minutes.
  const holder = await side.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query(`SELECT 1 FROM rollups_1m WHERE tenant_id = $1 AND bucket = $2 FOR UPDATE`, [ctx.tenant, new Date(M).toISOString()]);
  const refreshing = refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE });
  await waitForLockWait(side, 'transactionid');

  // Before decision 0113 the write waited for the whole claim and failed past its timeout (503).
  await foldAsLabelWrite(side, ctx.tenant, [{ device: 'd0', label: 'zone', ts: Date.now(), value: 'south' }], 1000);
  t.pass('the label write committed within its lock timeout while the claim held the tenant');
  const other = await refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE });
  t.equal(other.skippedTenants, 1, 'a second refresher leaves the tenant to the one refreshing it');
  t.equal(other.minutes, 0);

  await holder.query('COMMIT');
  const done = await refreshing;
  t.equal(done.minutes, 1, 'the held refresher finished its claim');
  t.equal(await materializedCount(ctx), 40, 'the minute holds every event once');
  const versions = await ctx.db.query(`SELECT value, origin FROM label_versions WHERE tenant_id = $1 AND device = 'd0' ORDER BY valid_from`, [ctx.tenant]);
  t.same(versions.rows, [{ value: 'north', origin: 'e' }, { value: 'south', origin: 'a' }], "the events' label, then the API's");
  const group = await ctx.db.query(`SELECT label_value, sum(count)::int AS n FROM group_rollups_1m WHERE tenant_id = $1 AND bucket = $2 AND label = 'zone' GROUP BY 1`, [ctx.tenant, new Date(M).toISOString()]);
  t.same(group.rows, [{ label_value: 'north', n: 40 }], 'the group minute counts every labelled event once');
});

t.test('the refresher waits for a label write in progress before its label steps, then completes', async (t) => {
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 2 });
  t.teardown(() => side.end());
  await ctx.project(events('a', 20));
  const writer = await side.connect();
  t.teardown(() => writer.release());
  await writer.query('BEGIN');
  await writer.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [ctx.tenant]);
  let finished = false;
  const refreshing = refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE }).finally(() => {
    finished = true;
  });
  await waitForLockWait(side, 'advisory');
  t.notOk(finished, 'the refresher waits on the label versions lock, it does not skip the tenant');
  await writer.query('COMMIT');
  const done = await refreshing;
  t.equal(done.minutes, 1);
  t.equal(done.skippedTenants, 0);
  t.equal(done.labelSamples > 0, true, "the minute's label samples were folded");
  t.equal(await materializedCount(ctx), 20);
});
