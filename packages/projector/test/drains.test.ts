import t from 'tap';
import { randomUUID } from 'node:crypto';
import { INGEST_JOB, type BatchEvent } from '@strata/core';
import { createTenant, stageEvents } from '@strata/testkit';
import { HistoryConflictMemory } from '../src/processors/history-conflict-memory.ts';
import { projectStagedDrain } from '../src/queries/project-batch.ts';
import { startTestProjector, type ProjectorTestContext } from './start-test-projector.ts';

/*
 * Issue 10: the jobs active at once are projected in one transaction (a drain). The guarantees of
 * one batch hold for a drain: each event stored once (also when two batches of a drain carry it),
 * each batch applied with its own counts, latest state order-independent, and one batch's refused
 * data never fails the others it was drained with.
 */
const BASE = Date.UTC(2026, 10, 20, 12, 0);

async function waitAllApplied(ctx: ProjectorTestContext, batchIds: string[]): Promise<void> {
  for (let i = 0; i < 800; i++) {
    const done = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM applied_batches WHERE batch_id = ANY($1::uuid[])', [batchIds]);
    if (done.rows[0]?.n === batchIds.length) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('batches not applied');
}

/** Enqueues every batch before the worker can take one, so the jobs are active together. */
async function enqueueAll(ctx: ProjectorTestContext, batches: BatchEvent[][]): Promise<string[]> {
  await ctx.queue.pause();
  const ids = batches.map(() => randomUUID());
  await ctx.queue.addBulk(batches.map((events, index) => ({
    name: INGEST_JOB, data: { batchId: ids[index] as string, acceptedAt: Date.now(), events }, opts: { jobId: ids[index] as string, attempts: 3 },
  })));
  await ctx.queue.resume();
  await waitAllApplied(ctx, ids);
  return ids;
}

t.test('concurrent jobs are drained together with the guarantees of one batch', async (t) => {
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 1, projectorDrainMaxEvents: 5000 });
  const event = (i: number, device: string, ts: number): BatchEvent => ({
    tenantId: ctx.tenant, device, key: `i:e${i}`, ts, type: 'reading', values: { n: i },
  });
  // 24 batches of 50 over 20 devices, times shuffled across batches; batch 5 repeats batch 4's events.
  const batches: BatchEvent[][] = Array.from({ length: 24 }, (_, b) =>
    Array.from({ length: 50 }, (_, k) => {
      const i = b * 50 + k;
      return event(i, `d${i % 20}`, BASE + ((i * 7919) % 1200) * 1000);
    }),
  );
  batches[5] = batches[4] as BatchEvent[];
  const ids = await enqueueAll(ctx, batches);

  const stored = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(stored.rows[0]?.n, 23 * 50, 'every distinct event stored once (batch 5 repeated batch 4)');
  const applied = await ctx.db.query<{ batch_id: string; event_count: number; inserted: number }>(
    'SELECT batch_id, event_count, inserted FROM applied_batches WHERE batch_id = ANY($1::uuid[])',
    [ids],
  );
  t.equal(applied.rowCount, 24, 'every batch applied');
  t.ok(applied.rows.every((row) => row.event_count === 50), 'each with its own event count');
  const inserted = applied.rows.reduce((sum, row) => sum + Number(row.inserted), 0);
  t.equal(inserted, 23 * 50, 'inserted counts add up to what history holds');
  t.equal((await ctx.db.query('SELECT 1 FROM staging_events')).rowCount, 0, 'nothing left staged');

  // Latest state per device: the value with the newest event time, whatever the drain order.
  const newest = new Map<string, { ts: number; n: number }>();
  for (const batch of batches) for (const e of batch) {
    const current = newest.get(e.device);
    if (!current || e.ts > current.ts) newest.set(e.device, { ts: e.ts, n: e.values.n as number });
  }
  const states = await ctx.db.query<{ device: string; values: { n: number } }>('SELECT device, "values" FROM device_state WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(states.rowCount, 20);
  t.ok(states.rows.every((row) => row.values.n === newest.get(row.device)?.n), 'every device holds its newest value');

  const drained = await ctx.deps.registry.getSingleMetric('strata_drain_batches')?.get();
  const sample = (name: string): number => drained?.values.find((v) => (v as { metricName?: string }).metricName === name)?.value ?? 0;
  const sum = sample('strata_drain_batches_sum');
  const count = sample('strata_drain_batches_count');
  t.equal(sum, 24, 'every batch went through a drain');
  t.ok(count < 24, `fewer transactions than batches (${count} drains for 24 batches)`);
});

