// Seed 000's question, end to end through the four processes: taps counted per team over any
// start/end at 1h and 1d. 50 tap devices in 5 teams send taps at random times over three days, in
// random order (every tap is late to some other), some re-sent; half the devices say their team on
// every tap, the other half only on their earliest one (which arrives at a random moment, so the
// refresher meets taps before it knows their team). Every answer must equal an oracle over the
// unique taps, both while minutes are still noted (answered live) and once all are materialized.
import t from 'tap';
import { createLogger, createPool } from '@strata/core';
import { apiClient, createTenant, seededRandom, shuffle, startSystem, waitForNoNotes, waitForToken } from '@strata/testkit';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TEAMS = ['red', 'blue', 'green', 'gold', 'black'];
const DEVICES = 50;
const TAPS = 3000;

interface Tap {
  device: string;
  id: string;
  ts: number;
}

const teamOf = (device: number): string => TEAMS[device % TEAMS.length]!;

t.test('taps per team per 1h and 1d between any start and end equal an oracle', async (t) => {
  const system = await startSystem(t, {}, { AGGREGATE_REFRESH_INTERVAL_MS: '200' });
  const pool = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'seed-000' }, createLogger('seed-000', 'silent'));
  t.teardown(() => pool.end());
  const { apiKey } = await createTenant(pool, 'seed-000');
  const writer = apiClient(system.urls['command-api'], apiKey);
  const reader = apiClient(system.urls['query-api'], apiKey);

  const random = seededRandom(0x5eed000);
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR; // whole hours, all in the past
  const start = end - 3 * DAY;
  const taps: Tap[] = Array.from({ length: TAPS }, (_, n) => ({
    device: `tap-${String(n % DEVICES).padStart(2, '0')}`,
    id: `tap-${n}`,
    ts: start + Math.floor(random() * (end - start)),
  }));
  // Each device's earliest tap carries its team, so every tap of the device counts for the team.
  const earliest = new Map<string, Tap>();
  for (const tap of taps) if (!earliest.has(tap.device) || earliest.get(tap.device)!.ts > tap.ts) earliest.set(tap.device, tap);
  const body = (tap: Tap): Record<string, unknown> => {
    const device = Number(tap.device.slice(4));
    const labelled = device < DEVICES / 2 || earliest.get(tap.device) === tap;
    return {
      device: tap.device,
      id: tap.id,
      ts: new Date(tap.ts).toISOString(),
      type: 'tap',
      values: { taps: 1 },
      ...(labelled ? { labels: { team: teamOf(device) } } : {}),
    };
  };
  const resent = taps.filter(() => random() < 0.05);
  const sends = shuffle([...taps, ...resent], random);
  let token = '';
  for (let offset = 0; offset < sends.length; offset += 200) {
    const answer = await writer.post('/v1/events', { events: sends.slice(offset, offset + 200).map(body) });
    t.equal(answer.status, 202, 'accepted');
    token = answer.body.token;
    // Refreshes run between the batches: minutes get materialized before their late taps and labels come.
    if (offset % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await waitForToken(pool, token, 60_000);

  const oracle = (team: string, from: number, to: number, width: number): Map<number, number> => {
    const buckets = new Map<number, number>();
    for (const tap of taps) {
      if (teamOf(Number(tap.device.slice(4))) !== team || tap.ts < from || tap.ts >= to) continue;
      const bucket = Math.floor(tap.ts / width) * width;
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    return buckets;
  };
  const check = async (phase: string): Promise<void> => {
    const windows = seededRandom(phase.length * 7919);
    for (const team of TEAMS) {
      for (const [interval, width] of [['1h', HOUR], ['1d', DAY]] as const) {
        for (let n = 0; n < 4; n++) {
          const a = start - DAY + Math.floor(windows() * 5) * DAY + Math.floor(windows() * 24) * HOUR;
          const b = a + (1 + Math.floor(windows() * 72)) * HOUR;
          const from = Math.floor(a / width) * width;
          const to = Math.ceil(b / width) * width;
          const query = `/v1/groups/team/${team}/series?value=taps&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=${interval}&agg=count,sum&consistency=strong`;
          const answer = await reader.get(query);
          if (answer.status !== 200) {
            t.fail(`${phase}: ${query} → ${answer.status} ${JSON.stringify(answer.body)}`);
            continue;
          }
          const got = new Map<number, number>();
          for (const bucket of answer.body.buckets as Array<{ ts: string | number; count: number; sum: number }>) {
            if (bucket.count > 0) got.set(new Date(bucket.ts).getTime(), bucket.count);
            if (bucket.count !== bucket.sum) t.fail(`${phase}: count ${bucket.count} but sum ${bucket.sum} of ones`);
          }
          const want = oracle(team, from, to, width);
          t.same(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()), `${phase}: ${team} ${interval} ${new Date(from).toISOString()} → ${new Date(to).toISOString()}`);
        }
      }
    }
  };

  // An event's labels reach groups when the refresher folds its minute (decision 0074): from then on
  // every answer is exact, the minutes not yet materialized answered live from history.
  await waitForNoNotes(pool, 60_000, { labelledOnly: true });
  await check('once labels are folded');
  await waitForNoNotes(pool, 120_000);
  await check('once every minute is materialized');
  const daily = await reader.get(
    `/v1/groups/team/red/series?value=taps&from=${new Date(start - DAY).toISOString()}&to=${new Date(end + DAY).toISOString()}&interval=1d&agg=count&consistency=eventual`,
  );
  t.equal(daily.status, 200, 'eventual reads answer too');
  const groups = await reader.get('/v1/groups/team?consistency=strong');
  t.same(
    [...groups.body.values].sort((x: { value: string }, y: { value: string }) => x.value.localeCompare(y.value)),
    [...TEAMS].sort().map((value) => ({ value, devices: DEVICES / TEAMS.length })),
    'GET /v1/groups/team: each team with its 10 devices',
  );
});
