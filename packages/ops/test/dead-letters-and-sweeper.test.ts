import t from 'tap';
import { Queue } from 'bullmq';
import { INGEST_JOB, INGEST_QUEUE, createPool, ingestJobOptions, type IngestJobData } from '@strata/core';
import { captureIo, createTenant, createTestEnvironment } from '@strata/testkit';
import { runCli } from '../src/cli.ts';
import { sweepStaging, STAGING_SWEEP_LOCK } from '../src/jobs/sweep-staging.ts';

const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 3, applicationName: 'ops-test' }, logger);
t.teardown(() => pool.end());
const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
t.teardown(() => queue.close());
const { tenant } = await createTenant(pool, 'sweeper');
const sweepDeps = { pool, ingestQueue: queue, minAgeMs: 1000, attempts: 3 };

/** Stages a batch as command-api would, `ageMs` in the past. */
async function stage(batchId: string, ageMs: number, events: { device: string; key: string; ms: number; values: object }[]): Promise<void> {
  for (const e of events) {
    await pool.query(
      `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values", received_at)
       VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1000.0), 'reading', $6, now() - make_interval(secs => $7::float8 / 1000))`,
      [batchId, tenant, e.device, e.key, e.ms, JSON.stringify(e.values), ageMs],
    );
  }
}
const stagedCount = async (batchId: string) => (await pool.query('SELECT count(*)::int AS n FROM staging_events WHERE batch_id = $1', [batchId])).rows[0].n;

t.test('the sweeper re-enqueues a jobless staged batch under its own id, exactly as staged', async (t) => {
  const lost = '00000000-0000-4000-8000-000000000001';
  const young = '00000000-0000-4000-8000-000000000002';
  const queued = '00000000-0000-4000-8000-000000000003';
  const applied = '00000000-0000-4000-8000-000000000004';
  await stage(lost, 5000, [
    { device: 'd1', key: 'i:a', ms: 1750240800123, values: { v: 1 } },
    { device: 'd2', key: 'i:b', ms: 1750240801999, values: { s: 'x' } },
  ]);
  await stage(young, 0, [{ device: 'd1', key: 'i:c', ms: 1750240802000, values: { v: 2 } }]);
  await stage(queued, 5000, [{ device: 'd3', key: 'i:d', ms: 1750240803000, values: { v: 3 } }]);
  await queue.add(INGEST_JOB, { batchId: queued, acceptedAt: 1, events: [] }, ingestJobOptions(queued, 3));
  await stage(applied, 5000, [{ device: 'd4', key: 'i:e', ms: 1750240804000, values: { v: 4 } }]);
  // By hand on purpose: a batch both staged and applied is a state the projection never leaves (it
  // unstages in the statement that applies), which the sweeper must still leave alone.
  await pool.query('INSERT INTO applied_batches (batch_id, event_count, inserted) VALUES ($1, 1, 1)', [applied]);

  const outcome = await sweepStaging(sweepDeps);
  t.same(outcome, { result: 'completed', requeued: [lost], leftoverRows: 1, inQueue: 1 });
  const job = await queue.getJob(lost);
  t.equal(job?.data.batchId, lost, 'the job id and the token keep naming the batch');
  t.same(job?.data.events, [
    { tenantId: tenant, device: 'd1', key: 'i:a', ts: 1750240800123, type: 'reading', values: { v: 1 } },
    { tenantId: tenant, device: 'd2', key: 'i:b', ts: 1750240801999, type: 'reading', values: { s: 'x' } },
  ], 'event times come back to the millisecond, so history keys match');
  t.equal(job?.opts.attempts, 3);
  t.equal(await queue.getJob(young), undefined, 'a young batch is left to command-api');
  t.equal(await stagedCount(applied), 0, 'leftovers of an applied batch are deleted');
  t.equal(await stagedCount(lost), 2, 'staged rows stay for strong reads until projected');

  const again = await sweepStaging(sweepDeps);
  t.same(again, { result: 'completed', requeued: [], leftoverRows: 0, inQueue: 2 }, 'a second run changes nothing');
});

