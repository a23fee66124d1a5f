import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent } from '@strata/core';
// The projector's own projection and refresher (drain with labels, folds, group levels), with batch
// ids and refresh rounds under the test's control.
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { memberNotedMinutes } from '../src/queries/group-members-sql.ts';
import { buildTestApp, get, newTenant } from './helpers.ts';
import { groupSeriesOracle as oracle } from './support/group-series-oracle.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decisions 0074 and 0060: a group's series equals an oracle over raw history at every moment, each
 * event counted under the label value its device held at the event's time (label_versions of the
 * same snapshot) — before any refresh (all live), after refreshes (stored group rows), with tenant-
 * noted minutes (late events), group-noted minutes (a device moved in the past by an API sample, a
 * late event's labels), and the current minute the refresher leaves to live reads.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const INTERVALS = { '1m': '1 minute', '5m': '5 minutes', '15m': '15 minutes', '1h': '1 hour', '1d': '1 day' } as const;
const AGGS = 'count,sum,min,max,last,avg,devices';

t.test('group series equal an oracle over raw history and versions before, during and after refreshes', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'other');
  const now = Date.now();
  const from = new Date(now - 4 * DAY).toISOString();
  const to = new Date(now + 2 * MINUTE).toISOString();
  let seed = 7;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let n = 0;
  const devices = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
  const event = (ts: number, device: string, labels?: Record<string, string>, tenantId = tenant): BatchEvent => ({
    tenantId,
    device,
    key: `i:${n++}`,
    ts,
    type: 'reading',
    // Decimal fractions: numeric sums do not depend on the order of addition. Some events lack v.
    values: random() < 0.1 ? { other: 1 } : { v: Math.round(random() * 2000 - 1000) / 10, w: 0.1 },
    ...(labels ? { labels } : {}),
  });
  const project = (events: BatchEvent[], batchId = randomUUID()): Promise<unknown> => projectBatch(deps.pool, batchId, events);
  const refresh = async (): Promise<number> => {
    let minutes = 0;
    // The refresher's clock stays at the test's start, so the current minute is never refreshed here.
    for (let round = 1; round > 0; minutes += round) round = (await refreshAggregates(deps.pool, { now })).minutes;
    return minutes;
  };
  const check = async (label: string): Promise<void> => {
    for (const value of ['red', 'blue']) {
      for (const [interval, width] of Object.entries(INTERVALS)) {
        const answer = await get(app, `/v1/groups/team/${value}/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}`, apiKey);
        t.equal(answer.status, 200, `${label}: ${value} ${interval}`);
        t.same(answer.body.buckets, await oracle(deps.pool, tenant, value, width, from, to), `${label}: ${value} ${interval} = raw history × versions`);
      }
    }
  };

  // Teams from five days back: red d0 d1 d2 d5, blue d3 d4. The other tenant's d0 is red too.
  await foldLabelSamples(deps.pool, tenant, devices.map((device) => ({ device, label: 'team', ts: now - 5 * DAY, value: ['d3', 'd4'].includes(device) ? 'blue' : 'red' })));
  await foldLabelSamples(deps.pool, other.tenant, [{ device: 'd0', label: 'team', ts: now - 5 * DAY, value: 'red' }]);

  // Three days of history; d2 says "team blue" in its events from the middle on (samples folded by the refresher).
  const history = Array.from({ length: 900 }, (_, i) => {
    const ts = now - 3 * DAY + i * 287_000 + Math.floor(random() * 1000);
    const device = devices[i % devices.length] as string;
    return event(ts, device, device === 'd2' && i > 450 ? { team: 'blue' } : undefined);
  });
  const current = Array.from({ length: 6 }, (_, i) => event(Math.floor(now / MINUTE) * MINUTE + i * 10, devices[i] as string));
  for (let i = 0; i < history.length; i += 150) await project(history.slice(i, i + 150));
  await project([...current, ...Array.from({ length: 20 }, (_, i) => event(now - 2 * DAY + i * MINUTE, 'd0', undefined, other.tenant))]);
  await check('(a) nothing refreshed: every minute live');

  t.ok((await refresh()) > 0, 'the refresher materialized the ended minutes');
  const blue = await deps.pool.query(`SELECT count(*)::int AS n FROM label_versions WHERE tenant_id = $1 AND device = 'd2' AND value = 'blue'`, [tenant]);
  t.ok(blue.rows[0].n >= 1, "d2's event labels were folded into versions");
  const stored = await deps.pool.query(`SELECT count(*)::int AS n FROM group_rollups_1h WHERE tenant_id = $1`, [tenant]);
  t.ok(stored.rows[0].n > 0, 'group hours are stored');
  await check('(b) after a refresh: stored group rows, the current minute live');

  // Late events (two days back, into stored minutes and hours), re-sent ones, a late event moving d5
  // to blue from two days back, and an API sample moving d1 to blue from one day back (group notes).
  const late = Array.from({ length: 40 }, () => event(now - 2 * DAY + Math.floor(random() * DAY), devices[Math.floor(random() * 6)] as string));
  const retriedId = randomUUID();
  await project(late.slice(20).reverse(), retriedId);
  await project(late.slice(20).reverse(), retriedId);
  await project([...late.slice(0, 20), ...history.slice(0, 30), event(now - 2 * DAY - 7 * MINUTE, 'd5', { team: 'blue' })]);
  await foldLabelSamples(deps.pool, tenant, [{ device: 'd1', label: 'team', ts: now - DAY + 12_345, value: 'blue' }]);
  const groupNotes = await deps.pool.query(`SELECT count(*)::int AS n FROM group_dirty WHERE tenant_id = $1`, [tenant]);
  t.ok(groupNotes.rows[0].n > 0, "d1's move noted its group minutes");
  await check('(c) late events, a moved device, before a refresh');
  await refresh();
  const d5 = await deps.pool.query(`SELECT count(*)::int AS n FROM label_versions WHERE tenant_id = $1 AND device = 'd5' AND value = 'blue'`, [tenant]);
  t.equal(d5.rows[0].n, 1, "d5's late label was folded");
  await check('(c) after a refresh');
  await refresh();
  await check('a second refresh of nothing changes nothing');

  // (d) Decision 0084: a minute noted only by devices outside the group holds none of its buckets,
  // and stops being so the moment a member's event lands in it. Outsiders u0 and u1 (no labels)
  // report in the next minute, after every member's newest event; then d0 (red) reports there too.
  const next = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  // Whether the next minute holds the value's buckets (the current one does: every member sent into it).
  const holdsNext = async (value: string): Promise<boolean> => {
    const result = await deps.pool.query<{ ms: number }>(
      `WITH ${memberNotedMinutes('bucket >= $4::timestamptz AND bucket < $5::timestamptz')}
       SELECT date_part('epoch', bucket) * 1000 AS ms FROM member_noted ORDER BY 1`,
      [tenant, 'team', value, from, to],
    );
    return result.rows.some((row) => row.ms === next);
  };
  await project([event(next + 1_000, 'u0'), event(next + 2_000, 'u1'), event(next + 3_000, 'u0')]);
  t.equal(await holdsNext('red'), false, "the outsiders' minute is not a red member's: red's buckets are not held");
  await check("(d) a minute noted by outsiders only: the group's stored rows as they are");
  await project([event(next + 4_000, 'd0')]);
  t.equal(await holdsNext('red'), true, "d0's event makes the minute red's");
  t.equal(await holdsNext('blue'), false, 'and not blue\'s: its members sent nothing since');
  await check("(d) a member's event in the outsiders' minute counts at once");

  // Raw history older than two and a half days goes (as partition retention drops days; nothing is
  // noted there): every interval still answers from the group rollups, unchanged. No version begins or
  // ends inside a minute of that range, so `devices` of 5m/15m buckets stays exact too.
  const kept = new Map<string, Record<string, number | string>[]>();
  for (const value of ['red', 'blue']) for (const [interval, width] of Object.entries(INTERVALS)) kept.set(`${value} ${interval}`, await oracle(deps.pool, tenant, value, width, from, to));
  const dropped = await deps.pool.query(`DELETE FROM events WHERE device_no IN (SELECT device_no FROM devices WHERE tenant_id = $1) AND ts < $2`, [tenant, new Date(now - 2.5 * DAY).toISOString()]);
  t.ok((dropped.rowCount ?? 0) > 100, 'raw history of the oldest half day dropped');
  for (const value of ['red', 'blue']) {
    for (const interval of Object.keys(INTERVALS)) {
      const answer = await get(app, `/v1/groups/team/${value}/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}`, apiKey);
      t.same(answer.body.buckets, kept.get(`${value} ${interval}`), `raw gone: ${value} ${interval} from the group rollups, as before`);
    }
  }
});

