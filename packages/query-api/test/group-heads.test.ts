import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent } from '@strata/core';
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { groupSeriesOracle } from './support/group-series-oracle.ts';
import { openMinuteApp } from './support/open-minute-app.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0085: the heads of an open minute. The refresher's clock is the test's (refreshAggregates
 * `now`), so a minute ten minutes back plays the open minute: heads start, extend past new events,
 * stand beside a drain whose events are all after the head, are given up when a drain lands an event
 * before it, start again a few seconds later, and go when the minute is claimed. At every step each interval equals the oracle over
 * raw history × versions; and whether the read really used the head is shown by changing the stored
 * head: the answer moves with it exactly when the head stands.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const INTERVALS = { '1m': '1 minute', '5m': '5 minutes', '15m': '15 minutes', '1h': '1 hour', '1d': '1 day' } as const;
const AGGS = 'count,sum,min,max,last,avg,devices';
// The scenarios' instants are written for heads two seconds behind the refresher's clock.
const LAG = 2_000;

t.test("an open minute's group heads answer with the events after them, exactly, and stand only while every note allows", async (t) => {
  const { app, deps, tenant, apiKey, m, from, to } = await openMinuteApp(t);
  let n = 0;
  let seed = 11;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const members = Array.from({ length: 8 }, (_, i) => `g${i}`);
  const devices = [...members, 'mover', 'o0', 'o1'];
  const event = (ts: number, device = devices[Math.floor(random() * devices.length)] as string): BatchEvent => ({
    tenantId: tenant,
    device,
    key: `h:${n++}`,
    ts,
    type: 'reading',
    values: random() < 0.1 ? { w: 1 } : { v: Math.round(random() * 2000 - 1000) / 10 },
  });
  const between = (lo: number, hi: number, count: number): BatchEvent[] => Array.from({ length: count }, () => event(lo + Math.floor(random() * (hi - lo))));
  const project = (events: BatchEvent[]): Promise<unknown> => projectBatch(deps.pool, randomUUID(), events);
  const refreshAt = async (now: number): Promise<void> => {
    for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now, headLagMs: LAG })).minutes;
  };
  const answer = async (interval: string): Promise<Record<string, number | string>[]> => {
    const result = await get(app, `/v1/groups/team/red/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}`, apiKey);
    t.equal(result.status, 200);
    return result.body.buckets;
  };
  const check = async (label: string): Promise<void> => {
    for (const [interval, width] of Object.entries(INTERVALS)) {
      t.same(await answer(interval), await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to), `${label}: ${interval} = raw history × versions`);
    }
  };
  const mark = async (): Promise<{ through: number | null } | undefined> =>
    (
      await deps.pool.query<{ through: number | null }>(`SELECT date_part('epoch', through) * 1000 AS through FROM group_minute_marks WHERE tenant_id = $1 AND bucket = $2`, [
        tenant,
        new Date(m).toISOString(),
      ])
    ).rows[0];
  const headCount = async (): Promise<number | undefined> =>
    (
      await deps.pool.query<{ count: number }>(`SELECT count::int FROM group_minute_heads WHERE tenant_id = $1 AND label_value = 'red' AND value_key = 'v' AND bucket = $2`, [
        tenant,
        new Date(m).toISOString(),
      ])
    ).rows[0]?.count;
  const redBefore = async (through: number): Promise<number> =>
    (
      await deps.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tenant_events e JOIN label_versions l ON l.tenant_id = e.tenant_id AND l.device = e.device AND l.label = 'team' AND l.value = 'red'
                                          AND l.valid_from <= e.ts AND e.ts < l.valid_to
          WHERE e.tenant_id = $1 AND e.ts >= $2 AND e.ts < $3 AND jsonb_typeof(e."values" -> 'v') = 'number'`,
        [tenant, new Date(m).toISOString(), new Date(through).toISOString()],
      )
    ).rows[0]?.n ?? 0;
  // Whether the read answers from the head: add 1000 to the stored head's sum and see the hour move.
  const usesHead = async (): Promise<boolean> => {
    const before = (await answer('1h')).find((b) => Date.parse(b.ts as string) === Math.floor(m / 3_600_000) * 3_600_000);
    await deps.pool.query(`UPDATE group_minute_heads SET sum = sum + 1000 WHERE tenant_id = $1 AND label_value = 'red' AND value_key = 'v'`, [tenant]);
    const after = (await answer('1h')).find((b) => Date.parse(b.ts as string) === Math.floor(m / 3_600_000) * 3_600_000);
    await deps.pool.query(`UPDATE group_minute_heads SET sum = sum - 1000 WHERE tenant_id = $1 AND label_value = 'red' AND value_key = 'v'`, [tenant]);
    return Math.abs(Number(after?.sum) - Number(before?.sum) - 1000) < 1e-6;
  };

  // Members red from days back; `mover` joins red inside the minute, at m + 20 s; o0 and o1 stay outside.
  await foldLabelSamples(deps.pool, tenant, [
    ...members.map((device) => ({ device, label: 'team', ts: m - 5 * DAY, value: 'red' })),
    { device: 'mover', label: 'team', ts: m + 20_000, value: 'red' },
  ]);
  // Earlier minutes, refreshed and stored: the hour around m combines them with m's head and tail.
  await project(between(m - 30 * MINUTE, m, 120));
  await refreshAt(m);
  await project(between(m, m + 40_000, 80));
  await check('(a) the open minute before any head: all live');

  await refreshAt(m + 22_000);
  t.equal((await mark())?.through, m + 20_000, '(b) the head starts, through the refresher clock minus the lag');
  t.equal(await headCount(), await redBefore(m + 20_000), "(b) it holds red's events before its through");
  await check('(b) head + tail');
  t.ok(await usesHead(), '(b) the read answers from the head');

  // A drain whose events all come after the head: its note lets the head stand.
  await project(between(m + 33_000, m + 58_000, 60));
  await check('(c) a later drain, every event after the head');
  t.ok(await usesHead(), '(c) the head still answers');

  await refreshAt(m + 32_000);
  t.equal((await mark())?.through, m + 30_000, '(d) the head extends');
  t.equal(await headCount(), await redBefore(m + 30_000), '(d) by the events of the range it moved over, each once');
  await check('(d) extended head + tail');
  t.ok(await usesHead(), '(d) the read answers from the extended head');

  // A drain commits an event before the head after it moved (a late event): the head cannot say.
  await project([event(m + 10_000, 'g1'), event(m + 55_000, 'g2')]);
  t.notOk(await usesHead(), '(e) a late event: the read combines the minute whole');
  await check('(e) beside a late event');

  await refreshAt(m + 36_000);
  t.same(await mark(), { through: null }, '(f) the refresher gives the head up');
  t.equal(await headCount(), undefined, '(f) and deletes its rows');
  await project(between(m + 43_000, m + 59_000, 10));
  await check('(f) given up: whole');
  await refreshAt(m + 38_000);
  t.same(await mark(), { through: null }, '(f) and leaves it so for a while');

  await refreshAt(m + 42_000);
  t.equal((await mark())?.through, m + 40_000, '(g) then starts it again from the minute start');
  t.equal(await headCount(), await redBefore(m + 40_000), '(g) with every event before its through');
  await check('(g) started again');
  t.ok(await usesHead(), '(g) the read answers from it');

  // A drain brings events older than the clock less the lag (the projector behind): the head stays the
  // lag behind the oldest of them, so drains still on their way with events about as old leave it standing.
  await project([event(m + 46_000, 'g3'), event(m + 58_000, 'g4')]);
  await refreshAt(m + 52_000);
  t.equal((await mark())?.through, m + 44_000, "(g) the head stays the lag behind the latest drain's oldest event");
  await project([event(m + 45_000, 'g5')]);
  await check('(g) a drain with an event before the clock less the lag');
  t.ok(await usesHead(), '(g) the head still answers');

  await refreshAt(m + 2 * MINUTE);
  t.equal(await mark(), undefined, '(h) the claim takes the mark');
  t.equal(await headCount(), undefined, '(h) and the heads');
  await check('(h) the minute refreshed and stored');
});

t.test("devices: a member's newest event decides it only when it can, exactly at sub-millisecond edges", async (t) => {
  // Decision 0085's fast path for `devices` of combined buckets (held ones, every 5m and 15m bucket):
  // device_state keeps each value's newest event time in whole milliseconds, so events a fraction of
  // a millisecond from a bucket's or a version's edge, newest values that are not numbers and newer
  // events after the bucket must all fall through to the probes.
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const b = Math.floor((Date.now() - 3 * 3_600_000) / 300_000) * 300_000;
  const from = new Date(b - 3_600_000).toISOString();
  const to = new Date(b + 3_600_000).toISOString();
  let n = 0;
  const event = (device: string, ts: number, v: unknown): BatchEvent => ({ tenantId: tenant, device, key: `e:${n++}`, ts, type: 'reading', values: { v } as BatchEvent['values'] });
  await foldLabelSamples(deps.pool, tenant, [
    ...['e0', 'e1', 'e2', 'e4'].map((device) => ({ device, label: 'team', ts: b - DAY, value: 'red' })),
    { device: 'e3', label: 'team', ts: b + 30_000, value: 'red' },
  ]);
  await projectBatch(deps.pool, randomUUID(), [
    event('e0', b + 299_999.6, 1.5), // the bucket's last fraction of a millisecond: its newest time rounds to the next bucket
    event('e1', b + 10_000, 2.5),
    event('e1', b + 20_000, 'off'), // newest is not a number
    event('e2', b + 10_000, 3.5),
    event('e2', b + 6 * MINUTE, 4.5), // newest after the bucket
    event('e3', b + 10_000, 5.5), // before its membership began
    event('e4', b - 0.3, 6.5), // the previous bucket's last fraction of a millisecond
  ]);
  const check = async (label: string): Promise<void> => {
    for (const [interval, width] of Object.entries(INTERVALS)) {
      const result = await get(app, `/v1/groups/team/red/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}`, apiKey);
      t.same(result.body.buckets, await groupSeriesOracle(deps.pool, tenant, 'red', width, from, to), `${label}: ${interval} = raw history × versions`);
    }
  };
  await check('noted, before a refresh');
  const fiveMinutes = (await get(app, `/v1/groups/team/red/series?value=v&interval=5m&agg=devices&from=${from}&to=${to}`, apiKey)).body.buckets;
  t.same(
    fiveMinutes.map((bucket: { ts: string; devices: number }) => [Date.parse(bucket.ts) - b, bucket.devices]),
    [
      [-300_000, 1],
      [0, 3],
      [300_000, 1],
    ],
    'e4 only before b; e0, e1 and e2 in the bucket, e3 not (its event precedes its membership); e2 again after',
  );
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now: Date.now() })).minutes;
  await check('after a refresh');
});
