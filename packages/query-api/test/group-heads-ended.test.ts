import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent } from '@strata/core';
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { get } from './helpers.ts';
import { groupSeriesOracle } from './support/group-series-oracle.ts';
import { foldLabelSamples } from './support/label-samples.ts';
import { openMinuteApp } from './support/open-minute-app.ts';

/*
 * Decision 0091: a minute that has ended but is not claimed yet keeps its head, which goes on to the
 * minute's end; reads then add no tail of it (the claim of a busy minute takes seconds, and every read
 * would otherwise probe every member's history meanwhile). A minute without a head is not started once
 * it has ended, and a late event gives the finished head up. Every read stays equal to the oracle.
 * The refresher's clock is the test's: `m` (ten minutes back) plays the minute that just ended.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const INTERVALS = { '1m': '1 minute', '5m': '5 minutes', '15m': '15 minutes', '1h': '1 hour', '1d': '1 day' } as const;
const AGGS = 'count,sum,min,max,last,avg,devices';
const LAG = 2_000;
const WIDE = 3_600_000;

t.test("an ended minute's head reaches the minute's end before the claim; reads of it stay exact", async (t) => {
  const { app, deps, tenant, apiKey, m, from, to } = await openMinuteApp(t);
  let n = 0;
  let seed = 41;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const members = Array.from({ length: 6 }, (_, i) => `g${i}`);
  const event = (ts: number, device = members[Math.floor(random() * members.length)] as string): BatchEvent => ({
    tenantId: tenant,
    device,
    key: `e:${n++}`,
    ts,
    type: 'reading',
    values: { v: Math.round(random() * 2000 - 1000) / 10 },
  });
  const between = (lo: number, hi: number, count: number): BatchEvent[] => Array.from({ length: count }, () => event(lo + Math.floor(random() * (hi - lo))));
  const project = (events: BatchEvent[]): Promise<unknown> => projectBatch(deps.pool, randomUUID(), events);
  const read = async (interval: string, query: string) => {
    const result = await get(app, `/v1/groups/team/red/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}&${query}`, apiKey);
    t.equal(result.status, 200);
    return result.body as { buckets: Record<string, number | string>[]; meta: { lagMs: number } };
  };
  const mark = async (bucket: number): Promise<number | null | undefined> =>
    (
      await deps.pool.query<{ through: number | null }>(`SELECT date_part('epoch', through) * 1000 AS through FROM group_minute_marks WHERE tenant_id = $1 AND bucket = $2`, [
        tenant,
        new Date(bucket).toISOString(),
      ])
    ).rows[0]?.through;
  // Heads alone: no minute is claimed (the claim's size is 0), as when a round moves them before a claim.
  const headsAt = (now: number) => refreshAggregates(deps.pool, { now, headLagMs: LAG, maxMinutes: 0 });
  const checkAll = async (label: string): Promise<void> => {
    for (const [interval, width] of Object.entries(INTERVALS)) {
      const whole = await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to);
      t.same((await read(interval, 'consistency=strong')).buckets, whole, `${label}: ${interval} strong = oracle`);
      t.same((await read(interval, '')).buckets, whole, `${label}: ${interval} eventual (3 s bound) = oracle`);
    }
  };

  await foldLabelSamples(deps.pool, tenant, [...members, 'late'].map((device) => ({ device, label: 'team', ts: m - 5 * DAY, value: 'red' })));
  await project(between(m - 20 * MINUTE, m, 60));
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: m })).minutes;
  await project(between(m, m + 50_000, 50));
  await headsAt(m + 52_000);
  t.equal(await mark(m), m + 50_000, 'the open minute has a head');
  // The minute's last seconds, and the next minute's first.
  await project([...between(m + 50_000, m + MINUTE, 20), ...between(m + MINUTE, m + MINUTE + 10_000, 20)]);
  await headsAt(m + MINUTE + 12_000);
  t.equal(await mark(m), m + MINUTE, "the ended minute's head went on to its end");
  t.equal(await mark(m + MINUTE), m + MINUTE + 10_000, 'the next minute started its own');
  await checkAll('ended minute finished');
  for (const [interval, width] of Object.entries(INTERVALS)) {
    const asOfHead = await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to, { from: m + MINUTE + 10_000, to: m + 2 * MINUTE });
    const stale = await read(interval, `maxStalenessMs=${WIDE}`);
    t.same(stale.buckets, asOfHead, `${interval}: as of the open minute's head, the ended minute whole`);
    t.ok(stale.meta.lagMs >= Date.now() - (m + MINUTE + 10_000) - 1_000, `${interval}: the lag is the open minute's head's`);
  }
  // The finished head is what answers for its minute: changed by hand, the answer moves with it.
  await deps.pool.query(`UPDATE group_minute_heads SET sum = sum + 1000, count = count + 1 WHERE tenant_id = $1 AND bucket = $2`, [tenant, new Date(m).toISOString()]);
  const exact = await groupSeriesOracle(deps.pool, tenant, 'red', '1 minute', from, to);
  const moved = (await read('1m', 'consistency=strong')).buckets.find((b) => Date.parse(b.ts as string) === m);
  const truth = exact.find((b) => Date.parse(b.ts as string) === m);
  t.equal(moved?.count, Number(truth?.count) + 1, 'the read took the ended minute from its head');

  // A late event into the ended minute: its note was not seen by the head, so no read uses the head,
  // the next round gives it up, and it is not started again.
  await project([event(m + 30_000, 'late')]);
  await checkAll('after a late event');
  await headsAt(m + MINUTE + 14_000);
  t.equal(await mark(m), null, 'the late note gave the head up');
  await headsAt(m + MINUTE + 30_000);
  t.equal(await mark(m), null, 'an ended minute is not started again');
  await checkAll('given up');
  // An ended minute that never had a head does not start one.
  await headsAt(m + 3 * MINUTE);
  t.equal(await mark(m + 2 * MINUTE), undefined, 'no head for a minute without events');

  // The claim takes the minutes and their heads; the reads stay exact.
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: m + 3 * MINUTE, headLagMs: LAG })).minutes;
  t.equal(await mark(m), undefined, 'claimed: the mark went with the notes');
  t.equal(await mark(m + MINUTE), undefined);
  await checkAll('after the claim');
});

t.test('an ended minute without a head does not start one', async (t) => {
  const { deps, tenant, m } = await openMinuteApp(t);
  await foldLabelSamples(deps.pool, tenant, [{ device: 'g0', label: 'team', ts: m - DAY, value: 'red' }]);
  await projectBatch(deps.pool, randomUUID(), [{ tenantId: tenant, device: 'g0', key: 'x:1', ts: m + 1_000, type: 'reading', values: { v: 1 } }]);
  await refreshAggregates(deps.pool, { now: m + MINUTE + 5_000, headLagMs: LAG, maxMinutes: 0 });
  const marks = await deps.pool.query(`SELECT bucket FROM group_minute_marks WHERE tenant_id = $1`, [tenant]);
  t.same(marks.rows, [], 'no mark: reads combine the minute from history until the claim');
});
