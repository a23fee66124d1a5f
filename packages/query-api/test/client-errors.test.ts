import t from 'tap';
import { createLogger, createPool, issueApiKey, systemClock } from '@strata/core';
import { Breaker } from '../src/read-routing/breaker.ts';
import { encodeCursor } from '../src/params/cursor.ts';
import { recentBaseTime, seedEvents, stageEvents, type SeedEvent } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

const BASE = recentBaseTime();
const forged = (parts: unknown[]): string => encodeURIComponent(Buffer.from(JSON.stringify(parts)).toString('base64url'));
const junk = (bytes: number[]): string => encodeURIComponent(Buffer.from(bytes).toString('base64url'));

t.test('client mistakes on every read route are 400 naming the parameter, never 5xx', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'dev', ts: BASE, key: 'i:1', values: { temp: 20 } }]);

  const cases: [string, string][] = [
    // Forged and garbled cursors: each position is what a statement casts.
    [`/v1/devices/dev/events?cursor=${forged(['events:desc', 'not a time', 'i:1'])}`, 'cursor'],
    [`/v1/devices/dev/events?cursor=${forged(['events:desc', '2026-02-30 00:00:00+00', 'i:1'])}`, 'cursor'],
    [`/v1/devices/dev/events?cursor=${forged(['events:desc', '2026-01-01 00:00:00+00', 'i:\u0000'])}`, 'cursor'],
    [`/v1/devices/dev/events?cursor=${forged(['events:desc', 1, 2])}`, 'cursor'],
    [`/v1/devices/dev/events?cursor=${junk([0xff, 0x00, 0xfe, 0x22])}`, 'cursor'],
    [`/v1/devices?sort=ts&cursor=${forged(['ts:asc', '12345678901234567890', 'dev'])}`, 'cursor'],
    [`/v1/devices?sort=values.temp&cursor=${forged(['values.temp:asc', '1e999999', 'dev'])}`, 'cursor'],
    [`/v1/devices?sort=values.temp&cursor=${forged(['values.temp:asc', '"\\u0000"', 'dev'])}`, 'cursor'],
    [`/v1/devices?sort=values.temp&cursor=${forged(['values.temp:asc', '{', 'dev'])}`, 'cursor'],
    [`/v1/devices?cursor=${forged(['device:asc', 'a\u0000'])}`, 'cursor'],
    // U+0000 in any query or path parameter.
    ['/v1/devices/dev%00x', 'device'],
    ['/v1/devices/dev/events?type=a%00', 'type'],
    ['/v1/devices/dev/events?from=2026%00', 'from'],
    ['/v1/devices/dev/series?value=te%00mp', 'value'],
    ['/v1/devices?where=status%3Dok%00', 'where'],
    ['/v1/devices?where=te%00mp%3D1', 'where'],
    ['/v1/stats?type=%00', 'type'],
    ['/v1/devices/dev/state?at=%00', 'at'],
    ['/v1/devices/dev?consistency=%00', 'consistency'],
    // where= with operands PostgreSQL could not use.
    ['/v1/devices?where=temp>1e999', 'where'],
    ['/v1/devices?where=temp<', 'where'],
    // Dates out of range.
    ['/v1/devices/dev/events?from=99999999999999999999', 'from'],
    ['/v1/devices/dev/events?to=10000-01-01T00:00:00Z', 'to'],
    ['/v1/devices/dev/series?value=temp&interval=1d&to=9999-12-31T23:00:00Z', 'to'],
    ['/v1/stats?interval=1d&to=9999-12-31T23:59:59Z', 'to'],
    ['/v1/devices/dev/state?at=-99999999999999', 'at'],
  ];
  for (const [url, field] of cases) {
    const answer = await get(app, url, apiKey);
    t.equal(answer.status, 400, url);
    t.equal(answer.body.error?.details?.[0]?.field, field, `${url} names ${field}`);
  }

  // Numbers that are fine for a double but not for PostgreSQL's numeric as written.
  for (const where of ['temp>1e-99999', `temp<1${'0'.repeat(300)}`]) {
    t.equal((await get(app, `/v1/devices?where=${encodeURIComponent(where)}`, apiKey)).status, 200, where);
  }
  // A real cursor still works.
  const next = encodeCursor('events:desc', ['2100-01-01 00:00:00+00', 'i:z']);
  t.equal((await get(app, `/v1/devices/dev/events?cursor=${next}`, apiKey)).body.items.length, 1);
});

