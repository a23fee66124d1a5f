// Seed 002's question, end to end through the four processes: how many people are in a space at any
// instant, from doors that send +1/−1 crossings. 3 spaces, 12 doors, 20,000 crossings over three days
// sent in random order (late arrivals throughout, some after their minutes were materialized).
// Each door says its space on its earliest crossing; door-03 moves from hall to lab by a label on a
// crossing in the middle of the history (an event sample, effective from its ts); door-07 moves by
// PUT (effective from now) and crosses again afterwards. The occupancy of every space at 50 random
// instants (exact event times and minute edges among them) must equal an oracle: live, materialized
// (every ended minute; door-07's last crossings are in the current minute, answered live until it
// ends), and again after retention dropped the oldest raw day, for instants inside that day too.
import t from 'tap';
import { createLogger, createPool } from '@strata/core';
import {
  aggregateRetentionJob,
  apiClient,
  createTenant,
  partitionRetentionJob,
  seededRandom,
  shuffle,
  startSystem,
  waitForNoNotes,
  waitForToken,
} from '@strata/testkit';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SPACES = ['lobby', 'hall', 'lab'];
const DOORS = 12;
const CROSSINGS = 20_000;

interface Crossing {
  door: string;
  id: string;
  ts: number;
  value: 1 | -1;
  labels?: Record<string, string>;
}

/** A door's space over time: samples sorted by time; the newest at or before t wins. */
type Timeline = Array<{ from: number; space: string }>;