t.test("a drain holding one batch the database refuses: the others are projected, only the refused event is dead-lettered", async (t) => {
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 1 });
  const good = (b: number): BatchEvent[] =>
    Array.from({ length: 20 }, (_, k) => ({ tenantId: ctx.tenant, device: `g${k % 5}`, key: `i:g${b}-${k}`, ts: BASE + b * 1000 + k, type: 'reading', values: { v: k } }));
  const poisoned: BatchEvent[] = [
    ...good(99).slice(0, 5),
    { tenantId: ctx.tenant, device: 'bad', key: 'i:nul', ts: BASE, type: 'reading', values: { s: 'a\u0000b' } },
  ];
  const batches = [good(1), good(2), poisoned, good(3), good(4)];
  await enqueueAll(ctx, batches);
  const stored = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(stored.rows[0]?.n, 4 * 20 + 5, 'every good event of every batch stored');
  const dead = await ctx.db.query<{ device: string }>('SELECT device FROM dead_letters');
  t.same(dead.rows.map((row) => row.device), ['bad'], 'only the refused event is dead-lettered');
});

t.test('staged batches are moved out of staging; batches staging lost are projected from their jobs; the same guarantees', async (t) => {
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 1, projectorDrainMaxEvents: 5000 });
  const event = (i: number): BatchEvent => ({
    tenantId: ctx.tenant, device: `d${i % 7}`, key: `i:s${i}`, ts: BASE + ((i * 7919) % 900) * 1000, type: 'reading', values: { n: i, [`k${i % 3}`]: i },
  });
  // 12 batches of 30; even batches staged (the usual case), odd ones not (staging truncated by a crash);
  // batch 3 repeats batch 2's events, so a staged and a job-borne copy of one event meet.
  const batches: BatchEvent[][] = Array.from({ length: 12 }, (_, b) => Array.from({ length: 30 }, (_, k) => event(b * 30 + k)));
  batches[3] = batches[2] as BatchEvent[];
  await ctx.queue.pause();
  const ids = batches.map(() => randomUUID());
  for (const [b, events] of batches.entries()) if (b % 2 === 0) await stageEvents(ctx.db, events, ids[b] as string);
  await ctx.queue.addBulk(batches.map((events, index) => ({
    name: INGEST_JOB, data: { batchId: ids[index] as string, acceptedAt: Date.now(), events }, opts: { jobId: ids[index] as string, attempts: 3 },
  })));
  await ctx.queue.resume();
  await waitAllApplied(ctx, ids);

  t.equal((await ctx.db.query('SELECT 1 FROM staging_events')).rowCount, 0, 'every staged row moved out');
  const stored = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(stored.rows[0]?.n, 11 * 30, 'every distinct event stored once');
  const applied = await ctx.db.query<{ event_count: number; inserted: number }>('SELECT event_count, inserted FROM applied_batches WHERE batch_id = ANY($1::uuid[])', [ids]);
  t.equal(applied.rowCount, 12, 'every batch applied once');
  t.ok(applied.rows.every((row) => row.event_count === 30), 'each with its own event count');
  t.equal(applied.rows.reduce((sum, row) => sum + Number(row.inserted), 0), 11 * 30, 'inserted counts add up to history');

  // Latest state per value: the newest event time wins, whichever path carried the event.
  const newest = new Map<string, Map<string, { ts: number; v: number }>>();
  for (const e of batches.flat()) {
    const values = newest.get(e.device) ?? new Map<string, { ts: number; v: number }>();
    newest.set(e.device, values);
    for (const [key, v] of Object.entries(e.values)) {
      const current = values.get(key);
      if (!current || e.ts > current.ts) values.set(key, { ts: e.ts, v: v as number });
    }
  }
  const states = await ctx.db.query<{ device: string; values: Record<string, number> }>('SELECT device, "values" FROM device_state WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(states.rowCount, 7);
  for (const row of states.rows) {
    t.same(row.values, Object.fromEntries([...(newest.get(row.device) ?? [])].map(([key, entry]) => [key, entry.v])), `${row.device}: newest per value`);
  }

  // A job re-run after its batch was moved and applied changes nothing.
  const again = randomUUID();
  await ctx.queue.add(INGEST_JOB, { batchId: ids[0] as string, acceptedAt: Date.now(), events: batches[0] as BatchEvent[] }, { jobId: again, attempts: 3 });
  for (let i = 0; i < 200 && ((await ctx.queue.getJobCounts("completed")).completed ?? 0) < 13; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  const after = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(after.rows[0]?.n, 11 * 30, 'a repeated job adds nothing');
});

