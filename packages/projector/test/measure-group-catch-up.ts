/*
 * How long the aggregate refresher takes to catch up with a group's history that lands at once, shaped
 * like the bench's group phase (bench/load-group-history.ts): D devices each reporting `power` every M
 * minutes over H hours at its own phase, every event carrying labels {"fleet":"bench"} (so every minute
 * is labelled and its samples fold into label_versions, as the bench's events do), with the notes the
 * projection leaves (one per minute per drain of D events). Runs refreshAggregates rounds (the loop's
 * claim sizing) until no ended minute is noted and prints the time and each statement's total and
 * median time by name. Not a test: it asserts nothing and tap does not run it.
 *
 *   pnpm exec node packages/projector/test/measure-group-catch-up.ts [--devices 1000] [--every 5] [--hours 25] [--keep]
 *
 * --claim N fixes each claim at N minutes (statement times comparable across runs). --for S stops after S seconds (a rate for a long backlog). --keep leaves the database (strata_group_scratch) for EXPLAIN work; drop it yourself afterwards.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createTenant, insertIntoHistory } from '@strata/testkit';
import { ClaimSizes } from '../src/aggregation/claim-sizes.ts';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { openScratchDatabase } from './scratch-database.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    every: { type: 'string', default: '5' },
    hours: { type: 'string', default: '25' },
    database: { type: 'string', default: 'strata_group_scratch' },
    keep: { type: 'boolean', default: false },
    for: { type: 'string', default: '0' },
    claim: { type: 'string' },
  },
});
const devices = Number(args.devices);
const everyMs = Number(args.every) * 60_000;
const spanMs = Number(args.hours) * 3_600_000;
const name = args.database;
const MINUTE = 60_000;

const end = Math.floor(Date.now() / MINUTE) * MINUTE;
const start = end - spanMs;
const scratch = await openScratchDatabase(name, start, Math.ceil(spanMs / 86_400_000) + 2);
const url = scratch.url;
try {
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const { tenant } = await createTenant(db, 'group-catch-up');
  const slots = Math.floor(spanMs / everyMs);
  // The bench's groupReading: device d's phase in the slot and a one-decimal value.
  await db.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'g-' || lpad(d::text, 4, '0') AS device,
            to_timestamp(($2::float8 + s * $3::float8 + ((d + 1)::bigint * 2654435761 % 4294967296) % $3::bigint) / 1000) AS ts,
            'grp-' || d || '-' || s AS event_key, 'reading' AS type, jsonb_build_object('power', ((d * 31 + s * 17) % 5000) / 10.0) AS "values",
            '{"fleet":"bench"}'::jsonb AS labels
       FROM generate_series(0, $4::int - 1) AS d, generate_series(0, $5::int - 1) AS s`),
    [tenant, start, everyMs, devices, slots],
  );
  await db.query(
    `INSERT INTO aggregate_dirty (tenant_id, bucket, labelled)
     SELECT DISTINCT $1::uuid, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), true FROM tenant_events WHERE tenant_id = $1`,
    [tenant],
  );
  await db.query('VACUUM ANALYZE');
  const seeded = await db.query<{ events: number; minutes: number }>(
    'SELECT (SELECT count(*) FROM tenant_events)::int AS events, (SELECT count(*) FROM aggregate_dirty)::int AS minutes');
  console.log(`seeded ${seeded.rows[0]?.events} events of ${devices} devices, ${seeded.rows[0]?.minutes} noted minutes`);
  await db.end();
  // Each named statement's time, from the client (round trip included).
  const times = new Map<string, number[]>();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // An idle client's error (the database dropped under it at the end) is not the measurement's.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as { query: unknown }).query = async (config: unknown, ...rest: unknown[]) => {
      const t0 = performance.now();
      try {
        return await query(config, ...rest);
      } finally {
        const key = typeof config === 'object' && config !== null && 'name' in config ? String(config.name) : 'other';
        times.set(key, [...(times.get(key) ?? []), performance.now() - t0]);
      }
    };
  });
  const sizes = new ClaimSizes();
  const started = performance.now();
  let rounds = 0;
  let minutes = 0;
  const budgetMs = Number(args.for) * 1000;
  for (;;) {
    if (budgetMs > 0 && performance.now() - started > budgetMs) break;
    rounds++;
    const outcome = await refreshAggregates(pool, { now: end, claimSizes: sizes, maxMinutes: args.claim === undefined ? undefined : Number(args.claim) });
    minutes += outcome.minutes;
    if (outcome.backloggedTenants === 0) {
      const due = await pool.query<{ n: number }>(
        'SELECT ((SELECT count(*) FROM aggregate_dirty) + (SELECT count(*) FROM group_dirty WHERE bucket < $1::timestamptz))::int AS n', [new Date(end).toISOString()]);
      if (due.rows[0]?.n === 0) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${minutes} minutes refreshed in ${seconds.toFixed(1)} s (${(minutes / seconds).toFixed(2)}/s), ${rounds} rounds`);
  for (const [key, list] of [...times.entries()].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0))) {
    const sorted = [...list].sort((a, b) => a - b);
    const total = list.reduce((x, y) => x + y, 0);
    console.log(`${key.padEnd(30)} n=${String(list.length).padStart(5)} total=${(total / 1000).toFixed(1)} s median=${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms max=${sorted.at(-1)?.toFixed(1)} ms`);
  }
  const check = await pool.query('SELECT bucket, count, sum, devices FROM group_rollups_1d ORDER BY bucket');
  console.log(JSON.stringify(check.rows));
  await pool.end();
} finally {
  await scratch.close(args.keep);
}