t.test('the occupancy of every space at 50 random instants equals an oracle, before and after raw retention', async (t) => {
  const system = await startSystem(t, {}, { AGGREGATE_REFRESH_INTERVAL_MS: '200', AGGREGATE_SETTLE_MS: '200' });
  const logger = createLogger('seed-002', 'silent');
  const pool = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'seed-002' }, logger);
  t.teardown(() => pool.end());
  const { apiKey } = await createTenant(pool, 'seed-002');
  const writer = apiClient(system.urls['command-api'], apiKey);
  const reader = apiClient(system.urls['query-api'], apiKey);
  const random = seededRandom(0x5eed002);

  // Three whole UTC days ago at 02:00 up to an hour ago: the oldest raw day holds ~22 h of crossings.
  const start = Math.floor(Date.now() / DAY) * DAY - 3 * DAY + 2 * HOUR;
  const end = Date.now() - HOUR;
  const doorName = (n: number): string => `door-${String(n).padStart(2, '0')}`;
  const crossings: Crossing[] = Array.from({ length: CROSSINGS }, (_, n) => ({
    door: doorName(n % DOORS),
    id: `x-${n}`,
    ts: start + Math.floor(random() * (end - start)),
    value: random() < 0.5 ? 1 : -1,
  }));
  const timelines = new Map<string, Timeline>();
  for (let n = 0; n < DOORS; n++) {
    const door = doorName(n);
    const first = crossings.filter((c) => c.door === door).reduce((a, b) => (a.ts <= b.ts ? a : b));
    first.labels = { space: SPACES[n % SPACES.length]! };
    timelines.set(door, [{ from: first.ts, space: first.labels.space! }]);
  }
  // door-03 (hall) moves to lab from a crossing in the middle of the history.
  const mid = crossings.filter((c) => c.door === 'door-03' && c.ts > start + 1.5 * DAY).reduce((a, b) => (a.ts <= b.ts ? a : b));
  mid.labels = { space: 'lab' };
  timelines.get('door-03')!.push({ from: mid.ts, space: 'lab' });

  const send = async (batch: Crossing[]): Promise<string> => {
    const answer = await writer.post('/v1/events', {
      events: batch.map((c) => ({
        device: c.door,
        id: c.id,
        ts: new Date(c.ts).toISOString(),
        type: 'crossing',
        values: { crossing: c.value },
        ...(c.labels ? { labels: c.labels } : {}),
      })),
    });
    t.equal(answer.status, 202, 'accepted');
    return answer.body.token;
  };
  const order = shuffle([...crossings], random);
  let token = '';
  for (let offset = 0; offset < order.length; offset += 500) {
    token = await send(order.slice(offset, offset + 500));
    if (offset % 5000 === 0) await new Promise((resolve) => setTimeout(resolve, 300)); // let minutes materialize
  }
  await waitForToken(pool, token, 60_000);

  // door-07 (lobby) moves to hall by PUT, then crosses 100 more times, right after.
  const put = await writer.put('/v1/devices/door-07/labels', { labels: { space: 'hall' } });
  t.equal(put.status, 200, `PUT labels: ${JSON.stringify(put.body)}`);
  const effectiveFrom = Date.parse(put.body.effectiveFrom);
  timelines.get('door-07')!.push({ from: effectiveFrom, space: 'hall' });
  const after: Crossing[] = Array.from({ length: 100 }, (_, n) => ({
    door: 'door-07',
    id: `after-${n}`,
    ts: Math.max(effectiveFrom, Date.now() - 1000) + n,
    value: n % 3 === 0 ? -1 : 1,
  }));
  crossings.push(...after);
  await waitForToken(pool, await send(after), 60_000);

  const spaceAt = (door: string, ts: number): string | undefined => {
    let space: string | undefined;
    for (const sample of timelines.get(door)!) if (sample.from <= ts) space = sample.space;
    return space;
  };
  const oracle = (space: string, at: number): number =>
    crossings.reduce((total, c) => (c.ts <= at && spaceAt(c.door, c.ts) === space ? total + c.value : total), 0);

  // 50 instants: exact crossing times (the running total includes the crossing), minute edges and
  // their last millisecond, random ones, and instants inside the oldest day.
  const instants: number[] = [];
  for (let n = 0; n < 10; n++) instants.push(crossings[Math.floor(random() * crossings.length)]!.ts);
  for (let n = 0; n < 10; n++) {
    const minute = Math.floor((start + random() * (end - start)) / MINUTE) * MINUTE;
    instants.push(minute, minute - 1);
  }
  for (let n = 0; n < 10; n++) instants.push(start + Math.floor(random() * (DAY - 2 * HOUR)));
  for (let n = 0; n < 9; n++) instants.push(start + Math.floor(random() * (Date.now() - start)));
  instants.push(Date.now());

  const check = async (phase: string): Promise<void> => {
    for (const space of SPACES) {
      for (const at of instants) {
        const answer = await reader.get(`/v1/groups/space/${space}/total?value=crossing&at=${new Date(at).toISOString()}&consistency=strong`);
        if (answer.status !== 200) {
          t.fail(`${phase}: ${space} at ${new Date(at).toISOString()} → ${answer.status} ${JSON.stringify(answer.body)}`);
          continue;
        }
        t.equal(Number(answer.body.total), oracle(space, at), `${phase}: ${space} at ${new Date(at).toISOString()}`);
        t.notOk(answer.body.meta?.exactAt, `${phase}: exact at the asked instant`);
      }
    }
  };

  // An event's labels reach groups when the refresher folds its minute (decision 0074): from then on
  // every answer is exact, the minutes not yet materialized answered live from history.
  await waitForNoNotes(pool, 60_000, { labelledOnly: true });
  await check('labels folded');
  // Waiting for the current minute to end as well would add up to a minute of idle time to the suite,
  // so door-07's minute (its move and last crossings) is answered live here. A moved device's minutes
  // materialized, and totals inside them from the stored steps, are group-total-exact.test.ts's.
  const endedBy = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  await waitForNoNotes(pool, 120_000, { endedBy });
  await check('materialized');

  // Retention with a two-day raw window drops the oldest day's history; aggregates stay.
  const now = Date.now();
  const dropped = await partitionRetentionJob.run({ pool, clock: { now: () => now }, logger, retentionDays: 2, aggregateRetentionDays: 400, maxFutureSkewMs: HOUR });
  t.equal(dropped.result, 'completed');
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM tenant_events WHERE ts < $1`, [new Date(start + DAY - 2 * HOUR)]);
  t.equal(rows[0]!.n, 0, 'the oldest raw day is gone');
  t.equal((await aggregateRetentionJob.run({ pool, clock: { now: () => now }, logger, retentionDays: 2, aggregateRetentionDays: 400, maxFutureSkewMs: HOUR })).result, 'completed');
  await check('after raw retention');
});
