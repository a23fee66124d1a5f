import t from 'tap';
import { randomUUID } from 'node:crypto';
import { INGEST_JOB, type BatchEvent } from '@strata/core';
import { projectSplittingRefused } from '../src/processors/project-splitting-refused.ts';
import { startTestProjector, type ProjectorTestContext } from './start-test-projector.ts';

/*
 * Issue 9, finding 2, behind the door: events PostgreSQL refuses reach the projector in jobs built
 * here directly (command-api refuses them at the door), mixed into another tenant's batch.
 */
const MINUTE = Date.UTC(2026, 10, 20, 12, 0);

async function waitApplied(ctx: ProjectorTestContext, batchId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await ctx.db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId])).rowCount) return;
    const job = await ctx.queue.getJob(batchId);
    if (job?.failedReason) throw new Error(`batch failed: ${job.failedReason}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`batch ${batchId} not applied`);
}

async function enqueue(ctx: ProjectorTestContext, events: BatchEvent[], batchId = randomUUID()): Promise<string> {
  await ctx.queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events }, { jobId: randomUUID(), attempts: 3 });
  await waitApplied(ctx, batchId);
  return batchId;
}

/** Seeded shuffle, so a failure is reproducible. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

t.test("one tenant's refused events never fail another's: the batch is split, only they are dead-lettered", async (t) => {
  const ctx = await startTestProjector(t);
  const tenantA = ctx.tenant;
  const tenantB = (await ctx.db.query(`INSERT INTO tenants (name) VALUES ('b') RETURNING id`)).rows[0].id as string;
  const good: BatchEvent[] = Array.from({ length: 500 }, (_, i) => ({
    tenantId: tenantB, device: `b${i % 10}`, key: `i:b${i}`, ts: MINUTE + i * 100, type: 'reading', values: { n: i, temp: 20 + (i % 7) },
  }));
  const a = (key: string, values: BatchEvent['values'], extra: Partial<BatchEvent> = {}): BatchEvent => ({
    tenantId: tenantA, device: 'a1', key, ts: MINUTE + 5000, type: 'reading', values, ...extra,
  });
  const bad: BatchEvent[] = [
    // Storable: sums are numeric and off the hot path now (decision 0060), so two of these in one
    // minute no longer overflow anything (they did, 22003, while float8 rollups were summed here).
    a('i:big1', { x: 1.7e308 }),
    a('i:big2', { x: 1.7e308 }, { ts: MINUTE + 6000 }),
    a('i:nul', { s: 'a\u0000b' }), // jsonb refuses U+0000 (22P05)
    a('i:surrogate', { s: 'x\ud800y' }), // jsonb refuses a lone surrogate
    a('i:key\u0000', { v: 1 }), // text refuses NUL (22021)
  ];
  const batchId = randomUUID();
  const mixed = shuffle([...good, ...bad], 9);
  // Staged as command-api would have (only what text can hold; the job is the full copy).
  await ctx.db.query(
    `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values")
     SELECT $1, $2, 'b0', k, now(), 'reading', '{}' FROM unnest($3::text[]) k`,
    [batchId, tenantB, good.map((e) => e.key)],
  );
  await enqueue(ctx, mixed, batchId);

  const history = await ctx.db.query('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [tenantB]);
  t.equal(history.rows[0].n, 500, "all of B's 500 events are in history");
  const states = await ctx.db.query(`SELECT device, "values" FROM device_state WHERE tenant_id = $1 ORDER BY device`, [tenantB]);
  t.equal(states.rowCount, 10);
  t.same(states.rows.find((row) => row.device === 'b9')?.values, { n: 499, temp: 20 + (499 % 7) }, "B's latest state is its newest event");
  await ctx.refresh();
  const rollup = await ctx.db.query(`SELECT sum(count)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND value_key = 'n'`, [tenantB]);
  t.equal(rollup.rows[0].n, 500, "B's events are counted once in rollups");

  const dead = await ctx.db.query(
    `SELECT tenant_id, device, sqlstate, reason, batch_id, failures, event FROM dead_letters ORDER BY id`,
  );
  t.equal(dead.rowCount, 3, 'three refused events, one row each');
  t.ok(dead.rows.every((row) => row.tenant_id === tenantA && row.batch_id === batchId && row.failures === 1), "only A's events, with their batch");
  const byKey = new Map(dead.rows.map((row) => [(JSON.parse(row.event) as BatchEvent).key, row]));
  t.same([...byKey.keys()].sort(), ['i:key\u0000', 'i:nul', 'i:surrogate'].sort(), 'the stored copy is the very event, NUL included');
  t.ok(dead.rows.every((row) => /^22/.test(row.sqlstate) && row.reason.length > 0), 'each with its SQLSTATE and message');
  const bigOnes = await ctx.db.query(`SELECT event_key FROM tenant_events WHERE tenant_id = $1 ORDER BY event_key`, [tenantA]);
  t.same(bigOnes.rows, [{ event_key: 'i:big1' }, { event_key: 'i:big2' }], "A's storable events are projected too");
  const huge = await ctx.db.query(`SELECT count::int, sum::text FROM rollups_1m WHERE tenant_id = $1 AND value_key = 'x'`, [tenantA]);
  t.same(huge.rows, [{ count: 2, sum: (340n * 10n ** 306n).toString() }], 'their exact sum, past float8, is kept');

  const applied = await ctx.db.query('SELECT event_count, inserted FROM applied_batches WHERE batch_id = $1', [batchId]);
  t.same(applied.rows, [{ event_count: 505, inserted: 502 }], 'the batch is applied once all of it is done');
  t.equal((await ctx.db.query('SELECT count(*)::int AS n FROM staging_events')).rows[0].n, 0, 'and unstaged: nothing pins its days');

  // The same device, value and hour afterwards: the overflow stays with the refused event.
  await enqueue(ctx, [a('i:later', { x: 5 }, { ts: MINUTE + 30 * 60_000 }), { ...good[0]!, key: 'i:later-b', ts: MINUTE + 1 }]);
  await ctx.refresh();
  const later = await ctx.db.query(`SELECT count::int FROM rollups_1h WHERE tenant_id = $1 AND value_key = 'x'`, [tenantA]);
  t.same(later.rows, [{ count: 3 }], 'a later batch touching the bucket is projected');

  // A duplicate run of the done job (a lapsed lock, a re-sent batch) adds nothing anywhere.
  await ctx.queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events: mixed }, { jobId: `again-${batchId}` });
  for (let i = 0; i < 400 && !(await (await ctx.queue.getJob(`again-${batchId}`))?.isCompleted()); i++) await new Promise((r) => setTimeout(r, 25));
  t.equal((await ctx.db.query('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [tenantB])).rows[0].n, 501, '500 and the later one');
  await ctx.refresh();
  t.equal((await ctx.db.query(`SELECT sum(count)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND value_key = 'n'`, [tenantB])).rows[0].n, 501);
  t.same((await ctx.db.query('SELECT sum(failures)::int AS n, count(*)::int AS c FROM dead_letters')).rows[0], { n: 3, c: 3 }, 'no dead letter recorded twice');
});

t.test('a crash in the middle of a split: the parts already committed count once when the job runs again', async (t) => {
  const ctx = await startTestProjector(t);
  const events: BatchEvent[] = Array.from({ length: 64 }, (_, i) => ({
    tenantId: ctx.tenant, device: `c${i % 4}`, key: `i:c${i}`, ts: MINUTE + i * 1000, type: 'reading', values: { v: i },
  }));
  events.splice(40, 0, { tenantId: ctx.tenant, device: 'c0', key: 'i:poison', ts: MINUTE, type: 'reading', values: { s: '\u0000' } });
  const batchId = randomUUID();
  // The first run projects every part, then "dies" before finishing the batch.
  const first = await projectSplittingRefused(ctx.deps.pool, batchId, events);
  t.equal(first.refused.length, 1);
  t.equal(first.inserted, 64);
  t.equal((await ctx.db.query('SELECT count(*)::int AS n FROM applied_batches WHERE batch_id = $1', [batchId])).rows[0].n, 0, 'not applied before it is finished');
  const version = (await ctx.db.query(`SELECT version::int FROM device_state WHERE device = 'c1'`)).rows[0].version;
  await enqueue(ctx, events, batchId);
  t.equal((await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events`)).rows[0].n, 64);
  await ctx.refresh();
  t.equal((await ctx.db.query(`SELECT sum(count)::int AS n FROM rollups_1m WHERE value_key = 'v'`)).rows[0].n, 64, 'rollups count each event once');
  t.equal((await ctx.db.query(`SELECT sum(count)::int AS n FROM event_counts_1m`)).rows[0].n, 64);
  t.equal((await ctx.db.query(`SELECT version::int FROM device_state WHERE device = 'c1'`)).rows[0].version, version, 'device state untouched by the re-run');
  t.same((await ctx.db.query('SELECT inserted FROM applied_batches WHERE batch_id = $1', [batchId])).rows, [{ inserted: 0 }]);
  t.equal((await ctx.db.query('SELECT count(*)::int AS n FROM dead_letters')).rows[0].n, 1);
});