t.test('a data exception from PostgreSQL is a 400 and never counts against a breaker', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const dataException = await pool.query(`SELECT 'junk'::timestamptz`).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.match(dataException, { code: '22007' }, 'a real data exception from PostgreSQL');

  const breaker = new Breaker('replica:test', { failures: 3, halfOpenAfterMs: 60_000, timeoutMs: 1000 }, systemClock, deps.logger);
  for (let i = 0; i < 10; i++) await t.rejects(breaker.execute(() => Promise.reject(dataException)));
  t.equal(breaker.state(), 'closed', 'ten data exceptions in a row leave the breaker closed');
  for (let i = 0; i < 3; i++) await t.rejects(breaker.execute(() => Promise.reject(new Error('connection refused'))));
  t.equal(breaker.state(), 'open', 'three real failures open it');

  // Defence in depth on the primary: a value the params layer let through still comes back as 400.
  const { apiKey } = await newTenant(deps.pool);
  const { routeRead } = await import('../src/read-routing/route-read.ts');
  const options = { consistency: 'strong' as const, afterBatchId: undefined, maxStalenessMs: 3000 };
  await t.rejects(
    routeRead(deps.router, options, { database: (db) => db.query(`SELECT $1::timestamptz`, ['junk']) }),
    { status: 400, code: 'invalid_request' },
  );
  t.equal((await get(app, '/v1/devices', apiKey)).status, 200);
});

t.test('strong reads keep value keys named toString, constructor and __proto__', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  // Parsed from text: an object literal would set the prototype instead of a `__proto__` key.
  const values = JSON.parse('{"toString":1,"constructor":"c","__proto__":true,"hasOwnProperty":2}') as SeedEvent['values'];
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'proto', ts: BASE, values }]);
  const expected = JSON.parse('{"toString":1,"constructor":"c","__proto__":true,"hasOwnProperty":2}') as unknown;
  for (const consistency of ['strong', 'eventual']) {
    const answer = await get(app, `/v1/devices/proto?consistency=${consistency}`, apiKey);
    t.equal(answer.status, 200);
    t.same(Object.entries(answer.body.values).sort(), Object.entries(expected as object).sort(), `${consistency} latest state`);
  }
  for (const consistency of ['strong', 'eventual']) {
    const answer = await get(app, `/v1/devices/proto/state?consistency=${consistency}&at=${BASE + 1000}`, apiKey);
    t.same(Object.entries(answer.body.values).sort(), Object.entries(expected as object).sort(), `${consistency} state?at`);
  }
  // Still-staged events with such keys are merged too.
  await stageEvents(deps.pool, [
    { tenantId: tenant, device: 'proto', ts: BASE + 1, key: 'i:s', values: JSON.parse('{"toString":5,"__proto__":false}') as SeedEvent['values'] },
  ]);
  const merged = await get(app, '/v1/devices/proto?consistency=strong', apiKey);
  t.equal(merged.body.values.toString, 5);
  t.equal(Object.getOwnPropertyDescriptor(merged.body.values, '__proto__')?.value, false);
});

t.test('a device of 128 characters is read back, not answered 414', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const device = `d${'x'.repeat(126)}:`;
  t.equal(device.length, 128);
  await seedEvents(deps.pool, [{ tenantId: tenant, device, ts: BASE, key: 'i:1', values: { temp: 7 } }]);
  const state = await get(app, `/v1/devices/${device}`, apiKey);
  t.equal(state.status, 200);
  t.equal(state.body.device, device);
  t.equal((await get(app, `/v1/devices/${encodeURIComponent(device)}/events`, apiKey)).body.items.length, 1);
  t.equal((await get(app, `/v1/devices/${device}x`, apiKey)).status, 400, '129 characters is a 400 on the device, not a 414');
});

