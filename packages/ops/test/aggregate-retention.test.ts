import t from 'tap';
import { createPool, type Clock } from '@strata/core';
import { createTestEnvironment, refreshAllAggregates, seedEvents } from '@strata/testkit';
import { aggregateRetentionJob } from '../src/jobs/aggregate-retention-job.ts';
import type { MaintenanceJobDeps } from '../src/jobs/maintenance-job.ts';
import { partitionRetentionJob } from '../src/jobs/partition-retention-job.ts';
import { utcDay } from '../src/partitions/utc-day.ts';

const DAY = 86_400_000;
const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 4, applicationName: 'aggregate-retention-test' }, logger);
t.teardown(() => pool.end());
const now = Date.now();
const clock: Clock = { now: () => now };
const deps: MaintenanceJobDeps = { pool, clock, logger, retentionDays: 30, aggregateRetentionDays: 400, maxFutureSkewMs: 3_600_000 };
const tenant = '6f1c1a52-2222-4a4a-9b9b-000000000001';
const other = '6f1c1a52-2222-4a4a-9b9b-000000000002';
const horizonMs = Date.parse(`${utcDay(now, -400)}T00:00:00Z`);
await pool.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [tenant, other]);

/** A group day row as the refresher leaves it (only `sum` matters to the fold). */
async function groupDay(tenantId: string, value: string, dayMs: number, sum: string): Promise<void> {
  await pool.query(
    `INSERT INTO group_rollups_1d (tenant_id, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices)
     VALUES ($1, 'space', $2, 'crossing', $3, 1, $4::numeric, -1, 1, 1, $3, $3, 1)`,
    [tenantId, value, new Date(dayMs).toISOString(), sum],
  );
}

const count = async (sql: string, values: unknown[] = []): Promise<number> => (await pool.query(sql, values)).rows[0].n;

t.test('expired group days fold into the base once; every aggregate table loses only its expired rows', async (t) => {
  // Device rollups and tenant counts through the real projection and refresher: one event well past
  // the aggregate horizon, one inside it.
  await seedEvents(pool, [
    { tenantId: tenant, device: 'd', ts: horizonMs - 3 * DAY + 60_000, key: 'old', values: { v: 2 } },
    { tenantId: tenant, device: 'd', ts: horizonMs + DAY + 60_000, key: 'kept', values: { v: 3 } },
  ]);
  await refreshAllAggregates(pool, now);
  await groupDay(tenant, 'lobby', horizonMs - 3 * DAY, '5');
  await groupDay(tenant, 'lobby', horizonMs - DAY, '-2.5');
  await groupDay(tenant, 'lobby', horizonMs, '7'); // the horizon's own day is kept
  await groupDay(tenant, 'hall', horizonMs - 2 * DAY, '123456789012345678901234567890'); // numeric, no overflow
  await groupDay(other, 'lobby', horizonMs - DAY, '1');

  const first = await aggregateRetentionJob.run(deps);
  t.equal(first.result, 'completed');
  const base = await pool.query(
    `SELECT tenant_id, label_value, through, sum::text FROM group_totals_base ORDER BY tenant_id, label_value`,
  );
  t.same(
    base.rows.map((row) => ({ ...row, through: new Date(row.through).getTime() })),
    [
      { tenant_id: tenant, label_value: 'hall', through: horizonMs, sum: '123456789012345678901234567890' },
      { tenant_id: tenant, label_value: 'lobby', through: horizonMs, sum: '2.5' },
      { tenant_id: other, label_value: 'lobby', through: horizonMs, sum: '1' },
    ],
    'each group base holds the sum of its dropped days, per tenant',
  );
  t.equal(await count(`SELECT count(*)::int AS n FROM group_rollups_1d WHERE bucket < $1`, [new Date(horizonMs)]), 0);
  t.equal(await count(`SELECT count(*)::int AS n FROM group_rollups_1d`), 1, "the horizon's day stays");
  for (const table of ['rollups_1m', 'rollups_1h', 'rollups_1d', 'event_counts_1m', 'event_counts_1h']) {
    t.equal(await count(`SELECT count(*)::int AS n FROM ${table} WHERE bucket < $1`, [new Date(horizonMs)]), 0, `${table}: expired rows gone`);
    t.ok((await count(`SELECT count(*)::int AS n FROM ${table}`)) > 0, `${table}: rows inside the window stay`);
  }

  const again = await aggregateRetentionJob.run(deps);
  t.equal(again.result, 'completed');
  t.equal(again.detail?.groupsFolded, 0, 'a second run folds nothing');
  const sums = await pool.query(`SELECT sum::text FROM group_totals_base WHERE tenant_id = $1 ORDER BY label_value`, [tenant]);
  t.same(sums.rows, [{ sum: '123456789012345678901234567890' }, { sum: '2.5' }], 'and adds nothing twice');

  // A later horizon folds the next day into the same base row.
  const later = await aggregateRetentionJob.run({ ...deps, clock: { now: () => now + 2 * DAY } });
  t.equal(later.result, 'completed');
  const lobby = await pool.query(`SELECT through, sum::text FROM group_totals_base WHERE tenant_id = $1 AND label_value = 'lobby'`, [tenant]);
  t.same(
    lobby.rows.map((row) => ({ through: new Date(row.through).getTime(), sum: row.sum })),
    [{ through: horizonMs + 2 * DAY, sum: '9.5' }],
  );
});

