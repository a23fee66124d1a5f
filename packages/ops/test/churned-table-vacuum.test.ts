import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Registry } from 'prom-client';
import { Queue } from 'bullmq';
import { INGEST_QUEUE, createPool, systemClock, type BatchEvent } from '@strata/core';
import { createTenant, createTestEnvironment, projectBatch } from '@strata/testkit';
import { buildChurnedTableVacuumLoop } from '../src/jobs/build-churned-table-vacuum-loop.ts';
import { createOpsMetrics } from '../src/metrics.ts';
import { summarizeHistoryRanges, type RangeCursors } from '../src/queries/summarize-history-ranges.ts';
import { CHURNED_TABLES } from '../src/queries/vacuum-churned-tables.ts';

/*
 * Decision 0089: ops vacuums the small tables rewritten many times a second. Shown on the real server:
 * a device's latest state rewritten by many drains leaves dead versions; one round of the loop vacuums
 * every churned table (each one's vacuum count moves) and leaves device_state without dead versions.
 */
const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 3, applicationName: 'ops-vacuum-test' }, logger);
t.teardown(() => pool.end());
// The metrics' scrape-time gauges read the queue; these tests read only the vacuum's own metrics.
const queue = new Queue(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
t.teardown(() => queue.close());

async function vacuumCounts(): Promise<Record<string, number>> {
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const result = await pool.query<{ relname: string; n: number }>(
    `SELECT relname, (vacuum_count + autovacuum_count)::int AS n FROM pg_stat_all_tables WHERE schemaname = 'public' AND relname = ANY($1)`,
    [CHURNED_TABLES],
  );
  return Object.fromEntries(result.rows.map((row) => [row.relname, row.n]));
}

async function deadInDeviceState(): Promise<number> {
  // The table's own count of dead versions, as VACUUM leaves it (its dead tuples are what it could not remove).
  await pool.query('SELECT pg_stat_clear_snapshot()');
  return (await pool.query<{ n: number }>(`SELECT n_dead_tup::int AS n FROM pg_stat_all_tables WHERE relname = 'device_state'`)).rows[0]?.n ?? -1;
}

t.test('one round vacuums every churned table, leaving no dead version of latest state behind', async (t) => {
  const { tenant } = await createTenant(pool, 'vacuum');
  const base = Date.now() - 60_000;
  for (let drain = 0; drain < 40; drain++) {
    const events: BatchEvent[] = Array.from({ length: 25 }, (_, i) => ({ tenantId: tenant, device: `d${i}`, key: `k:${drain}:${i}`, ts: base + drain, type: 'reading', values: { v: drain } }));
    await projectBatch(pool, randomUUID(), events);
  }
  const metrics = createOpsMetrics({ registry: new Registry(), pool, ingestQueue: queue, clock: systemClock, logger });
  const loop = buildChurnedTableVacuumLoop({ pool, logger, metrics, clock: systemClock, config: { churnedTableVacuumIntervalMs: 10_000 } });
  t.ok(loop, 'a loop at a non-zero interval');
  const before = await vacuumCounts();
  t.same(Object.keys(before).sort(), [...CHURNED_TABLES].sort(), 'every churned table exists in the schema');
  await loop?.runOnce();
  const after = await vacuumCounts();
  for (const table of CHURNED_TABLES) t.ok((after[table] ?? 0) > (before[table] ?? 0), `${table} was vacuumed`);
  t.equal(await deadInDeviceState(), 0, 'device_state holds no dead version after the round');
  t.equal((await metrics.churnedTableVacuums.get()).values.find((v: { labels: Record<string, unknown> }) => v.labels.result === 'completed')?.value, 1, 'the run is counted');
  t.ok(((await metrics.churnedTableVacuumSeconds.get()).values[0]?.value ?? -1) >= 0, 'and how long it took');
});

t.test('a failing round is counted and never throws; interval 0 leaves the tables to autovacuum', async (t) => {
  const broken = createPool({ connectionString: config.databaseUrl.replace(/\/[^/?]+(\?|$)/, '/strata_no_such_database$1'), max: 1, applicationName: 'ops-vacuum-test' }, logger);
  t.teardown(() => broken.end());
  const metrics = createOpsMetrics({ registry: new Registry(), pool, ingestQueue: queue, clock: systemClock, logger });
  const loop = buildChurnedTableVacuumLoop({ pool: broken, logger, metrics, clock: systemClock, config: { churnedTableVacuumIntervalMs: 10_000 } });
  await loop?.runOnce();
  t.equal((await metrics.churnedTableVacuums.get()).values.find((v: { labels: Record<string, unknown> }) => v.labels.result === 'failed')?.value, 1, 'counted as failed');
  t.equal(buildChurnedTableVacuumLoop({ pool, logger, metrics, clock: systemClock, config: { churnedTableVacuumIntervalMs: 0 } }), undefined, 'no loop at 0');
});

t.test('a table another transaction holds is left for the next round, the rest vacuumed; emptied pages are kept for reuse', async (t) => {
  const metrics = createOpsMetrics({ registry: new Registry(), pool, ingestQueue: queue, clock: systemClock, logger });
  const loop = buildChurnedTableVacuumLoop({ pool, logger, metrics, clock: systemClock, config: { churnedTableVacuumIntervalMs: 10_000 } });
  const { tenant } = await createTenant(pool, 'vacuum-notes');
  // Notes appended and claimed: the table empties, as it does every few seconds under ingest.
  await pool.query(
    `INSERT INTO aggregate_dirty (tenant_id, bucket) SELECT $1, TIMESTAMPTZ '2026-01-01' + n * interval '1 minute' FROM generate_series(1, 20000) n`,
    [tenant],
  );
  await pool.query('DELETE FROM aggregate_dirty WHERE tenant_id = $1', [tenant]);
  const size = async (): Promise<number> => (await pool.query<{ n: number }>(`SELECT pg_relation_size('aggregate_dirty')::int AS n`)).rows[0]?.n ?? -1;
  const filled = await size();
  const holder = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE group_dirty IN ACCESS EXCLUSIVE MODE');
    const before = await vacuumCounts();
    await loop?.runOnce();
    const after = await vacuumCounts();
    t.equal(after.group_dirty, before.group_dirty, 'the held table is skipped');
    for (const table of CHURNED_TABLES.filter((name) => name !== 'group_dirty')) t.ok((after[table] ?? 0) > (before[table] ?? 0), `${table} still vacuumed`);
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  t.equal((await metrics.churnedTableVacuums.get()).values.find((v: { labels: Record<string, unknown> }) => v.labels.result === 'completed')?.value, 1, 'the round completed');
  t.ok(filled > 0 && (await size()) === filled, `aggregate_dirty keeps its ${filled} bytes of emptied pages (no truncation, whose lock would replay on replicas)`);
});

/*
 * Decision 0106: the partitions' BRIN indexes no longer ask autovacuum to summarize their ranges, so
 * each round summarizes the new ranges of the partitions being written. Shown by what the index can
 * skip: rows landing in today's partition leave ranges no scan by the index can rule out until the
 * round; after it, a time range before the new rows reads none of their pages.
 */
t.test("each round summarizes the new page ranges of history's partitions being written, and a held one waits for the next", async (t) => {
  const { tenant } = await createTenant(pool, 'vacuum-ranges');
  const metrics = createOpsMetrics({ registry: new Registry(), pool, ingestQueue: queue, clock: systemClock, logger });
  const loop = buildChurnedTableVacuumLoop({ pool, logger, metrics, clock: systemClock, config: { churnedTableVacuumIntervalMs: 10_000 } });
  const summarized = async (): Promise<number> => (await metrics.historyRangesSummarized.get()).values[0]?.value ?? -1;
  await loop?.runOnce(); // whatever earlier tests left
  const start = await summarized();
  const now = Date.now();
  for (let drain = 0; drain < 8; drain++) {
    const events: BatchEvent[] = Array.from({ length: 500 }, (_, i) => ({ tenantId: tenant, device: `r${i}`, key: `k:${drain}:${i}`, ts: now - 1_000 + drain, type: 'reading', values: { v: i, pad: 'x'.repeat(100) } }));
    await projectBatch(pool, randomUUID(), events);
  }
  const today = `events_${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}`;
  // Pages of today's partition a bitmap scan of the BRIN index reads for a minute before the new rows.
  const pagesRead = async (): Promise<number> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_indexscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, FORMAT TEXT) SELECT count(*) FROM ${today} WHERE ts >= $1 AND ts < $2`,
        [new Date(now - 600_000), new Date(now - 540_000)],
      );
      await client.query('ROLLBACK');
      const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
      t.match(text, /Bitmap Index Scan on events_\d+_ts_idx/, 'the scan goes by the BRIN index');
      return Number(/Heap Blocks: lossy=(\d+)/.exec(text)?.[1] ?? 0);
    } finally {
      client.release();
    }
  };
  t.ok((await pagesRead()) > 0, 'before the round, the new ranges cannot be ruled out');

  const holder = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${today} IN SHARE UPDATE EXCLUSIVE MODE`);
    await loop?.runOnce();
    t.equal(await summarized(), start, 'a partition another transaction holds is left for the next round');
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  t.equal((await metrics.churnedTableVacuums.get()).values.find((v: { labels: Record<string, unknown> }) => v.labels.result === 'completed')?.value, 2, 'and the round still completed');

  await loop?.runOnce();
  t.ok((await summarized()) > start, `the next round summarized ${(await summarized()) - start} ranges`);
  t.equal(await pagesRead(), 0, 'after it, a range before the new rows reads none of their pages');
  const left = await pool.query<{ n: number }>(`SELECT brin_summarize_new_values('${today}_ts_idx')::int AS n`);
  t.equal(left.rows[0]?.n, 0, 'no range is left unsummarized');
});

