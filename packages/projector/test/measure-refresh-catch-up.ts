/*
 * How long the aggregate refresher takes to catch up with a month of history that lands at once (the
 * bench's series device: `pnpm bench` loads it, then waits until every ended minute is materialized).
 * N events of one device spread evenly over the 30 days before the current minute go into `events`,
 * with the notes the projection leaves for them (one per minute per drain of 1,000 events), in a
 * scratch database; then the projector's own refresh loop (buildAggregateRefreshLoop, real config and
 * interval) runs until no ended minute is noted, and the time is printed. Not a test: it asserts
 * nothing and tap does not run it.
 *
 *   pnpm exec node packages/projector/test/measure-refresh-catch-up.ts [--events 100000] [--labels 2 [--tagged]] [--keep]
 *
 * --labels N gives the device N labels from before its first event (an API fold, as PUT does), so the
 * refresher also writes N groups' minutes, hours and days (issue 13, decision 0074); --tagged also puts
 * them on every event (line-protocol tags: every minute labelled, every row a sample to fold).
 *
 * --keep leaves the database (strata_agg_scratch) in place for EXPLAIN work on the reads; drop it
 * yourself afterwards. --no-refresh only seeds.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLogger, loadConfig } from '@strata/core';
import { createTenant, insertIntoHistory } from '@strata/testkit';
import { buildAggregateRefreshLoop } from '../src/aggregation/build-aggregate-refresh-loop.ts';
import { closeProjectorDeps, createProjectorDeps } from '../src/deps.ts';
import { openScratchDatabase } from './scratch-database.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    database: { type: 'string', default: 'strata_agg_scratch' },
    keep: { type: 'boolean', default: false },
    'no-refresh': { type: 'boolean', default: false },
    labels: { type: 'string', default: '0' },
    tagged: { type: 'boolean', default: false },
  },
});
const events = Number(args.events);
const name = args.database;
const labelCount = Number(args.labels);
const labels = Object.fromEntries(Array.from({ length: labelCount }, (_, i) => [`label${i}`, `value${i}`]));
const DAYS = 30;
const MINUTE = 60_000;

const end = Math.floor(Date.now() / MINUTE) * MINUTE;
const start = end - DAYS * 86_400_000;
const scratch = await openScratchDatabase(name, start, DAYS + 2);
const url = scratch.url;
const logger = createLogger('measure', 'error');
try {
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const { tenant } = await createTenant(db, 'catch-up');
  const seeded = performance.now();
  // The bench's series device: evenly spaced readings, one number each, ids s0…s(N-1).
  const step = (end - start) / events;
  const tags = args.tagged && labelCount > 0 ? JSON.stringify(labels) : null;
  await db.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'series-device' AS device, to_timestamp(floor($2::float8 + i * $3::float8) / 1000) AS ts,
            'i:s' || i AS event_key, 'reading' AS type, jsonb_build_object('temp', round((i % 500) / 10.0, 1)) AS "values", $5::jsonb AS labels
       FROM generate_series(0, $4::int - 1) AS i`),
    [tenant, start, step, events, tags],
  );
  // One note per minute per drain of 1,000 events, as the projection appends them.
  await db.query(
    `INSERT INTO aggregate_dirty (tenant_id, bucket, labelled)
     SELECT $1, bucket, $5::boolean FROM (
       SELECT DISTINCT date_bin('1 minute', to_timestamp(floor($2::float8 + i * $3::float8) / 1000), TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, i / 1000 AS drain
         FROM generate_series(0, $4::int - 1) AS i) n`,
    [tenant, start, step, events, tags !== null],
  );
  if (labelCount > 0) {
    // Labelled from before the first event, as a PUT would (an API fold under the tenant's lock).
    const samples = Object.entries(labels).map(([label, value]) => ({ device: 'series-device', label, ts: start - MINUTE, value, origin: 'a' }));
    const client = await db.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [tenant]);
    await client.query('SELECT count(*) FROM fold_label_samples($1, $2::jsonb)', [tenant, JSON.stringify(samples)]);
    await client.query('COMMIT');
    client.release();
  }
  await db.query('VACUUM ANALYZE');
  const notes = await db.query<{ notes: number; minutes: number }>('SELECT count(*)::int AS notes, count(DISTINCT bucket)::int AS minutes FROM aggregate_dirty');
  console.log(`seeded ${events.toLocaleString('en-US')} events over ${DAYS} days, ${notes.rows[0]?.notes} notes of ${notes.rows[0]?.minutes} minutes, in ${Math.round(performance.now() - seeded)} ms`);
  await db.end();

  if (!args['no-refresh']) {
    const config = { ...loadConfig({ DATABASE_URL: url }), logLevel: 'warn' as const };
    const deps = createProjectorDeps(config, { logger });
    const loop = buildAggregateRefreshLoop(deps);
    const started = performance.now();
    loop.start();
    let left = -1;
    while (left !== 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const due = await deps.pool.query<{ n: number }>(
        `SELECT ((SELECT count(*) FROM aggregate_dirty WHERE bucket < $1::timestamptz) + (SELECT count(*) FROM group_dirty WHERE bucket < $1::timestamptz))::int AS n`,
        [new Date(end).toISOString()],
      );
      left = due.rows[0]?.n ?? 0;
    }
    const seconds = (performance.now() - started) / 1000;
    await loop.stop();
    const rows = await deps.pool.query<{ n: number; grouped: number }>(
      `SELECT (SELECT sum(count) FROM event_counts_1h)::int AS n, (SELECT coalesce(sum(count), 0) FROM group_rollups_1d)::int AS grouped`);
    console.log(`refresh loop (interval ${config.aggregateRefreshIntervalMs} ms) caught up in ${seconds.toFixed(1)} s; ${rows.rows[0]?.n} events counted in event_counts_1h, ` +
      `${rows.rows[0]?.grouped} in group_rollups_1d (${labelCount} labels${args.tagged ? ', tagged events' : ''})`);
    await closeProjectorDeps(deps);
  }
} finally {
  await scratch.close(args.keep);
}
