import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent, Pool } from '@strata/core';
import { projectBatch, refreshAggregates, type Teardownable } from '@strata/testkit';
import { get, newTenant } from './helpers.ts';
import { groupSeriesOracle } from './support/group-series-oracle.ts';
import { openMinuteApp } from './support/open-minute-app.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0085's heads against what its hostile review found: a note deleted by anything else than
 * this release's claim (an older release's refresher during a rolling deploy) takes its minute's head
 * with it; a drain within the lag of the head does not hold it still for the rest of the minute; many
 * devices stamped ahead of the clock stop the heads rather than make every round costly; more tenants
 * receiving events than a round takes all get heads, in turn.
 */
// The scenarios' instants are written for heads two seconds behind the refresher's clock.
const LAG = 2_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const INTERVALS = { '1m': '1 minute', '5m': '5 minutes', '1h': '1 hour' } as const;

interface Fixture {
  pool: Pool;
  tenant: string;
  /** The minute playing the open one (ten minutes back: the refresher's clock is the test's). */
  m: number;
  event(ts: number, device: string, v?: number): BatchEvent;
  project(events: BatchEvent[]): Promise<unknown>;
  refreshAt(now: number, maxTenants?: number): Promise<void>;
  through(tenant?: string): Promise<number | null | undefined>;
  check(label: string): Promise<void>;
}

/** What the fixture needs of a subtest. */
type Test = Teardownable & { same(found: unknown, wanted: unknown, message: string): boolean };

async function fixture(t: Test): Promise<Fixture> {
  const { app, deps, tenant, apiKey, m, from, to } = await openMinuteApp(t);
  let n = 0;
  await foldLabelSamples(deps.pool, tenant, ['r0', 'r1', 'r2'].map((device) => ({ device, label: 'team', ts: m - DAY, value: 'red' })));
  return {
    pool: deps.pool,
    tenant,
    m,
    event: (ts, device, v = (n % 7) + 0.5) => ({ tenantId: tenant, device, key: `r:${n++}`, ts, type: 'reading', values: { v } }),
    project: (events) => projectBatch(deps.pool, randomUUID(), events),
    refreshAt: async (now, maxTenants) => {
      for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now, headLagMs: LAG, ...(maxTenants ? { maxTenants } : {}) })).minutes;
    },
    through: async (of = tenant) =>
      (
        await deps.pool.query<{ through: number | null }>(`SELECT date_part('epoch', through) * 1000 AS through FROM group_minute_marks WHERE tenant_id = $1 AND bucket = $2`, [
          of,
          new Date(m).toISOString(),
        ])
      ).rows[0]?.through,
    check: async (label) => {
      for (const [interval, width] of Object.entries(INTERVALS)) {
        const result = await get(app, `/v1/groups/team/red/series?value=v&interval=${interval}&agg=count,sum,min,max,last,avg,devices&from=${from}&to=${to}`, apiKey);
        t.same(result.body.buckets, await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to), `${label}: ${interval} = raw history × versions`);
      }
    },
  };
}

t.test("a note deleted by anything (an older release's claim) takes its minute's head with it", async (t) => {
  const f = await fixture(t);
  await f.project([f.event(f.m + 5_000, 'r0', 3), f.event(f.m + 15_000, 'r1', 7)]);
  await f.refreshAt(f.m + 22_000);
  t.equal(await f.through(), f.m + 20_000, 'the head stands through +20 s');
  // A drain the head has not seen, with an event before it: the head cannot stand beside its note.
  await f.project([f.event(f.m + 10_000, 'r2', 100)]);
  await f.check('a late drain beside the head');
  // An older refresher claims the minute: it deletes the notes and knows nothing of heads.
  await f.pool.query(`DELETE FROM aggregate_dirty WHERE tenant_id = $1 AND bucket = $2`, [f.tenant, new Date(f.m).toISOString()]);
  t.equal(await f.through(), undefined, 'the mark went with the notes');
  t.equal((await f.pool.query(`SELECT count(*)::int AS n FROM group_minute_heads WHERE tenant_id = $1`, [f.tenant])).rows[0].n, 0, 'and the heads');
  // A drain after the head notes the minute again: nothing stale may stand.
  await f.project([f.event(f.m + 40_000, 'r0', 1)]);
  await f.check('the minute noted again after the deletion');
});

t.test('a drain within the lag of the head holds it for one round, not for the rest of the minute', async (t) => {
  const f = await fixture(t);
  await f.project([f.event(f.m + 5_000, 'r0')]);
  await f.refreshAt(f.m + 22_000);
  t.equal(await f.through(), f.m + 20_000, 'the head stands through +20 s');
  // Its oldest event is within the lag (2 s) after the head: the next round cannot move past it.
  await f.project([f.event(f.m + 21_000, 'r1'), f.event(f.m + 29_000, 'r2')]);
  await f.refreshAt(f.m + 32_000);
  t.equal(await f.through(), f.m + 20_000, 'the round after that drain keeps the head where it was');
  await f.check('held for a round');
  await f.refreshAt(f.m + 42_000);
  t.equal(await f.through(), f.m + 40_000, 'the next round, with no drain since, moves it to the clock less the lag');
  await f.check('moved on');
});

t.test('more than a thousand devices stamped ahead of the clock hold the heads still, exactly', async (t) => {
  const f = await fixture(t);
  await f.project([f.event(f.m + 5_000, 'r0', 2)]);
  await f.refreshAt(f.m + 12_000);
  t.equal(await f.through(), f.m + 10_000, 'the head stands through +10 s');
  // 1,001 devices (one of them a member) send once, 50 minutes ahead of the refresher's clock.
  await f.project(Array.from({ length: 1_001 }, (_, i) => f.event(f.m + 50 * MINUTE, i === 0 ? 'r2' : `ahead-${i}`)));
  await f.project([f.event(f.m + 15_000, 'r1', 4)]);
  await f.refreshAt(f.m + 32_000);
  t.equal(await f.through(), f.m + 10_000, 'the head does not move while they are ahead');
  await f.check('heads held still');
});

t.test('every tenant receiving events gets heads in turn, however many a round takes', async (t) => {
  const f = await fixture(t);
  const other = await newTenant(f.pool, 'other');
  await foldLabelSamples(f.pool, other.tenant, [{ device: 'r0', label: 'team', ts: f.m - DAY, value: 'red' }]);
  await f.project([f.event(f.m + 5_000, 'r0'), { ...f.event(f.m + 5_000, 'r0'), tenantId: other.tenant }]);
  // One tenant a round: the one whose heads moved least recently (never, first) goes next.
  await refreshAggregates(f.pool, { now: f.m + 12_000, headLagMs: LAG, maxTenants: 1 });
  await refreshAggregates(f.pool, { now: f.m + 12_000, headLagMs: LAG, maxTenants: 1 });
  t.equal(await f.through(), f.m + 10_000, 'one tenant has a head');
  t.equal(await f.through(other.tenant), f.m + 10_000, 'and so has the other');
});