t.test('labels ride through both drain forms into history; notes say which minutes hold labelled rows; re-runs store once', async (t) => {
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 1, projectorDrainMaxEvents: 5000 });
  const event = (i: number, minute: number, labels?: Record<string, string>): BatchEvent => ({
    tenantId: ctx.tenant, device: `d${i % 2}`, key: `i:l${i}`, ts: BASE + minute * 60_000 + i * 100, type: 'reading', values: { n: i }, ...(labels ? { labels } : {}),
  });
  // Minute 0: labelled rows in a staged batch; minute 1: in a job-borne batch; minute 2: none.
  const staged = [event(0, 0, { team: 'a' }), event(1, 0), event(2, 0, { team: 'b', zone: 'x' })];
  const borne = [event(3, 1, { zone: 'y' }), event(4, 1)];
  const plain = [event(5, 2), event(6, 2)];
  await ctx.queue.pause();
  const ids = [randomUUID(), randomUUID(), randomUUID()];
  // Staged as command-api stages them (its statement is not importable here; the row shape is the contract).
  for (const e of staged) {
    await ctx.db.query(
      `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values", labels)
       VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1000), $6, $7::jsonb, $8::jsonb)`,
      [ids[0], e.tenantId, e.device, e.key, e.ts, e.type, JSON.stringify(e.values), e.labels ? JSON.stringify(e.labels) : null],
    );
  }
  await ctx.queue.addBulk([staged, borne, plain].map((events, index) => ({
    name: INGEST_JOB, data: { batchId: ids[index] as string, acceptedAt: Date.now(), events }, opts: { jobId: ids[index] as string, attempts: 3 },
  })));
  await ctx.queue.resume();
  await waitAllApplied(ctx, ids);

  const history = await ctx.db.query<{ event_key: string; labels: Record<string, string> | null }>(
    'SELECT event_key, labels FROM tenant_events WHERE tenant_id = $1 ORDER BY ts', [ctx.tenant]);
  t.same(history.rows, [...staged, ...borne, ...plain].map((e) => ({ event_key: e.key, labels: e.labels ?? null })), 'labels stored as sent, NULL without');
  const notes = await ctx.db.query<{ minute: number; labelled: boolean }>(
    `SELECT ((extract(epoch FROM bucket) * 1000 - $2) / 60000)::int AS minute, bool_or(labelled) AS labelled, count(*)::int AS n
       FROM aggregate_dirty WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`, [ctx.tenant, BASE]);
  t.same(notes.rows, [{ minute: 0, labelled: true, n: 1 }, { minute: 1, labelled: true, n: 1 }, { minute: 2, labelled: false, n: 1 }],
    'one note per tenant minute and drain, as before; labelled only where a new row carries labels');

  // The job-borne batch again (a retried job): nothing new, no note.
  const again = randomUUID();
  await ctx.queue.add(INGEST_JOB, { batchId: again, acceptedAt: Date.now(), events: [...borne, ...plain] }, { jobId: again, attempts: 3 });
  await waitAllApplied(ctx, [again]);
  const counted = await ctx.db.query('SELECT (SELECT count(*) FROM tenant_events)::int AS events, (SELECT count(*) FROM aggregate_dirty)::int AS notes');
  t.same(counted.rows[0], { events: 7, notes: 3 }, 're-sent labelled events are stored once and note nothing');

  // The refresher folds the samples of labelled minutes into versions.
  const outcome = await ctx.refresh();
  // Three claimed, then the same three regrouped: the fold, after the claim's group minutes, noted the
  // group minutes the devices' first labels moved (decision 0115).
  t.equal(outcome.minutes, 6);
  const versions = await ctx.db.query(
    `SELECT device, label, value, extract(epoch FROM valid_from)::float8 * 1000 AS valid_from FROM label_versions WHERE tenant_id = $1 ORDER BY 1, 2, 4`, [ctx.tenant]);
  t.same(versions.rows, [
    { device: 'd0', label: 'team', value: 'a', valid_from: staged[0]!.ts },
    { device: 'd0', label: 'team', value: 'b', valid_from: staged[2]!.ts },
    { device: 'd0', label: 'zone', value: 'x', valid_from: staged[2]!.ts },
    { device: 'd1', label: 'zone', value: 'y', valid_from: borne[0]!.ts },
  ], 'each label sample of history folded at its event time');
});