t.test("a quiet group's stored hour and day stand beside a later outsider's note, exactly, until a member reports after it", async (t) => {
  // Decision 0084 and its hostile review: the case the decision is about, a late note of a device
  // outside the group in a stored hour and day whose members have all gone quiet before it.
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const now = Date.now();
  const hour = Math.floor((now - 2 * DAY) / 3_600_000) * 3_600_000;
  const from = new Date(hour - DAY).toISOString();
  const to = new Date(hour + DAY).toISOString();
  let n = 0;
  const event = (ts: number, device: string, v: number): BatchEvent => ({ tenantId: tenant, device, key: `q:${n++}`, ts, type: 'reading', values: { v } });
  await foldLabelSamples(deps.pool, tenant, ['q0', 'q1'].map((device) => ({ device, label: 'team', ts: now - 5 * DAY, value: 'quiet' })));
  await projectBatch(deps.pool, randomUUID(), [event(hour + 60_000, 'q0', 1.5), event(hour + 5 * MINUTE, 'q1', 2.5), event(hour + 10 * MINUTE + 7, 'q0', 4)]);
  for (let round = 1; round > 0; ) round = (await refreshAggregates(deps.pool, { now })).minutes;
  // The outsider's late event: the same hour, after every member's newest event.
  await projectBatch(deps.pool, randomUUID(), [event(hour + 40 * MINUTE, 'outsider', 100)]);
  const noted = async (): Promise<number> =>
    (
      await deps.pool.query(`WITH ${memberNotedMinutes('bucket >= $4::timestamptz AND bucket < $5::timestamptz')} SELECT count(*)::int AS n FROM member_noted`, [
        tenant,
        'team',
        'quiet',
        from,
        to,
      ])
    ).rows[0].n;
  const stored = await deps.pool.query(`SELECT count(*)::int AS n FROM group_rollups_1h WHERE tenant_id = $1 AND label_value = 'quiet'`, [tenant]);
  t.equal(stored.rows[0].n, 1, 'the hour is stored');
  t.equal((await deps.pool.query(`SELECT count(*)::int AS n FROM aggregate_dirty WHERE tenant_id = $1`, [tenant])).rows[0].n, 1, "the outsider's minute is noted");
  t.equal(await noted(), 0, "and holds nothing of the quiet group's: its stored minute, hour and day rows answer");
  const check = async (label: string): Promise<void> => {
    for (const [interval, width] of Object.entries(INTERVALS)) {
      const answer = await get(app, `/v1/groups/team/quiet/series?value=v&interval=${interval}&agg=${AGGS}&from=${from}&to=${to}`, apiKey);
      t.same(answer.body.buckets, await oracle(deps.pool, tenant, 'quiet', width, from, to), `${label}: ${interval} = raw history × versions`);
    }
  };
  await check('beside the outsider');
  // q1 reports late into the same hour, after the outsider: now the minutes up to its event are the group's.
  await projectBatch(deps.pool, randomUUID(), [event(hour + 50 * MINUTE, 'q1', 8)]);
  t.equal(await noted(), 2, "q1's event makes both noted minutes the group's (the outsider's is before q1's newest)");
  await check("after a member's late event");
});