/*
 * The hostile review of decision 0106: brin_summarize_new_values held a partition for all its new
 * ranges at once, and premake's or the DEFAULT mover's DDL, waiting behind it with ACCESS EXCLUSIVE on
 * `events`, held every insert into history meanwhile; a backlog of ranges could also outlast the
 * statement timeout. Now each call summarizes one range and lets go of the table, a round does at most
 * a fixed number of ranges from where the last one stopped, and a partition made by any other path is
 * told to stop asking autovacuum.
 */
t.test('a backlog of ranges is summarized over rounds, a capped number each, from where the last stopped', async (t) => {
  const { tenant } = await createTenant(pool, 'vacuum-backlog');
  const now = Date.now();
  for (let drain = 0; drain < 12; drain++) {
    const events: BatchEvent[] = Array.from({ length: 500 }, (_, i) => ({ tenantId: tenant, device: `b${i}`, key: `b:${drain}:${i}`, ts: now - 2_000 + drain, type: 'reading', values: { v: i, pad: 'y'.repeat(100) } }));
    await projectBatch(pool, randomUUID(), events);
  }
  const today = `events_${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}`;
  const cursors: RangeCursors = new Map();
  const rounds: number[] = [];
  for (let round = 0; round < 50; round++) {
    const summarized = await summarizeHistoryRanges(pool, [today], cursors, 3);
    rounds.push(summarized);
    if (summarized === 0 && (cursors.get(today) ?? 0) + 16 >= (await pages(today))) break;
  }
  t.ok(rounds.length > 2 && rounds.every((n) => n <= 3), `rounds of at most 3 ranges: ${rounds.join(', ')}`);
  t.ok(rounds.reduce((a, b) => a + b, 0) > 3, 'together more than one round could');
  t.equal((await pool.query<{ n: number }>(`SELECT brin_summarize_new_values('${today}_ts_idx')::int AS n`)).rows[0]?.n, 0, 'none left');
  const again = await summarizeHistoryRanges(pool, [today], cursors, 3);
  t.equal(again, 0, 'a round with nothing new summarizes nothing');
  t.ok((cursors.get(today) ?? -1) >= 0 && (cursors.get(today) ?? 0) < (await pages(today)), 'and keeps its cursor on the last range');
  await summarizeHistoryRanges(pool, ['events_default'], cursors, 3);
  t.notOk(cursors.has(today), "a table no longer named drops its cursor");
});

t.test('a partition made by a path that left autosummarize on is turned off by the next round', async (t) => {
  await pool.query(`CREATE TABLE events_20990101 PARTITION OF events FOR VALUES FROM ('2099-01-01 00:00:00+00') TO ('2099-01-02 00:00:00+00')`);
  t.teardown(() => pool.query('DROP TABLE IF EXISTS events_20990101'));
  const options = async (): Promise<string[]> =>
    (await pool.query<{ reloptions: string[] }>(`SELECT c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam AND a.amname = 'brin' WHERE i.indrelid = 'events_20990101'::regclass`)).rows[0]?.reloptions ?? [];
  t.ok((await options()).includes('autosummarize=on'), 'made with the parent index options');
  await summarizeHistoryRanges(pool, ['events_20990101'], new Map());
  t.ok((await options()).includes('autosummarize=off'), 'off after a round');
});

async function pages(table: string): Promise<number> {
  return (await pool.query<{ n: number }>(`SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int AS n`, [table])).rows[0]?.n ?? 0;
}