t.test('drains run on connections that plan the drain statement once', async (t) => {
  // Decision 0095: re-planning the drain statement cost ~1 ms of CPU per drain. One drain in flight,
  // so the drain pool holds one connection, where this test reads the prepared statements too.
  const ctx = await startTestProjector(t, { projectorDrainsInFlight: 1 });
  for (let b = 0; b < 8; b++) {
    await ctx.project([{ device: `g${b}`, id: `g-${b}`, ts: BASE + b * 1000, values: { n: b } }]);
  }
  const plans = await ctx.deps.drainPool.query<{ generic_plans: string; custom_plans: string }>(
    // The usual drain inserts history plainly (decision 0127); none met a stored event here.
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'project-staged-drain-failing-on-stored'",
  );
  t.equal(plans.rowCount, 1, 'the drain statement is prepared on the drain connection');
  t.equal(Number(plans.rows[0]?.generic_plans), 8, 'every drain ran the generic plan');
  t.equal(Number(plans.rows[0]?.custom_plans), 0, 'no drain was planned for its own parameters');
});

t.test('under a stream of small batches, drains start a linger apart and carry what arrived meanwhile', async (t) => {
  // A linger far longer than the stream, so how the batches fall into drains does not depend on timing.
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 2, projectorDrainLingerMs: 1500, projectorDrainMinEvents: 500 });
  const ids: string[] = [];
  const started = Date.now();
  // Twelve batches of five events, one every 20 ms, as command-api's group commit sends them under one-event requests.
  for (let b = 0; b < 12; b++) {
    const batchId = randomUUID();
    ids.push(batchId);
    const events = Array.from({ length: 5 }, (_, k): BatchEvent => ({ tenantId: ctx.tenant, device: `d${k}`, key: `i:s${b}-${k}`, ts: BASE + b * 1000 + k, type: 'reading', values: { n: b } }));
    await ctx.queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events }, { jobId: batchId, attempts: 3 });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await waitAllApplied(ctx, ids);
  const stored = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant]);
  t.equal(stored.rows[0]?.n, 60, 'every event stored once');
  const drained = await ctx.deps.registry.getSingleMetric('strata_drain_batches')?.get();
  const sample = (name: string): number => drained?.values.find((v) => (v as { metricName?: string }).metricName === name)?.value ?? 0;
  t.equal(sample('strata_drain_batches_sum'), 12, 'every batch went through a drain');
  t.equal(sample('strata_drain_batches_count'), 2, 'the first batch went at once (nothing drained before it); the other eleven waited and went together');
  t.ok(Date.now() - started >= 1400, 'the second drain waited for the linger');
});

