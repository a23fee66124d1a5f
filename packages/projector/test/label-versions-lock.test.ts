import pg from 'pg';
import t from 'tap';
import { lockTenantLabelVersions, withTransaction } from '@strata/core';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { foldClaimedLabelSamples } from '../src/queries/fold-claimed-label-samples.ts';
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

/*
 * Decision 0115: the group levels and heads no longer hold the label versions lock; only the fold does.
 * Each case holds the refresher inside one of those steps by a row lock on a row it rewrites, and
 * writes a label under a 1 s lock timeout: before 0115 the refresher held the lock there, and the
 * write failed (the cases fail on the previous code).
 */
t.test("a label write goes through while the refresher recomputes a claim's group minutes; the minute ends exact", async (t) => {
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 3 });
  t.teardown(() => side.end());
  await ctx.project(events('a', 20));
  // Two rounds: the first folds the events' first labels after grouping the minute, which notes it
  // for the second (decision 0115).
  await ctx.refresh();
  await ctx.project(events('b', 20));

  const holder = await side.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  const held = await holder.query(`SELECT 1 FROM group_rollups_1m WHERE tenant_id = $1 AND bucket = $2 FOR UPDATE`, [ctx.tenant, new Date(M).toISOString()]);
  t.ok(held.rowCount, 'the premise: the group minute has rows to hold');
  const refreshing = refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE });
  await waitForLockWait(side, 'transactionid');
  t.equal(await materializedCount(ctx), 20, 'the premise: the claim is in progress (its device minute not committed)');

  await foldAsLabelWrite(side, ctx.tenant, [{ device: 'd0', label: 'zone', ts: Date.now(), value: 'south' }], 1000);
  t.pass('the label write committed within its lock timeout while the claim recomputed group minutes');

  await holder.query('COMMIT');
  t.equal((await refreshing).minutes, 1, 'the held refresher finished its claim');
  const group = await ctx.db.query(`SELECT label_value, sum(count)::int AS n FROM group_rollups_1m WHERE tenant_id = $1 AND bucket = $2 AND label = 'zone' GROUP BY 1`, [ctx.tenant, new Date(M).toISOString()]);
  t.same(group.rows, [{ label_value: 'north', n: 40 }], 'the group minute counts every labelled event once (the write starts after it)');
});

t.test('a label write goes through while the refresher moves group heads', async (t) => {
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 3 });
  t.teardown(() => side.end());
  // Members before the minute (heads read only versions), then events early in an open minute: the
  // refresher's clock is M + 10 s, then M + 40 s (watermarks 0.5 s behind, past each round's events).
  await foldAsLabelWrite(side, ctx.tenant, [0, 1].map((d) => ({ device: `d${d}`, label: 'zone', ts: M - 10 * MINUTE, value: 'north' })));
  const open = (prefix: string, from: number): unknown[] =>
    Array.from({ length: 10 }, (_, i) => ({ device: `d${i % 2}`, id: `${prefix}${i}`, ts: M + from + i * 1000, type: 'reading', values: { v: i } }));
  await ctx.project(open('a', 0));
  const first = await refreshAggregates(ctx.deps.pool, { now: M + 10_000 });
  t.equal(first.heads.advanced, 1, "the premise: the open minute's heads started");
  await ctx.project(open('b', 12_000));
  // The heads stop short of a drain their snapshot did not see (advance-group-heads.ts): this round
  // moves them to just before b's events and sees b's drain; the held round adds b's events.
  await refreshAggregates(ctx.deps.pool, { now: M + 40_000 });

  const holder = await side.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  const held = await holder.query(`SELECT 1 FROM group_minute_heads WHERE tenant_id = $1 AND bucket = $2 FOR UPDATE`, [ctx.tenant, new Date(M).toISOString()]);
  t.ok(held.rowCount, 'the premise: the head has rows to hold');
  let finished = false;
  const refreshing = refreshAggregates(ctx.deps.pool, { now: M + 40_000 }).finally(() => {
    finished = true;
  });
  await waitForLockWait(side, 'transactionid');
  t.notOk(finished, 'the premise: the heads are held');

  await foldAsLabelWrite(side, ctx.tenant, [{ device: 'd1', label: 'zone', ts: Date.now(), value: 'south' }], 1000);
  t.pass('the label write committed within its lock timeout while the heads moved');

  await holder.query('COMMIT');
  t.equal((await refreshing).heads.advanced, 1, 'the held heads moved once released');
  const head = await ctx.db.query(`SELECT sum(count)::int AS n FROM group_minute_heads WHERE tenant_id = $1 AND bucket = $2 AND label = 'zone' AND label_value = 'north' AND value_key = 'v'`, [ctx.tenant, new Date(M).toISOString()]);
  t.equal(head.rows[0].n, 20, "the head holds the minute's 20 events once, all before its watermark (M + 39.5 s)");
});