t.test('label versions that ended before the raw horizon go; current and recent ones stay', async (t) => {
  const rawHorizon = Date.parse(`${utcDay(now, -30)}T00:00:00Z`);
  const version = (device: string, from: number, to: number | null): Promise<unknown> =>
    pool.query(
      `INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
       VALUES ($1, $2, 'space', $3, COALESCE($4, 'infinity'::timestamptz), 'lobby', $3, 'a')`,
      [tenant, device, new Date(from).toISOString(), to === null ? null : new Date(to).toISOString()],
    );
  await version('ended', rawHorizon - 10 * DAY, rawHorizon - 5 * DAY);
  await version('straddles', rawHorizon - 10 * DAY, rawHorizon + DAY);
  await version('current', rawHorizon - 50 * DAY, null);
  const outcome = await aggregateRetentionJob.run(deps);
  t.equal(outcome.detail?.labelVersions, 1);
  const left = await pool.query(`SELECT device FROM label_versions ORDER BY device`);
  t.same(left.rows.map((row) => row.device), ['current', 'straddles']);
});

t.test('an ended version overlapping a minute its tenant still has noted stays until that minute is refreshed', async (t) => {
  // Hostile review of decision 0084: deleting it while the note waits dropped its device's events from
  // the group, both in group reads (which keep such a minute's stored rows) and in the refresh to come.
  const rawHorizon = Date.parse(`${utcDay(now, -30)}T00:00:00Z`);
  await pool.query(`DELETE FROM label_versions`);
  const version = (tenantId: string, device: string, from: number, to: number): Promise<unknown> =>
    pool.query(
      `INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
       VALUES ($1, $2, 'space', $3, $4, 'lobby', $3, 'a')`,
      [tenantId, device, new Date(from).toISOString(), new Date(to).toISOString()],
    );
  const from = rawHorizon - 10 * DAY;
  const to = rawHorizon - 5 * DAY;
  await version(tenant, 'tenant-noted', from, to);
  await version(tenant, 'group-noted', from + 1000, to);
  await version(tenant, 'began-in-noted-minute', from + 2000, to);
  await version(other, 'neighbour-noted', from, to);
  const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
  // A note in the version's first minute (it began inside it), one in its last minute, one just after it ends.
  await pool.query(`INSERT INTO aggregate_dirty (tenant_id, bucket) VALUES ($1, $2)`, [tenant, minute(from + 30_000)]);
  await pool.query(`INSERT INTO group_dirty (tenant_id, label, label_value, bucket) VALUES ($1, 'space', 'lobby', $2)`, [tenant, minute(to - 1)]);
  await pool.query(`INSERT INTO aggregate_dirty (tenant_id, bucket) VALUES ($1, $2)`, [other, minute(to)]);
  const first = await aggregateRetentionJob.run(deps);
  t.equal(first.detail?.labelVersions, 1, "only the neighbour's version went: its tenant's note is after the version ended");
  const kept = await pool.query(`SELECT device FROM label_versions ORDER BY device`);
  t.same(kept.rows.map((row) => row.device), ['began-in-noted-minute', 'group-noted', 'tenant-noted'], 'versions overlapping a noted minute of their tenant stay');
  await pool.query(`DELETE FROM aggregate_dirty`);
  await pool.query(`DELETE FROM group_dirty`);
  const second = await aggregateRetentionJob.run(deps);
  t.equal(second.detail?.labelVersions, 3, 'once the minutes are refreshed, the next run deletes them');
  t.equal(await count(`SELECT count(*)::int AS n FROM label_versions`), 0);
});

t.test('raw retention keeps a day whose minutes are still noted for recomputation', async (t) => {
  const day = now - 33 * DAY;
  // Past the retention window, so the row lands in DEFAULT (no partition is made that far back);
  // retention deletes such rows day by day as it drops partitions, with the same pending-day rule.
  await seedEvents(pool, [{ tenantId: tenant, device: 'noted', ts: day, key: 'n', values: { v: 1 } }]);
  await pool.query(`DELETE FROM aggregate_dirty`);
  await pool.query(`INSERT INTO group_dirty (tenant_id, label, label_value, bucket) VALUES ($1, 'space', 'lobby', $2)`, [
    tenant,
    new Date(Math.floor(day / 60_000) * 60_000).toISOString(),
  ]);
  const stored = (): Promise<number> => count(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'noted'`);
  t.equal((await partitionRetentionJob.run(deps)).result, 'completed');
  t.equal(await stored(), 1, 'a group note keeps its day');
  await pool.query(`DELETE FROM group_dirty`);
  await pool.query(`INSERT INTO aggregate_dirty (tenant_id, bucket) SELECT $1, date_trunc('minute', $2::timestamptz)`, [tenant, new Date(day).toISOString()]);
  t.equal((await partitionRetentionJob.run(deps)).result, 'completed');
  t.equal(await stored(), 1, 'so does a tenant note');
  await pool.query(`DELETE FROM aggregate_dirty`);
  t.equal((await partitionRetentionJob.run(deps)).result, 'completed');
  t.equal(await stored(), 0, 'dropped once the notes are handled');
});