t.test('the sweeper skips while another instance holds its lock', async (t) => {
  const holder = await pool.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [STAGING_SWEEP_LOCK]);
  t.same(await sweepStaging(sweepDeps), { result: 'skipped' });
  await holder.query('COMMIT');
});

t.test('ops dlq jobs: list, retry and drop failed jobs', async (t) => {
  const poison = '00000000-0000-4000-8000-0000000000d1';
  const other = '00000000-0000-4000-8000-0000000000d2';
  await queue.obliterate({ force: true }); // the sweeper tests left waiting jobs
  for (const id of [poison, other]) {
    await stage(id, 0, [{ device: 'dl', key: `i:${id}`, ms: 1750240800000, values: { v: 1 } }]);
    const job = await queue.add(INGEST_JOB, { batchId: id, acceptedAt: Date.now(), events: [] }, ingestJobOptions(id, 1));
    // Fail it as a worker would: take it, then move it to failed with a reason.
    const { Worker } = await import('bullmq');
    const worker = new Worker(INGEST_QUEUE, null, { connection: { url: config.redisUrl }, prefix: config.redisPrefix, autorun: false });
    const token = 'test-token';
    const taken = await worker.getNextJob(token);
    t.equal(taken?.id, job.id);
    await taken?.moveToFailed(new Error('cannot be projected: out of range (22008)'), token);
    await worker.close();
  }

  const listed = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'list', '--json'], config, listed), 0);
  const report = JSON.parse(listed.out());
  t.equal(report.total, 2);
  t.same(report.items.map((item: { id: string }) => item.id).sort(), [poison, other]);
  t.match(report.items[0].reason, /22008/);

  const human = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'list'], config, human), 0);
  t.match(human.out(), new RegExp(`${poison}.*attempts=1.*22008`));

  const dropped = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'drop', poison], config, dropped), 0);
  t.same(JSON.parse(dropped.out()), { dropped: poison, stagedRows: 1 });
  t.equal(await queue.getJob(poison), undefined);
  t.equal(await stagedCount(poison), 0, 'dropping removes the staged rows, so the sweeper cannot revive it');

  const retried = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'retry', other], config, retried), 0);
  t.same(JSON.parse(retried.out()), { retried: 1 });
  const job = await queue.getJob(other);
  t.equal(await job?.getState(), 'waiting');
  t.equal(job?.attemptsMade, 0, 'a retried batch gets fresh attempts');

  const missing = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'retry', 'nope'], config, missing), 1);
  t.match(missing.err(), /no failed job/);
  const all = captureIo();
  t.equal(await runCli(['dlq', 'jobs', 'retry', '--all'], config, all), 0);
  t.same(JSON.parse(all.out()), { retried: 0 });
  t.equal(await runCli(['dlq'], config, captureIo()), 2);
});

t.test('the sweeper replaces a job failed for an unreadable payload by its staged copy', async (t) => {
  const batchId = '00000000-0000-4000-8000-0000000000c1';
  await queue.obliterate({ force: true });
  await pool.query('DELETE FROM staging_events'); // the other tests' batches
  await stage(batchId, 5000, [{ device: 'corrupt', key: 'i:c', ms: 1750240800000, values: { v: 7 } }]);
  await queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events: [{ garbage: true }] } as never, ingestJobOptions(batchId, 1));
  const { Worker } = await import('bullmq');
  const worker = new Worker(INGEST_QUEUE, null, { connection: { url: config.redisUrl }, prefix: config.redisPrefix, autorun: false });
  const taken = await worker.getNextJob('tok');
  await taken?.moveToFailed(new Error('invalid payload: events[0]: tenantId is not a UUID'), 'tok');
  await worker.close();
  const outcome = await sweepStaging(sweepDeps);
  t.same(outcome, { result: 'completed', requeued: [batchId], leftoverRows: 0, inQueue: 0 });
  const job = await queue.getJob(batchId);
  t.equal(await job?.getState(), 'waiting', 'the batch is back in the queue, so its staged rows will be projected and pin nothing');
  t.equal(job?.data.events[0]?.device, 'corrupt');
  t.same(await sweepStaging(sweepDeps), { result: 'completed', requeued: [], leftoverRows: 0, inQueue: 1 });
});
