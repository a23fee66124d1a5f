import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent, Pool } from '@strata/core';
// The projector's own projection and refresher, through the testkit, with batch ids and refresh rounds
// under the test's control.
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

/*
 * Decision 0060: series and stats equal an oracle over raw history at every moment — before any
 * refresh, after it, after late, re-sent and out-of-order events, after a refresher that failed
 * mid-transaction, and for the current minute, which the refresher leaves to live reads.
 */
const MINUTE = 60_000;
const INTERVALS = { '1m': '1 minute', '5m': '5 minutes', '15m': '15 minutes', '1h': '1 hour', '1d': '1 day' } as const;

t.test('series and stats equal an oracle over raw history before, during and after refreshes', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const from = new Date(now - 4 * 86_400_000).toISOString();
  const to = new Date(now + 2 * MINUTE).toISOString();
  let seed = 11;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let n = 0;
  const event = (ts: number, device = 'dev'): BatchEvent => ({
    tenantId: tenant,
    device,
    key: `i:${n++}`,
    ts,
    type: random() < 0.3 ? 'door' : 'reading',
    // Decimal fractions: a float8 sum would depend on the order of addition; numeric sums do not.
    values: random() < 0.1 ? { label: 'x' } : { v: Math.round(random() * 2000 - 1000) / 10, w: 0.1 },
  });
  const project = (events: BatchEvent[], batchId = randomUUID()): Promise<unknown> => projectBatch(deps.pool, batchId, events);
  const refresh = async (): Promise<number> => {
    let minutes = 0;
    // The refresher's clock stays at the test's start, so the minute of `current` never ends here.
    for (let round = 1; round > 0; minutes += round) round = (await refreshAggregates(deps.pool, { now })).minutes;
    return minutes;
  };

  const check = async (label: string): Promise<void> => {
    for (const [interval, width] of Object.entries(INTERVALS)) {
      const series = await get(app, `/v1/devices/dev/series?value=v&interval=${interval}&agg=count,sum,min,max,last&from=${from}&to=${to}`, apiKey);
      t.equal(series.status, 200, `${label}: series ${interval}`);
      t.same(series.body.buckets, await seriesOracle(deps.pool, tenant, width), `${label}: series ${interval} = raw history`);
      const stats = await get(app, `/v1/stats?interval=${interval}&from=${from}&to=${to}`, apiKey);
      t.same(stats.body.buckets, await statsOracle(deps.pool, tenant, width), `${label}: stats ${interval} = raw history`);
    }
  };

  // Three days of two devices, in order, in batches, and events in the current minute.
  const history = Array.from({ length: 900 }, (_, i) => event(now - 3 * 86_400_000 + i * 287_000 + Math.floor(random() * 1000), i % 4 === 0 ? 'other' : 'dev'));
  const current = Array.from({ length: 5 }, (_, i) => event(Math.floor(now / MINUTE) * MINUTE + i * 10));
  for (let i = 0; i < history.length; i += 150) await project(history.slice(i, i + 150));
  await project(current);
  await check('(a) visible, nothing refreshed yet');

  t.ok((await refresh()) > 0, 'the refresher materialized the ended minutes');
  const noted = await deps.pool.query(`SELECT DISTINCT (extract(epoch FROM bucket) * 1000)::float8 AS ms FROM aggregate_dirty WHERE tenant_id = $1`, [tenant]);
  t.same(noted.rows.map((row) => row.ms), [Math.floor(now / MINUTE) * MINUTE], '(e) only the current minute is left to live reads');
  await check('(b) after a refresh');

  // Late (two days back, into materialized minutes and hours), out of order, and re-sent (a whole
  // batch again under a new id, and a retried job with its own id): each event counts once.
  const late = Array.from({ length: 40 }, () => event(now - 2 * 86_400_000 + Math.floor(random() * 86_400_000)));
  const retriedId = randomUUID();
  await project(late.slice(20).reverse(), retriedId);
  await project(late.slice(20).reverse(), retriedId);
  await project([...late.slice(0, 20), ...history.slice(0, 30)]);
  await check('(c) late, re-sent and out-of-order events, before a refresh');
  await refresh();
  await check('(c) after a refresh');
  await refresh();
  await check('a second refresh of nothing changes nothing');

  // A refresher that fails inside its transaction (here: writing the hours) leaves everything as it
  // was: its minutes stay noted, reads stay exact, and the next refresh completes the work.
  await project(Array.from({ length: 30 }, () => event(now - 86_400_000 + Math.floor(random() * 3_600_000))));
  await deps.pool.query(`CREATE FUNCTION refuse_hours() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refresher crash'; END $$`);
  await deps.pool.query(`CREATE TRIGGER refuse_hours BEFORE INSERT OR UPDATE OR DELETE ON rollups_1h FOR EACH ROW EXECUTE FUNCTION refuse_hours()`);
  const before = (await deps.pool.query(`SELECT count(*)::int AS n FROM aggregate_dirty WHERE tenant_id = $1`, [tenant])).rows[0].n;
  const crashed = await refreshAggregates(deps.pool, { now, tenantFailed: (_tenant, error) => t.match(String(error), /refresher crash/) });
  t.equal(crashed.failedTenants, 1, 'the failed tenant transaction is reported, the round goes on');
  t.equal((await deps.pool.query(`SELECT count(*)::int AS n FROM aggregate_dirty WHERE tenant_id = $1`, [tenant])).rows[0].n, before, 'the claimed notes are back');
  await check('(d) after a refresher crash mid-run');
  await deps.pool.query(`DROP TRIGGER refuse_hours ON rollups_1h`);
  await refresh();
  await check('(d) after the next refresh');

  const total = await deps.pool.query(`SELECT sum(count)::int AS n FROM event_counts_1m WHERE tenant_id = $1`, [tenant]);
  const stored = await deps.pool.query(`SELECT count(*)::int AS n FROM tenant_events WHERE tenant_id = $1 AND ts < date_bin('1 minute', $2::timestamptz, TIMESTAMPTZ '1970-01-01 00:00:00+00')`, [tenant, new Date(now).toISOString()]);
  t.equal(total.rows[0].n, stored.rows[0].n, 'materialized counts hold every stored event of ended minutes once');
});

/** Per bucket of `width`: the oracle straight from history (numeric sums, newest value last, the larger on a tie). */
async function seriesOracle(pool: Pool, tenant: string, width: string): Promise<unknown[]> {
  const result = await pool.query(
    `SELECT to_char(date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
            count(*)::int AS count, sum(("values"->>'v')::numeric)::float8 AS sum,
            min(("values"->>'v')::float8) AS min, max(("values"->>'v')::float8) AS max,
            (array_agg(("values"->>'v')::float8 ORDER BY ts DESC, ("values"->>'v')::float8 DESC))[1] AS last
       FROM tenant_events WHERE tenant_id = $1 AND device = 'dev' AND jsonb_typeof("values"->'v') = 'number'
      GROUP BY 1 ORDER BY 1`,
    [tenant, width],
  );
  return result.rows;
}

async function statsOracle(pool: Pool, tenant: string, width: string): Promise<unknown[]> {
  const result = await pool.query(
    `SELECT to_char(date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
            jsonb_object_agg(type, n) AS counts
       FROM (SELECT ts, type, count(*) OVER (PARTITION BY date_bin($2::interval, ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), type)::int AS n FROM tenant_events WHERE tenant_id = $1) e
      GROUP BY 1 ORDER BY 1`,
    [tenant, width],
  );
  return result.rows;
}
