import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestEnvironment, stageEvents } from '@strata/testkit';
import { closeOpsDeps, createOpsDeps } from '../src/deps.ts';
import { ensureEventPartitions } from '../src/queries/ensure-event-partitions.ts';
import { listEventPartitions } from '../src/queries/list-event-partitions.ts';
import { utcDay } from '../src/partitions/utc-day.ts';

// The gauges deploy/prometheus/alerts.yml needs beyond counters, read from the database at scrape time.
const { config, logger } = await createTestEnvironment(t);
const deps = createOpsDeps(config, { logger });
t.teardown(() => closeOpsDeps(deps));

const sample = async (name: string): Promise<number | undefined> => {
  const text = await deps.registry.metrics();
  const match = new RegExp(`^${name}\\{service="ops"\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
};

t.test('an empty system: nothing staged, nothing to aggregate, the oldest partition near today', async (t) => {
  t.equal(await sample('strata_staging_oldest_event_age_seconds'), 0);
  t.equal(await sample('strata_aggregate_pending_notes'), 0);
  const oldest = await sample('strata_event_partitions_oldest_day_timestamp_seconds');
  const days = (await listEventPartitions(deps.pool)).filter((p) => !p.isDefault).map((p) => p.name).sort();
  const expected = `${days[0]?.slice(7, 11)}-${days[0]?.slice(11, 13)}-${days[0]?.slice(13, 15)}T00:00:00Z`;
  t.equal(oldest, Date.parse(expected) / 1000, `the start of ${days[0]}`);
});

t.test('a staged event two minutes old shows its age', async (t) => {
  const batch = await stageEvents(deps.pool, [{ tenantId: randomUUID(), device: 'd', ts: Date.now(), values: { v: 1 } }]);
  await deps.pool.query(`UPDATE staging_events SET received_at = now() - interval '120 seconds' WHERE batch_id = $1`, [batch]);
  const age = (await sample('strata_staging_oldest_event_age_seconds')) ?? 0;
  t.ok(age >= 120 && age < 180, `age ${age}`);
  await deps.pool.query('DELETE FROM staging_events WHERE batch_id = $1', [batch]);
  t.equal(await sample('strata_staging_oldest_event_age_seconds'), 0, 'back to 0 once projected');
});

t.test('noted minutes count until the refresher takes them', async (t) => {
  await deps.pool.query(`INSERT INTO aggregate_dirty (tenant_id, bucket) SELECT $1, date_trunc('minute', now()) - i * interval '1 minute' FROM generate_series(1, 3) i`, [randomUUID()]);
  t.equal(await sample('strata_aggregate_pending_notes'), 3);
  await deps.pool.query('DELETE FROM aggregate_dirty');
  t.equal(await sample('strata_aggregate_pending_notes'), 0);
});

t.test('a partition left behind by retention moves the oldest day back', async (t) => {
  const old = utcDay(Date.now(), -45);
  await ensureEventPartitions(deps.pool, old, 1);
  t.equal(await sample('strata_event_partitions_oldest_day_timestamp_seconds'), Date.parse(`${old}T00:00:00Z`) / 1000);
});

t.test('maintenance job and sweeper outcomes are exported at 0 before any run', async (t) => {
  const text = await deps.registry.metrics();
  t.match(text, /^strata_pgboss_jobs_total\{job="strata-partition-retention",result="failed",service="ops"\} 0$/m);
  t.match(text, /^strata_staging_sweeps_total\{result="failed",service="ops"\} 0$/m);
});