t.test('a drain inserts history plainly; one meeting a stored event runs again skipping it, and drains skip while re-sends go on (decision 0127)', async (t) => {
  let now = 0;
  const ctx = await startTestProjector(t, { projectorConcurrency: 16, projectorDrainsInFlight: 1 }, { historyConflicts: new HistoryConflictMemory(10_000, () => now) });
  const counter = async (metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> => (await metric.get()).values[0]?.value ?? 0;
  const reruns = (): Promise<number> => counter(ctx.deps.metrics.drainReruns);
  // Runs of the plain form, counted as the drains send them (a failed run's connection is dropped by
  // the pool, so PostgreSQL's per-connection counts of the prepared statement start again).
  let plain = 0;
  const send = ctx.deps.drainPool.query.bind(ctx.deps.drainPool) as (...args: unknown[]) => Promise<unknown>;
  (ctx.deps.drainPool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
    if ((args[0] as { name?: string } | undefined)?.name === 'project-staged-drain-failing-on-stored') plain++;
    return send(...args);
  };
  const plainRuns = async (): Promise<number> => plain;
  const event = (i: number, device = `d${i % 3}`) => ({ device, id: `e${i}`, ts: BASE + i * 1000, values: { n: i } });
  const project = (ids: number[]): Promise<string> => ctx.project(ids.map((i) => event(i)), ctx.tenant, { staged: true });
  const stored = async (): Promise<number> =>
    (await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1', [ctx.tenant])).rows[0]?.n ?? -1;

  await project([0, 1, 2, 3, 4, 5]);
  t.equal(await reruns(), 0, 'new events only: the plain insert stood');
  t.equal(await plainRuns(), 1, 'it ran the plain form');
  t.equal(await stored(), 6);

  // Three re-sent events beside three new ones: the plain insert fails whole, the re-run skips them.
  // A neighbour's new events share the batch (group commit mixes tenants): they land with the re-run.
  const neighbour = (await createTenant(ctx.db, 'neighbour')).tenant;
  const resent = await ctx.project([...[3, 4, 5, 6, 7, 8].map((i) => event(i)), event(100, 'n1'), event(101, 'n2')], ctx.tenant, {
    staged: true,
    tenants: [...Array<string>(6).fill(ctx.tenant), neighbour, neighbour],
  });
  const neighbours = await ctx.db.query<{ device: string; values: { n: number } }>('SELECT device, "values" FROM device_state WHERE tenant_id = $1 ORDER BY device', [neighbour]);
  t.same(neighbours.rows.map((row) => [row.device, row.values.n]), [['n1', 100], ['n2', 101]], "the neighbour's events landed, with their state");
  t.equal((await ctx.db.query('SELECT 1 FROM tenant_events WHERE tenant_id = $1', [neighbour])).rowCount, 2, 'once each');
  t.equal(await plainRuns(), 2, 'the plain form was tried');
  t.equal(await reruns(), 1, 'and the drain ran again');
  t.equal(await stored(), 9, 'each event stored once');
  const applied = await ctx.db.query<{ inserted: number }>('SELECT inserted FROM applied_batches WHERE batch_id = $1', [resent]);
  t.equal(Number(applied.rows[0]?.inserted), 5, "the batch counts only its new rows (three, and the neighbour's two)");
  t.equal((await ctx.db.query('SELECT 1 FROM staging_events')).rowCount, 0, 'its staged rows moved out once');
  // Were the re-run not made, the unique violation would be taken for refused data and the batch split.
  t.equal(await counter(ctx.deps.metrics.batchesSplit), 0, 'not split');
  t.equal((await ctx.db.query('SELECT 1 FROM dead_letters')).rowCount, 0, 'nothing dead-lettered');

  // A client that keeps re-sending: each drain skipping a stored row renews the memory, so the plain
  // insert is not tried again, 6 s and 12 s after the first run failed.
  now += 6_000;
  await project([8, 9]);
  now += 6_000;
  await project([9, 10]);
  t.equal(await reruns(), 1, 'no second failed run while re-sends go on');
  t.equal(await plainRuns(), 2, 'the plain form was not tried meanwhile');
  t.equal(await stored(), 11);

  // Ten seconds after the last re-send the plain insert is tried again, and stands for new events...
  now += 10_000;
  await project([11]);
  t.equal(await plainRuns(), 3, 'tried again');
  t.equal(await reruns(), 1, 'and stood');
  // ...until the next re-send.
  await project([11, 12]);
  t.equal(await plainRuns(), 4);
  t.equal(await reruns(), 2, 'a re-send fails the plain insert again');
  t.equal(await stored(), 13);
});

t.test("the plain form fails whole on an event twice in one drain and changes nothing; the skipping form stores it once", async (t) => {
  const ctx = await startTestProjector(t);
  const same = { tenantId: ctx.tenant, device: 'twice', key: 'i:once', ts: BASE, values: { n: 1 } };
  // Staged only: no job, so the running projector leaves them alone.
  const batches = [await stageEvents(ctx.db, [same]), await stageEvents(ctx.db, [same, { ...same, key: 'i:other', ts: BASE + 1 }])].map(
    (batchId, i) => ({ batchId, events: new Array(i + 1) as BatchEvent[] }),
  );
  await t.rejects(projectStagedDrain(ctx.db, batches, 'fail'), { code: '23505' }, 'a unique violation');
  t.equal((await ctx.db.query('SELECT 1 FROM staging_events')).rowCount, 3, 'every staged row still there');
  t.equal((await ctx.db.query('SELECT 1 FROM applied_batches WHERE batch_id = ANY($1::uuid[])', [batches.map((b) => b.batchId)])).rowCount, 0, 'no batch applied');
  t.equal((await ctx.db.query('SELECT 1 FROM tenant_events WHERE tenant_id = $1', [ctx.tenant])).rowCount, 0, 'nothing in history');
  t.equal((await ctx.db.query('SELECT 1 FROM device_state WHERE tenant_id = $1', [ctx.tenant])).rowCount, 0, 'no state');
  t.equal((await ctx.db.query('SELECT 1 FROM aggregate_dirty WHERE tenant_id = $1', [ctx.tenant])).rowCount, 0, 'no minute noted');

  const result = await projectStagedDrain(ctx.db, batches, 'skip');
  t.equal([...result.insertedByBatch.values()].reduce((sum, n) => sum + n, 0), 2, 'two rows inserted, the shared one once');
  t.equal((await ctx.db.query('SELECT 1 FROM tenant_events WHERE tenant_id = $1', [ctx.tenant])).rowCount, 2);
  t.equal((await ctx.db.query('SELECT 1 FROM staging_events')).rowCount, 0, 'both batches moved out');
});