t.test('heads wait for a label write in progress, and never move past the instant it committed by', async (t) => {
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 3 });
  t.teardown(() => side.end());
  // An open minute of the real clock's, as a label write's instant is, and a heads clock ahead of it by
  // all but the minute's last 2 s (at least 3 s): without the bound the heads would move that far
  // past the database's clock. The clock is read again after the minute turned if it was about to.
  let now = Date.now();
  if (MINUTE - (now % MINUTE) < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, MINUTE - (now % MINUTE) + 10));
    now = Date.now();
  }
  const minute = now - (now % MINUTE);
  const ahead = minute + MINUTE - 2_000 - now;
  await foldAsLabelWrite(side, ctx.tenant, [{ device: 'd0', label: 'zone', ts: minute - 10 * MINUTE, value: 'north' }]);
  await ctx.project([{ device: 'd0', id: 'x0', ts: minute, type: 'reading', values: { v: 1 } }]);

  const writer = await side.connect();
  t.teardown(() => writer.release());
  await writer.query('BEGIN');
  await writer.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [ctx.tenant]);
  let finished = false;
  const refreshing = refreshAggregates(ctx.deps.pool, { now: minute + 1, headsClock: () => Date.now() + ahead, headLagMs: 0 }).finally(() => {
    finished = true;
  });
  await waitForLockWait(side, 'advisory');
  t.notOk(finished, 'the heads wait for the label write in progress');
  const committed = await writer.query(`SELECT (extract(epoch FROM date_trunc('milliseconds', clock_timestamp())) * 1000)::float8 AS at`);
  await writer.query('COMMIT');
  const done = await refreshing;
  t.equal(done.heads.advanced, 1, 'then they move');
  const mark = await ctx.db.query(`SELECT (extract(epoch FROM through) * 1000)::float8 AS through, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS after FROM group_minute_marks WHERE tenant_id = $1 AND bucket = $2`, [ctx.tenant, new Date(minute).toISOString()]);
  t.ok(mark.rows[0].through >= committed.rows[0].at, "the watermark is at or after the write's last instant");
  t.ok(mark.rows[0].through <= mark.rows[0].after, `and not past the database clock, though the heads clock ran ${ahead} ms ahead`);
});

t.test("the fold reads the claimed minutes' history before it takes the label versions lock", async (t) => {
  const ctx = await startTestProjector(t);
  await ctx.project(events('a', 20));
  let atLock: { keys: number; held: number } | undefined;
  const outcome = await withTransaction(ctx.deps.pool, (client) =>
    foldClaimedLabelSamples(client, { tenantId: ctx.tenant, minutes: [new Date(M).toISOString()] }, async () => {
      const seen = await client.query(
        `SELECT (SELECT count(*) FROM claimed_label_keys)::int AS keys,
                (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND classid = 60060)::int AS held`,
      );
      atLock = seen.rows[0];
      await lockTenantLabelVersions(client, ctx.tenant);
    }),
  );
  t.same(atLock, { keys: 2, held: 0 }, "history was reduced to its two (device, label) keys, and the lock not yet held, when the lock was asked for");
  t.equal(outcome.samples, 20, 'then every sample was folded');
  t.same([...outcome.devices].sort(), ['d0', 'd1'], 'both devices got their first version');
});

t.test("a claim waits for a label write in progress, so an event drained after the write's look-up is grouped under the new label", async (t) => {
  // Review of decision 0115: the write looks up the device's history when it folds (none after its
  // instant yet: nothing to note); the event drained after that, inside the changed range, is noted
  // by no one. A claim grouping the minute before the write commits would count it under the old label
  // for good; the claim's barrier makes it wait for the write instead.
  const ctx = await startTestProjector(t);
  const side = new pg.Pool({ connectionString: ctx.deps.config.databaseUrl, max: 3 });
  t.teardown(() => side.end());
  await foldAsLabelWrite(side, ctx.tenant, [{ device: 'd0', label: 'zone', ts: M - 10 * MINUTE, value: 'north' }]);
  await ctx.project(Array.from({ length: 10 }, (_, i) => ({ device: 'd0', id: `a${i}`, ts: M + i * 1000, type: 'reading', values: { v: i } })));

  const writer = await side.connect();
  t.teardown(() => writer.release());
  await writer.query('BEGIN');
  await lockTenantLabelVersions(writer, ctx.tenant);
  const folded = await writer.query(
    `SELECT note_label_changes($1, (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM fold_label_samples($1, $2::jsonb) c))::int AS notes`,
    [ctx.tenant, JSON.stringify([{ device: 'd0', label: 'zone', ts: new Date(M + 30_000).toISOString(), value: 'south', origin: 'a' }])],
  );
  t.equal(folded.rows[0].notes, 0, 'the premise: the write saw no event after its instant, and noted nothing');
  await ctx.project([{ device: 'd0', id: 'late', ts: M + 40_000, type: 'reading', values: { v: 100 } }]);

  let finished = false;
  const refreshing = refreshAggregates(ctx.deps.pool, { now: M + 2 * MINUTE }).finally(() => {
    finished = true;
  });
  await waitForLockWait(side, 'advisory');
  t.notOk(finished, 'the claim waits for the label write in progress');
  await writer.query('COMMIT');
  t.equal((await refreshing).minutes, 1, 'then claims the minute');
  await ctx.refresh();
  const group = await ctx.db.query(
    `SELECT label_value, sum(count)::int AS n FROM group_rollups_1m WHERE tenant_id = $1 AND bucket = $2 AND label = 'zone' GROUP BY 1 ORDER BY 1`,
    [ctx.tenant, new Date(M).toISOString()],
  );
  t.same(group.rows, [{ label_value: 'north', n: 10 }, { label_value: 'south', n: 1 }], 'the event after the write counts in its new group, the ten before in the old');
});
