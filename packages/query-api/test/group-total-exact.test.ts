import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent, Pool } from '@strata/core';
import { aggregateRetentionJob, GROUP_MINUTE_STEPS, projectBatch, refreshAggregates } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0074: a group's running total at any instant (events up to and including `at`) equals an
 * oracle over history and versions: at random instants, exact event times and a millisecond either
 * side, minute, hour and day edges, inside minutes too dense for steps (> GROUP_MINUTE_STEPS distinct times) and
 * sparse ones; before and after refreshes, with late events and a door moved in the past; after raw
 * history of a day is gone (steps answer, a dense minute says `meta.exactAt`), and after aggregate
 * retention folded the days before a horizon into group_totals_base.
 */
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

t.test('group totals equal an oracle at any instant, before and after refreshes, raw retention and aggregate retention', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const day0 = Math.floor((now - 3 * DAY) / DAY) * DAY;
  const day1 = day0 + DAY;
  let seed = 3;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let n = 0;
  const crossing = (ts: number, device: string): BatchEvent => ({
    tenantId: tenant, device, key: `i:${n++}`, ts, type: 'crossing', values: random() < 0.05 ? { battery: 3 } : { c: random() < 0.55 ? 1 : -1 },
  });
  const project = (events: BatchEvent[]): Promise<unknown> => projectBatch(deps.pool, randomUUID(), events);
  const refresh = async (): Promise<void> => {
    for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now })).minutes;
  };

  // Doors d0 d1 in space A, d2 d3 in B, from before the history.
  await foldLabelSamples(deps.pool, tenant, ['d0', 'd1', 'd2', 'd3'].map((device, i) => ({ device, label: 'space', ts: day0 - DAY, value: i < 2 ? 'A' : 'B' })));
  // Dense minutes (more distinct times than steps keep): m1 on day0 (its raw goes later), m2 on day1.
  const m1 = day0 + 5 * HOUR + 7 * MINUTE;
  const m2 = day1 + 9 * HOUR + 30 * MINUTE;
  // (one crossing in twenty carries no `c`: 200 over the bound keeps the minute past it)
  const DENSE = GROUP_MINUTE_STEPS + 200;
  const events = [
    ...Array.from({ length: 1500 }, () => crossing(day0 + Math.floor(random() * (now - 10 * MINUTE - day0)), `d${Math.floor(random() * 4)}`)),
    ...Array.from({ length: DENSE }, (_, i) => crossing(m1 + 100 + i * Math.floor((MINUTE - 200) / DENSE), 'd0')),
    ...Array.from({ length: DENSE }, (_, i) => crossing(m2 + i * Math.floor((MINUTE - 1) / DENSE), i % 2 ? 'd1' : 'd0')),
    ...Array.from({ length: 5 }, (_, i) => crossing(Math.floor(now / MINUTE) * MINUTE + i * 7, 'd2')),
  ];
  for (let i = 0; i < events.length; i += 300) await project(events.slice(i, i + 300));

  // Instants: random, every 40th event's time and a millisecond either side, edges, inside dense minutes.
  const instants = new Set<number>([now, now + MINUTE, day0 - HOUR, day0, day0 - 1, day1, day1 - 1, day1 + DAY, day1 + DAY - 1]);
  for (let i = 0; i < 40; i++) instants.add(day0 - HOUR + Math.floor(random() * (now + MINUTE - day0 + HOUR)));
  // (the random crossings only: the dense minutes' thousands of times have instants of their own below)
  events.slice(0, 1500).forEach((e, i) => i % 40 === 0 && [e.ts - 1, e.ts, e.ts + 1].forEach((ms) => instants.add(ms)));
  for (const m of [m1, m2]) {
    [m - 1, m, m + MINUTE - 1, m + MINUTE, Math.floor(m / HOUR) * HOUR, Math.floor(m / HOUR) * HOUR - 1].forEach((ms) => instants.add(ms));
    for (let i = 0; i < 8; i++) instants.add(m + Math.floor(random() * MINUTE));
  }
  const total = async (space: string, at: number): Promise<{ total: number; exactAt?: string }> => {
    const answer = await get(app, `/v1/groups/space/${space}/total?value=c&at=${new Date(at).toISOString()}`, apiKey);
    if (answer.status !== 200) throw new Error(`total ${space} at ${at}: ${answer.status} ${JSON.stringify(answer.body)}`);
    t.equal(answer.body.at, new Date(at).toISOString());
    return answer.body.meta.exactAt === undefined ? { total: answer.body.total } : { total: answer.body.total, exactAt: answer.body.meta.exactAt };
  };
  const check = async (label: string): Promise<void> => {
    for (const space of ['A', 'B']) {
      const oracle = await totalsOracle(deps.pool, tenant, space);
      let wrong = 0;
      for (const at of instants) {
        const got = await total(space, at);
        if (got.total !== oracle(at) || got.exactAt !== undefined) {
          wrong++;
          t.fail(`${label}: ${space} at ${new Date(at).toISOString()}: ${JSON.stringify(got)}, oracle ${oracle(at)}`);
        }
      }
      t.equal(wrong, 0, `${label}: ${space} at ${instants.size} instants = raw history × versions`);
    }
  };

  await check('(a) nothing refreshed: all live');
  await refresh();
  const steps = await deps.pool.query(`SELECT count(*) FILTER (WHERE step_us IS NULL)::int AS dense, count(*)::int AS rows FROM group_rollups_1m WHERE tenant_id = $1 AND value_key = 'c'`, [tenant]);
  t.ok(steps.rows[0].dense >= 2 && steps.rows[0].rows > steps.rows[0].dense, 'dense minutes stored without steps, the others with');
  await check('(b) refreshed: days, hours, minutes, steps; the current minute live');

  // Door d1 moved from A to B at a past instant (its later minutes re-noted), late crossings.
  await foldLabelSamples(deps.pool, tenant, [{ device: 'd1', label: 'space', ts: day1 + 2 * HOUR + 1234, value: 'B' }]);
  await project(Array.from({ length: 30 }, () => crossing(day0 + Math.floor(random() * 2 * DAY), `d${Math.floor(random() * 4)}`)));
  await check('(c) a moved door and late crossings, before a refresh');
  await refresh();
  await check('(d) after a refresh');

  // (e) Decision 0084: crossings of a door in neither space (u0, no labels) in the next minute, after
  // every member's newest crossing, hold none of the spaces' buckets; then d0 (A) crosses there too,
  // which must count at once.
  const next = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  [next - 1, next, next + 1_500, next + 2_000, next + 2_500, next + MINUTE - 1].forEach((ms) => instants.add(ms));
  await project([crossing(next + 1_000, 'u0'), crossing(next + 3_000, 'u0')]);
  await check('(e) a minute noted by a door in neither space');
  await project([{ ...crossing(next + 2_000, 'd0'), values: { c: 1 } }]);
  await check("(e) a member's crossing in that minute");

  // Raw history of day0 goes (as the partition retention job drops a day; every note was refreshed).
  const before = { A: await totalsOracle(deps.pool, tenant, 'A'), B: await totalsOracle(deps.pool, tenant, 'B') };
  const bounds = await deps.pool.query<{ first: number; last: number }>(
    `SELECT date_part('epoch', min(e.ts)) * 1000 AS first, date_part('epoch', max(e.ts)) * 1000 AS last FROM tenant_events e
      JOIN label_versions l ON l.tenant_id = e.tenant_id AND l.device = e.device AND l.label = 'space' AND l.value = 'A' AND l.valid_from <= e.ts AND e.ts < l.valid_to
     WHERE e.tenant_id = $1 AND e.ts >= $2 AND e.ts < $3 AND jsonb_typeof(e."values" -> 'c') = 'number'`,
    [tenant, new Date(m1).toISOString(), new Date(m1 + MINUTE).toISOString()],
  );
  const { first, last } = bounds.rows[0] as { first: number; last: number };
  await deps.pool.query(`DELETE FROM events WHERE device_no IN (SELECT device_no FROM devices WHERE tenant_id = $1) AND ts < $2`, [tenant, new Date(day1).toISOString()]);
  let exactAtSeen = 0;
  for (const space of ['A', 'B'] as const) {
    for (const at of instants) {
      const got = await total(space, at);
      // Inside dense m1, between its first and last event: exact at the minute's start, and says so.
      const cut = space === 'A' && at >= first && at < last;
      const want = cut ? { total: before[space](m1 - 1), exactAt: new Date(m1 - 1).toISOString() } : { total: before[space](at) };
      if (cut) exactAtSeen++;
      if (got.total !== want.total || got.exactAt !== want.exactAt) t.fail(`raw gone: ${space} at ${new Date(at).toISOString()}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
  t.ok(exactAtSeen >= 8, `raw gone: ${exactAtSeen} instants inside the dense minute answered with meta.exactAt`);

  // Aggregate retention with its horizon at day1 (the ops job itself, with a clock and windows that put
  // it there): group days before it folded into the base, their hours and minutes deleted. Totals
  // from day1 on stay exact; earlier ones are the base, and say so.
  const windowDays = Math.round((Math.floor(now / DAY) * DAY - day1) / DAY);
  const retention = await aggregateRetentionJob.run({
    pool: deps.pool,
    clock: { now: () => now },
    logger: deps.logger,
    retentionDays: windowDays,
    aggregateRetentionDays: windowDays,
    maxFutureSkewMs: 3_600_000,
  });
  t.equal(retention.result, 'completed', 'aggregate retention ran');
  let wrong = 0;
  for (const space of ['A', 'B'] as const) {
    for (const at of instants) {
      const got = await total(space, at);
      const want = at < day1 ? { total: before[space](day1 - 1), exactAt: new Date(day1 - 1).toISOString() } : { total: before[space](at) };
      if (got.total !== want.total || got.exactAt !== want.exactAt) {
        wrong++;
        t.fail(`aggregates retained from day1: ${space} at ${new Date(at).toISOString()}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }
  }
  t.equal(wrong, 0, 'after aggregate retention: exact from the horizon on, the base (with exactAt) before it');
});

/** The running total straight from history and label_versions, as a function of the instant. */
async function totalsOracle(pool: Pool, tenant: string, space: string): Promise<(at: number) => number> {
  const result = await pool.query<{ ms: number; c: number }>(
    `SELECT date_part('epoch', e.ts) * 1000 AS ms, ((e."values" -> 'c')::numeric)::float8 AS c
       FROM tenant_events e
       JOIN label_versions l ON l.tenant_id = e.tenant_id AND l.device = e.device AND l.label = 'space' AND l.value = $2
                            AND l.valid_from <= e.ts AND e.ts < l.valid_to
      WHERE e.tenant_id = $1 AND jsonb_typeof(e."values" -> 'c') = 'number'
      ORDER BY e.ts`,
    [tenant, space],
  );
  const rows = result.rows;
  return (at) => rows.reduce((sum, row) => (row.ms <= at ? sum + row.c : sum), 0);
}
