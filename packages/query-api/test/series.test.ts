import t from 'tap';
import { seedEvents, type SeedEvent } from '@strata/testkit';
import { SeriesResponses } from '../src/routes/read-responses.ts';
import { buildTestApp, get, newTenant, schemaSerializer } from './helpers.ts';

const serializeSeries = schemaSerializer(SeriesResponses[200]);

const INTERVAL_MS: Record<string, number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };

/** What the API must answer, computed straight from the raw events. */
function oracle(events: SeedEvent[], from: number, to: number, widthMs: number) {
  const start = Math.floor(from / widthMs) * widthMs;
  const end = Math.ceil(to / widthMs) * widthMs;
  const buckets = new Map<number, { values: number[]; last: number; lastTs: number }>();
  for (const e of events) {
    const v = e.values.temp;
    if (typeof v !== 'number' || e.ts < start || e.ts >= end) continue;
    const bucket = Math.floor(e.ts / widthMs) * widthMs;
    const entry = buckets.get(bucket) ?? { values: [], last: v, lastTs: e.ts };
    entry.values.push(v);
    if (e.ts >= entry.lastTs) Object.assign(entry, { last: v, lastTs: e.ts });
    buckets.set(bucket, entry);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucket, { values, last }]) => {
      const sum = values.reduce((a, b) => a + b, 0);
      return { ts: new Date(bucket).toISOString(), avg: sum / values.length, min: Math.min(...values), max: Math.max(...values), sum, count: values.length, last };
    });
}

t.test('series buckets at every interval equal an oracle over the raw events', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  // Three days of readings every 47 s, starting off any bucket boundary; distinct timestamps.
  const first = Date.UTC(2026, 10, 18, 22, 13, 7);
  const events: SeedEvent[] = [];
  for (let i = 0; i < 5500; i++) {
    const values: SeedEvent['values'] = { temp: Math.round((20 + 10 * Math.sin(i / 50) + (i % 7) * 0.25) * 100) / 100 };
    if (i % 11 === 0) values.label = 'text values are not rolled up';
    events.push({ tenantId: tenant, device: 'band', ts: first + i * 47_000, key: `h:${i}`, values });
  }
  await seedEvents(deps.pool, events);

  const from = first + 3_600_000 + 1234;
  const to = first + 2.5 * 86_400_000;
  for (const [interval, width] of Object.entries(INTERVAL_MS)) {
    const url = `/v1/devices/band/series?value=temp&interval=${interval}&agg=avg,min,max,sum,count,last&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const response = await get(app, url, apiKey);
    t.equal(response.status, 200, interval);
    t.equal(response.body.interval, interval);
    const expected = oracle(events, from, to, width);
    const actual = response.body.buckets;
    t.equal(actual.length, expected.length, `${interval}: bucket count`);
    let mismatches = 0;
    for (let i = 0; i < expected.length; i++) {
      const [a, e] = [actual[i], expected[i]!];
      const close = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
      const same =
        a?.ts === e.ts && close(a.avg, e.avg) && a.min === e.min && a.max === e.max && close(a.sum, e.sum) && a.count === e.count && a.last === e.last;
      if (!same && mismatches++ < 3) t.fail(`${interval} bucket ${i}`, { found: a, wanted: e });
    }
    t.equal(mismatches, 0, `${interval}: every bucket matches`);
    t.same(Object.keys(actual[0] ?? {}), ['ts', 'avg', 'min', 'max', 'sum', 'count', 'last'], 'aggregates in the order asked');
  }
  const daily = await get(app, `/v1/devices/band/series?value=temp&interval=1d&agg=count&from=${first}&to=${first + 3 * 86_400_000}`, apiKey);
  t.ok(daily.body.buckets.every((b: { ts: string }) => b.ts.endsWith('T00:00:00.000Z')), 'day buckets are UTC days');
  t.equal(daily.body.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0), 5500, 'every reading counted once');
});

t.test('defaults: avg over 1m buckets for the last 24 hours', async (t) => {
  const now = Date.UTC(2026, 10, 20, 12, 0, 30);
  const { app, deps } = await buildTestApp(t, {}, { clock: { now: () => now } });
  const { tenant, apiKey } = await newTenant(deps.pool);
  const events: SeedEvent[] = [
    { tenantId: tenant, device: 'band', ts: now - 25 * 3_600_000, key: 'old', values: { temp: 1 } },
    { tenantId: tenant, device: 'band', ts: now - 10_000, key: 'a', values: { temp: 2 } },
    { tenantId: tenant, device: 'band', ts: now - 5_000, key: 'b', values: { temp: 4 } },
  ];
  await seedEvents(deps.pool, events);
  const response = await get(app, '/v1/devices/band/series?value=temp', apiKey);
  t.same(response.body, {
    device: 'band',
    value: 'temp',
    interval: '1m',
    buckets: [{ ts: '2026-11-20T12:00:00.000Z', avg: 3 }],
    meta: { source: 'primary', consistency: 'eventual', lagMs: 0 },
  });
  // The body is written as JSON text past the schema's serializer (decision 0099): byte for byte what
  // the serializer wrote, with the same headers.
  t.equal(response.text, serializeSeries(response.body), 'the text the response schema would have written');
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(response.headers['x-read-source'], 'primary');
  t.equal(response.headers['x-read-lag-ms'], '0');
});

t.test('series parameters are validated', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  const cases: [string, string][] = [
    ['interval=2m&value=temp', 'interval'],
    ['agg=median&value=temp', 'agg'],
    ['agg=avg,,max&value=temp', 'agg'],
    ['value=te%00mp', 'value'],
    ['value=temp&from=2020-01-01T00:00:00Z&to=2020-01-08T00:00:01Z', 'interval'],
    ['value=temp&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
    ['value=temp&from=nope', 'from'],
    ['value=temp&consistency=cached', 'consistency'],
  ];
  for (const [query, field] of cases) {
    const response = await get(app, `/v1/devices/band/series?${query}`, apiKey);
    t.equal(response.status, 400, query);
    t.equal(response.body.error.details[0].field, field, query);
  }
  const missing = await get(app, '/v1/devices/band/series', apiKey);
  t.equal(missing.status, 400);
  t.match(JSON.stringify(missing.body.error), /value/);
  const ok = await get(app, '/v1/devices/band/series?value=temp&from=2020-01-01T00:00:00Z&to=2020-01-07T22:40:00Z', apiKey);
  t.equal(ok.status, 200, 'exactly 10,000 minute buckets is allowed');
});

t.test('a value key of any allowed characters comes back as the same string in the body written as text (decision 0099)', async (t) => {
  const now = Date.parse('2026-11-20T12:00:30.000Z');
  const { app, deps } = await buildTestApp(t, {}, { clock: { now: () => now } });
  const { tenant, apiKey } = await newTenant(deps.pool);
  const key = 'te"mp\\ \n\t\u0001 😀 \u2028 </script>';
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'band', ts: now - 10_000, key: 'a', values: { [key]: 2 } }]);
  const response = await get(app, `/v1/devices/band/series?value=${encodeURIComponent(key)}&agg=count,avg`, apiKey);
  t.equal(response.status, 200);
  t.equal(response.body.value, key, 'escaped as JSON and read back unchanged');
  t.equal(response.text, serializeSeries(response.body), 'the text the response schema would have written');
  t.same(response.body.buckets, [{ ts: '2026-11-20T12:00:00.000Z', count: 1, avg: 2 }]);
});
