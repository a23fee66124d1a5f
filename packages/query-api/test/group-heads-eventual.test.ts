import { randomUUID } from 'node:crypto';
import t from 'tap';
import { encodeToken, type BatchEvent } from '@strata/core';
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { get } from './helpers.ts';
import { groupSeriesOracle } from './support/group-series-oracle.ts';
import { foldLabelSamples } from './support/label-samples.ts';
import { openMinuteApp } from './support/open-minute-app.ts';

/*
 * Decision 0088: a read that may be stale answers an open minute as of its head while the head is
 * within the read's staleness bound: the bucket holding the minute ends at the head's `through`, its
 * `devices` included, and meta.lagMs says how far behind that is. Strong reads, reads after a token
 * and reads whose bound the head is older than stay exact. The open minute is ten minutes back (the
 * refresher's clock is the test's), so only a bound of over ten minutes lets its head answer.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const INTERVALS = { '1m': ['1 minute', MINUTE], '5m': ['5 minutes', 5 * MINUTE], '15m': ['15 minutes', 15 * MINUTE], '1h': ['1 hour', 3_600_000], '1d': ['1 day', DAY] } as const;
const AGGS = 'count,sum,min,max,last,avg,devices';
// The scenarios' instants are written for heads two seconds behind the refresher's clock.
const LAG = 2_000;
const WIDE = 3_600_000;

t.test('a read that may be stale answers an open minute as of its head within its bound, and says how stale', async (t) => {
  const { app, deps, tenant, apiKey, m, from, to } = await openMinuteApp(t);
  let n = 0;
  let seed = 29;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const members = Array.from({ length: 6 }, (_, i) => `g${i}`);
  const event = (ts: number, device = members[Math.floor(random() * members.length)] as string): BatchEvent => ({
    tenantId: tenant,
    device,
    key: `h:${n++}`,
    ts,
    type: 'reading',
    values: { v: Math.round(random() * 2000 - 1000) / 10 },
  });
  const between = (lo: number, hi: number, count: number): BatchEvent[] => Array.from({ length: count }, () => event(lo + Math.floor(random() * (hi - lo))));
  let lastBatch = '';
  const project = async (events: BatchEvent[]): Promise<void> => {
    lastBatch = randomUUID();
    await projectBatch(deps.pool, lastBatch, events);
  };
  const read = async (interval: string, query: string) => {
    const result = await get(app, `/v1/groups/team/red/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}&${query}`, apiKey);
    t.equal(result.status, 200, `${interval} ${query}`);
    return result.body as { buckets: Record<string, number | string>[]; meta: { lagMs: number } };
  };

  await foldLabelSamples(deps.pool, tenant, [...members, 'solo', 'early'].map((device) => ({ device, label: 'team', ts: m - 5 * DAY, value: 'red' })));
  await project(between(m - 30 * MINUTE, m, 100));
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: m })).minutes;
  // `early` reports in the open minute only, before the head and after it: only the head's reporters
  // say it reported before `through` (its newest event is after it, and it has no earlier minute).
  await project([...between(m, m + 20_000, 60), event(m + 5_000, 'early')]);
  await refreshAggregates(deps.pool, { now: m + 22_000, headLagMs: LAG });
  const through = m + 20_000;
  const devicesOf = async (sql: string): Promise<string[]> => (await deps.pool.query<{ device: string }>(sql, [tenant, new Date(m), new Date(through)])).rows.map((r) => r.device);
  t.same(
    await devicesOf(`SELECT device FROM group_minute_reporters WHERE tenant_id = $1 AND label_value = 'red' AND value_key = 'v' AND bucket = $2 AND $3::timestamptz IS NOT NULL ORDER BY 1`),
    await devicesOf(`SELECT DISTINCT device FROM tenant_events WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 AND jsonb_typeof("values" -> 'v') = 'number' ORDER BY 1`),
    "the head keeps the members that reported before its through, early's among them",
  );
  // After the head: more events, and a member whose only event of the hour is one of them.
  await project([...between(through, m + 59_000, 40), event(m + 45_000, 'solo'), event(m + 50_000, 'early')]);

  for (const [interval, [width]] of Object.entries(INTERVALS)) {
    const whole = await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to);
    const asOfHead = await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to, { from: through, to: m + MINUTE });
    t.notSame(whole, asOfHead, `${interval}: the tail changes the answer`);
    const strong = await read(interval, 'consistency=strong');
    t.same(strong.buckets, whole, `${interval}: strong is exact`);
    t.equal(strong.meta.lagMs, 0, `${interval}: strong lags nothing`);
    t.same((await read(interval, '')).buckets, whole, `${interval}: the default bound (3 s) is younger than the head: exact`);
    t.same((await read(interval, `maxStalenessMs=${WIDE}&after=${encodeToken(lastBatch)}`)).buckets, whole, `${interval}: after a token: exact`);
    const before = Date.now();
    const stale = await read(interval, `maxStalenessMs=${WIDE}`);
    t.same(stale.buckets, asOfHead, `${interval}: within the bound: as of the head, devices included`);
    t.ok(stale.meta.lagMs >= before - through - 1 && stale.meta.lagMs <= Date.now() - through + 1, `${interval}: meta.lagMs is the head's age (${stale.meta.lagMs})`);
    t.same((await read(interval, `consistency=cache&maxStalenessMs=${WIDE}`)).buckets, asOfHead, `${interval}: cache reads as eventual`);
    // The bound's extremes: 0 admits no head; the largest allowed admits this ten-minute-old one.
    const none = await read(interval, 'maxStalenessMs=0');
    t.same([none.buckets, none.meta.lagMs], [whole, 0], `${interval}: a bound of 0: exact`);
    t.same((await read(interval, 'maxStalenessMs=86400000')).buckets, asOfHead, `${interval}: the largest bound: as of the head`);
  }
  const hour = (await read('1h', `maxStalenessMs=${WIDE}`)).buckets.find((b) => Date.parse(b.ts as string) === Math.floor(m / 3_600_000) * 3_600_000);
  const hourStrong = (await read('1h', 'consistency=strong')).buckets.find((b) => Date.parse(b.ts as string) === Math.floor(m / 3_600_000) * 3_600_000);
  t.equal(Number(hourStrong?.devices) - Number(hour?.devices), 1, 'the member whose only event is after the head reports only in the exact answer');

  // A noted minute after the open one: a bucket holding both is exact (it cannot end at the head);
  // finer buckets that hold the open minute alone still end there.
  await project([event(m + MINUTE + 5_000, 'g0')]);
  for (const [interval, [width, ms]] of Object.entries(INTERVALS)) {
    const shared = Math.floor(m / ms) === Math.floor((m + MINUTE) / ms);
    const expected = await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to, shared ? undefined : { from: through, to: m + MINUTE });
    t.same((await read(interval, `maxStalenessMs=${WIDE}`)).buckets, expected, `${interval}: a later noted minute ${shared ? 'in the same bucket: exact' : 'in the next bucket: as of the head'}`);
  }

  // A head moved by a release that kept no reporters cannot count them: it does not answer.
  await deps.pool.query(`UPDATE group_minute_marks SET reporters_through = reporters_through - interval '1 millisecond' WHERE tenant_id = $1`, [tenant]);
  const unknown = await read('1m', `maxStalenessMs=${WIDE}`);
  t.same(unknown.buckets, await groupSeriesOracle(deps.pool, tenant, 'red', '1 minute', from, to), 'reporters unknown: exact');
  t.equal(unknown.meta.lagMs, 0, 'reporters unknown: lags nothing');
  await refreshAggregates(deps.pool, { now: m + 24_000, headLagMs: LAG });
  t.same((await read('1m', `maxStalenessMs=${WIDE}`)).buckets, await groupSeriesOracle(deps.pool, tenant, 'red', '1 minute', from, to), 'and an extend keeps them unknown');

  // Once claimed, the minute is stored whole and no head answers.
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: m + 3 * MINUTE })).minutes;
  for (const [interval, [width]] of Object.entries(INTERVALS)) {
    const answer = await read(interval, `maxStalenessMs=${WIDE}`);
    t.same(answer.buckets, await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to), `${interval}: claimed: exact`);
    t.equal(answer.meta.lagMs, 0, `${interval}: and lags nothing`);
  }
});

t.test("heads advance by the clock at their turn, not by the round's start", async (t) => {
  // A round's claims can take seconds before the heads' turn: heads advanced to the round's start would
  // commit already that much older than an eventual read's bound allows.
  const { deps, tenant, m } = await openMinuteApp(t);
  await foldLabelSamples(deps.pool, tenant, [{ device: 'g0', label: 'team', ts: m - DAY, value: 'red' }]);
  await projectBatch(deps.pool, randomUUID(), [{ tenantId: tenant, device: 'g0', key: 'c:1', ts: m + 1_000, type: 'reading', values: { v: 1 } }]);
  await refreshAggregates(deps.pool, { now: m + 5_000, headLagMs: LAG, headsClock: () => m + 9_000 });
  const through = await deps.pool.query<{ ms: number }>(`SELECT date_part('epoch', through) * 1000 AS ms FROM group_minute_marks WHERE tenant_id = $1`, [tenant]);
  t.same(through.rows, [{ ms: m + 9_000 - LAG }], 'the watermark follows the clock read at the heads\' turn');
  await refreshAggregates(deps.pool, { now: m + 12_000, headLagMs: LAG, headsClock: () => m + 11_000 });
  const kept = await deps.pool.query<{ ms: number }>(`SELECT date_part('epoch', through) * 1000 AS ms FROM group_minute_marks WHERE tenant_id = $1`, [tenant]);
  t.same(kept.rows, [{ ms: m + 12_000 - LAG }], 'and never goes by a clock behind the round\'s');
});

t.test('a minute past the cap on reporter rows stops keeping them, and its head no longer answers', async (t) => {
  const { app, deps, tenant, apiKey, m, from, to } = await openMinuteApp(t);
  const devices = ['c0', 'c1', 'c2', 'c3'];
  await foldLabelSamples(deps.pool, tenant, devices.map((device) => ({ device, label: 'team', ts: m - DAY, value: 'red' })));
  let n = 0;
  const send = (ts: number, list: string[]): Promise<unknown> =>
    projectBatch(deps.pool, randomUUID(), list.map((device) => ({ tenantId: tenant, device, key: `cap:${n++}`, ts, type: 'reading', values: { v: 1 } })));
  const mark = async () =>
    (await deps.pool.query<{ kept: boolean; rows: number }>(`SELECT coalesce(reporters_through = through, false) AS kept, reporter_rows AS rows FROM group_minute_marks WHERE tenant_id = $1`, [tenant])).rows[0];
  const read = async () => (await get(app, `/v1/groups/team/red/series?value=v&interval=1m&agg=${AGGS}&from=${from}&to=${to}&maxStalenessMs=${WIDE}`, apiKey)).body;
  await send(m + 1_000, ['c0', 'c1']);
  await refreshAggregates(deps.pool, { now: m + 5_000, headLagMs: LAG, maxReportersPerMinute: 3 });
  t.same(await mark(), { kept: true, rows: 2 }, 'within the cap: kept, and counted');
  await send(m + 6_000, ['c0', 'c1']);
  await refreshAggregates(deps.pool, { now: m + 9_000, headLagMs: LAG, maxReportersPerMinute: 3 });
  t.same(await mark(), { kept: true, rows: 2 }, 'the same reporters again: still 2 rows, still kept');
  t.ok((await read()).meta.lagMs > 0, 'the head answers');
  await send(m + 10_000, ['c2', 'c3']);
  await send(m + 20_000, ['c0']);
  await refreshAggregates(deps.pool, { now: m + 14_000, headLagMs: LAG, maxReportersPerMinute: 3 });
  t.equal((await mark())?.kept, false, 'past the cap: no longer kept');
  const answer = await read();
  t.equal(answer.meta.lagMs, 0, 'the head no longer answers');
  t.same(answer.buckets, await groupSeriesOracle(deps.pool, tenant, 'red', '1 minute', from, to), 'the read is exact');
  await refreshAggregates(deps.pool, { now: m + 18_000, headLagMs: LAG, maxReportersPerMinute: 3 });
  t.equal((await mark())?.kept, false, 'and stays so until the minute is claimed');
});
