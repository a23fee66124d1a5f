import t from 'tap';
import { createPool, createLogger } from '@strata/core';
import { apiClient, createTenant, PROMTOOL, promtoolProblems, recentBaseTime, startSystem, waitForToken } from '@strata/testkit';

const BASE = recentBaseTime();

t.test('the whole write → read path, as separate processes', async (t) => {
  const system = await startSystem(t, { ingestMaxWaitMs: 2 });
  const db = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'e2e' }, createLogger('e2e', 'silent'));
  t.teardown(() => db.end());
  const alice = await createTenant(db, 'alice');
  const bob = await createTenant(db, 'bob');
  const write = apiClient(system.urls['command-api'], alice.apiKey);
  const read = apiClient(system.urls['query-api'], alice.apiKey);

  t.test('a strong read right after a 202 sees that write, 200 times in a row', async (t) => {
    let seen = 0;
    for (let i = 0; i < 200; i++) {
      const posted = await write.post('/v1/events', { device: 'rw', ts: BASE + i * 1000, values: { n: i } });
      if (posted.status !== 202) t.fail(`write ${i}: ${posted.status}`);
      const got = await read.get('/v1/devices/rw?consistency=strong');
      if (got.status === 200 && got.body.values.n === i) seen++;
      else t.fail(`read ${i} saw ${JSON.stringify(got.body)}`);
    }
    t.equal(seen, 200);
    const last = await read.get('/v1/devices/rw?consistency=strong');
    t.equal(last.headers.get('x-read-source'), 'primary');
    t.equal(last.body.meta.consistency, 'strong');
  });

  t.test('a batch re-sent 3 times is stored once and counted once', async (t) => {
    const batch = { events: Array.from({ length: 50 }, (_, i) => ({ device: 'resend', ts: BASE + i * 1000, values: { v: i } })) };
    for (let i = 0; i < 3; i++) {
      const posted = await write.post('/v1/events', batch);
      t.equal(posted.status, 202);
      await waitForToken(db, posted.body.token);
    }
    const stored = await db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'resend'`);
    t.equal(stored.rows[0].n, 50);
    const series = await read.get(`/v1/devices/resend/series?value=v&from=${new Date(BASE).toISOString()}&to=${new Date(BASE + 3_600_000).toISOString()}&interval=1h&agg=count,sum`);
    t.equal(series.status, 200);
    t.same(series.body.buckets.map((b: { count: number; sum: number }) => [b.count, b.sum]), [[50, 1225]]);
  });

  t.test('two tenants with the same device name never see each other', async (t) => {
    const bobWrite = apiClient(system.urls['command-api'], bob.apiKey);
    const bobRead = apiClient(system.urls['query-api'], bob.apiKey);
    const a = await write.post('/v1/events', { device: 'shared-name', ts: BASE, values: { owner: 'alice' } });
    await waitForToken(db, a.body.token);
    const bobBefore = await bobRead.get('/v1/devices/shared-name?consistency=strong');
    t.equal(bobBefore.status, 404, 'bob cannot see alice’s device');
    const b = await bobWrite.post('/v1/events', { device: 'shared-name', ts: BASE + 1, values: { owner: 'bob' } });
    await waitForToken(db, b.body.token);
    for (const consistency of ['strong', 'eventual', 'cache']) {
      const mine = await read.get(`/v1/devices/shared-name?consistency=${consistency}`);
      const theirs = await bobRead.get(`/v1/devices/shared-name?consistency=${consistency}`);
      t.equal(mine.body.values.owner, 'alice', `${consistency}: alice sees hers`);
      t.equal(theirs.body.values.owner, 'bob', `${consistency}: bob sees his`);
    }
    const bobHistory = await bobRead.get('/v1/devices/shared-name/events');
    t.same(bobHistory.body.items.map((e: { values: { owner: string } }) => e.values.owner), ['bob']);
  });

  t.test('cache reads are served from Redis once projected', async (t) => {
    const posted = await write.post('/v1/events', { device: 'cached', ts: BASE, values: { temp: 21.5 } });
    await waitForToken(db, posted.body.token);
    const got = await read.get('/v1/devices/cached?consistency=cache');
    t.equal(got.status, 200);
    t.equal(got.headers.get('x-read-source'), 'cache');
    t.equal(got.body.meta.source, 'cache');
    t.same(got.body.values, { temp: 21.5 });
  });

  t.test('series buckets equal an oracle computed from the raw events', async (t) => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Two days up to a minute ago: events later than now + MAX_FUTURE_SKEW_MS are refused at the door.
    const start = Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000;
    const raw = Array.from({ length: 1200 }, (_, i) => ({
      device: 'series', id: `s${i}`, ts: start + Math.floor(random() * (2 * 86_400_000 - 60_000)), values: { temp: Math.round(random() * 1000) / 10 },
    }));
    for (let i = 0; i < raw.length; i += 300) {
      const posted = await write.post('/v1/events', { events: raw.slice(i, i + 300) });
      t.equal(posted.status, 202);
      await waitForToken(db, posted.body.token);
    }
    const from = start;
    const to = start + 2 * 86_400_000;
    const intervals: Record<string, number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
    for (const [interval, ms] of Object.entries(intervals)) {
      const oracle = new Map<number, { count: number; sum: number; min: number; max: number; last: number; lastTs: number }>();
      for (const event of raw) {
        const bucket = Math.floor(event.ts / ms) * ms;
        const v = event.values.temp;
        const b = oracle.get(bucket) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, last: v, lastTs: -1 };
        b.count++; b.sum += v; b.min = Math.min(b.min, v); b.max = Math.max(b.max, v);
        if (event.ts > b.lastTs || (event.ts === b.lastTs && v > b.last)) { b.last = v; b.lastTs = event.ts; }
        oracle.set(bucket, b);
      }
      const got = await read.get(`/v1/devices/series/series?value=temp&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=${interval}&agg=avg,min,max,sum,count,last`);
      t.equal(got.status, 200, `${interval}: ${JSON.stringify(got.body).slice(0, 200)}`);
      const expected = [...oracle.entries()].sort((a, b) => a[0] - b[0]);
      t.equal(got.body.buckets.length, expected.length, `${interval}: bucket count`);
      let mismatches = 0;
      for (const [index, [bucket, b]] of expected.entries()) {
        const actual = got.body.buckets[index];
        const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
        const ok = actual && Date.parse(actual.ts) === bucket && actual.count === b.count && close(actual.sum, b.sum) &&
          close(actual.avg, b.sum / b.count) && actual.min === b.min && actual.max === b.max && actual.last === b.last;
        if (!ok && mismatches++ < 3) t.fail(`${interval} bucket ${new Date(bucket).toISOString()}: got ${JSON.stringify(actual)}, want ${JSON.stringify(b)}`);
      }
      t.equal(mismatches, 0, `${interval}: every bucket equals the oracle`);
    }
  });

  t.test('every process exposes /livez, /readyz and promtool-clean /metrics', async (t) => {
    for (const [name, url] of Object.entries(system.urls)) {
      t.equal((await fetch(`${url}/livez`)).status, 200, `${name} livez`);
      t.equal((await fetch(`${url}/readyz`)).status, 200, `${name} readyz`);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      t.match(metrics, /strata_/, `${name} exposes strata metrics`);
      await t.test(`${name}: promtool check metrics`, { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)' }, async (t) => {
        t.equal(promtoolProblems(metrics), '', 'no problems reported');
      });
    }
  });
});
