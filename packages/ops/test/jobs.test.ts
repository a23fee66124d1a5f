import t from 'tap';
import { createPool, type Clock } from '@strata/core';
import { createTestEnvironment, seedEvents } from '@strata/testkit';
import type { MaintenanceJobDeps } from '../src/jobs/maintenance-job.ts';
import { partitionPremakeJob } from '../src/jobs/partition-premake-job.ts';
import { partitionRetentionJob } from '../src/jobs/partition-retention-job.ts';
import { utcDay } from '../src/partitions/utc-day.ts';
import { listEventPartitions } from '../src/queries/list-event-partitions.ts';

const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 3, applicationName: 'ops-test' }, logger);
t.teardown(() => pool.end());
const clock: Clock = { now: () => Date.now() };
const deps: MaintenanceJobDeps = { pool, clock, logger, retentionDays: 30, aggregateRetentionDays: 400, maxFutureSkewMs: 3_600_000 };
const names = async (): Promise<string[]> => (await listEventPartitions(pool)).map((p) => p.name);
const partition = (offsetDays: number): string => `events_${utcDay(Date.now(), offsetDays).replaceAll('-', '')}`;

t.test('premake creates yesterday..+7 and is idempotent', async (t) => {
  for (const offset of [0, 3, 7]) await pool.query(`DROP TABLE ${partition(offset)}`);
  t.notOk((await names()).includes(partition(3)));
  const first = await partitionPremakeJob.run(deps);
  t.equal(first.result, 'completed');
  t.equal(first.detail?.created, 3);
  for (let offset = -1; offset <= 7; offset++) t.ok((await names()).includes(partition(offset)), partition(offset));
  const again = await partitionPremakeJob.run(deps);
  t.equal(again.detail?.created, 0, 'second run creates nothing');
});

t.test('a job whose advisory lock is held elsewhere is skipped', async (t) => {
  const holder = await pool.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [partitionPremakeJob.name]);
  t.equal((await partitionPremakeJob.run(deps)).result, 'skipped');
  await holder.query('COMMIT');
  t.equal((await partitionPremakeJob.run(deps)).result, 'completed');
});

t.test('retention drops only daily partitions older than the window, never DEFAULT', async (t) => {
  const oldFirstDay = utcDay(Date.now(), -40);
  await pool.query('SELECT ensure_event_partitions($1::date, 12)', [oldFirstDay]); // -40 .. -29
  const tenant = '6f1c1a52-1111-4a4a-9b9b-000000000001';
  const event = (ts: number) => ({ tenantId: tenant, device: 'd1', ts, key: 'k', values: {} });
  await seedEvents(pool, [event(Date.now() - 39 * 86_400_000)]);
  // Without a partition, these rows live in DEFAULT: one far in the past, one inside the window.
  await seedEvents(pool, [event(Date.parse('2001-01-01T00:00:00Z')), event(Date.now() - 20 * 86_400_000)]);
  const outcome = await partitionRetentionJob.run(deps);
  t.equal(outcome.result, 'completed');
  const dropped = outcome.detail?.dropped as string[];
  const expected = [];
  for (let offset = -40; offset <= -31; offset++) expected.push(partition(offset));
  t.same(dropped, expected, 'days entirely before today-30 are dropped');
  const left = await names();
  for (const name of expected) t.notOk(left.includes(name), `${name} gone`);
  t.ok(left.includes(partition(-30)), 'the oldest day inside the window stays');
  t.ok(left.includes(partition(-29)));
  t.ok(left.includes('events_default'), 'DEFAULT is never dropped');
  const inDefault = await pool.query('SELECT count(*)::int AS n FROM events_default');
  t.equal(inDefault.rows[0].n, 1, 'DEFAULT keeps its rows inside the window and loses the expired one');
  t.equal(outcome.detail?.defaultRows, 1);
  const stray = await pool.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = ANY($1)", [expected]);
  t.equal(stray.rows[0].n, 0, 'detached tables are dropped, not left behind');
  const again = await partitionRetentionJob.run(deps);
  t.same(again.detail?.dropped, [], 'idempotent');
});