t.test('list pages are bounded in bytes as well as rows', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  // 12 devices of ~1 MiB of values each: a page of 100 would be 12 MiB.
  const big = 'v'.repeat(64 * 1024);
  const values = Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`k${k}`, big]));
  await seedEvents(deps.pool, Array.from({ length: 12 }, (_, d) => ({ tenantId: tenant, device: `big-${String(d).padStart(2, '0')}`, ts: BASE, values })));
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await app.inject({
      url: `/v1/devices?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      headers: { authorization: `Bearer ${apiKey}` },
    });
    t.equal(response.statusCode, 200);
    t.ok(response.body.length <= 4 * 1024 * 1024 + 1.1 * 1024 * 1024, `page ${pages} is ${response.body.length} bytes`);
    const body = response.json() as { items: { device: string; values: Record<string, string> }[]; nextCursor: string | null };
    for (const item of body.items) {
      seen.push(item.device);
      t.equal(Object.keys(item.values).length, 16, 'no device is cut short');
    }
    cursor = body.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  t.same(seen, Array.from({ length: 12 }, (_, d) => `big-${String(d).padStart(2, '0')}`), 'every device once, in order');
  t.ok(pages >= 3, `${pages} pages`);

  await seedEvents(
    deps.pool,
    Array.from({ length: 80 }, (_, i) => ({ tenantId: tenant, device: 'big-00', ts: BASE + i, key: `i:${i}`, values: { s: big } })),
  );
  const events = await get(app, '/v1/devices/big-00/events?limit=1000', apiKey);
  t.ok(events.body.items.length < 80 && events.body.items.length > 0, `${events.body.items.length} events in the first page`);
  t.type(events.body.nextCursor, 'string');
});

t.test('device-bound read keys read their device only', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'mine', ts: BASE, values: { temp: 1 } },
    { tenantId: tenant, device: 'theirs', ts: BASE, values: { temp: 2 } },
  ]);
  const key = (await issueApiKey(deps.pool, tenant, { scope: 'read', device: 'mine' }))!.apiKey;
  for (const url of ['/v1/devices/mine', '/v1/devices/mine/events', '/v1/devices/mine/series?value=temp', '/v1/devices/mine/state']) {
    t.equal((await get(app, url, key)).status, 200, url);
  }
  for (const url of ['/v1/devices/theirs', '/v1/devices/theirs/events', '/v1/devices/theirs/series?value=temp', '/v1/devices/theirs/state', '/v1/devices', '/v1/stats']) {
    const answer = await get(app, url, key);
    t.equal(answer.status, 403, url);
    t.equal(answer.body.error.code, 'forbidden');
    t.notMatch(JSON.stringify(answer.body), /mine/, 'the bound device is not named');
  }
});

t.test('reads are rate-limited per tenant: A over its limit gets 429 while B is served, on every instance', async (t) => {
  const { app, deps, config } = await buildTestApp(t, { readRateLimitPerSecond: 5 });
  // A second instance on the same Redis: the limit is shared, not per process.
  const { createQueryDeps, closeQueryDeps } = await import('../src/deps.ts');
  const { buildApp } = await import('../src/app.ts');
  const other = createQueryDeps(config);
  const otherApp = await buildApp(other);
  t.teardown(async () => {
    await otherApp.close();
    await closeQueryDeps(other);
  });
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await get(app, '/v1/devices', a.apiKey)).status);
  const limited = await get(otherApp, '/v1/devices', a.apiKey);
  const served = await get(app, '/v1/devices', b.apiKey);
  const ok = statuses.filter((s) => s === 200).length;
  t.ok(statuses.includes(429), 'A is limited');
  t.ok(ok <= 10, `A got at most its rate (${ok} of 30 within at most two one-second windows)`);
  t.equal(limited.status, 429, 'the other instance refuses A too');
  t.equal(limited.body.error.code, 'rate_limited');
  t.match(limited.headers['retry-after'], /^\d+$/);
  t.equal(served.status, 200, 'B is served');
  // Probes are never limited.
  for (let i = 0; i < 20; i++) if ((await get(app, '/livez', undefined)).status !== 200) t.fail('livez limited');
});
