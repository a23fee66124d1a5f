import t from 'tap';
import { buildTestApp, get, newTenant, seedCache, seedDeviceState, seedEvents, seedRollups, computeRollups } from './helpers.ts';

t.test('two tenants with the same device name never see each other', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const ts = Date.UTC(2026, 0, 1, 12);
  await seedDeviceState(deps.pool, { tenant: a.tenant, device: 'shared', values: { temp: { v: 1, t: ts } } });
  await seedDeviceState(deps.pool, { tenant: b.tenant, device: 'shared', values: { temp: { v: 2, t: ts } } });
  await seedDeviceState(deps.pool, { tenant: b.tenant, device: 'only-b', values: { temp: { v: 3, t: ts } } });
  await seedEvents(deps.pool, a.tenant, 'shared', [{ ts, key: 'i:a1', values: { temp: 1 } }]);
  await seedEvents(deps.pool, b.tenant, 'shared', [{ ts, key: 'i:b1', values: { temp: 2 } }]);
  const events = [{ ts, key: 'x', values: { temp: 1 } }];
  await seedRollups(deps.pool, a.tenant, 'shared', computeRollups(events));
  await seedCache(deps.cache, config.redisPrefix, b.tenant, { device: 'cached-b', ts: new Date(ts).toISOString(), values: { temp: 9 }, updatedAt: new Date(ts).toISOString() });

  for (const consistency of ['strong', 'eventual', 'cache']) {
    t.equal((await get(app, `/v1/devices/shared?consistency=${consistency}`, a.apiKey)).body.values.temp, 1, consistency);
    t.equal((await get(app, `/v1/devices/shared?consistency=${consistency}`, b.apiKey)).body.values.temp, 2, consistency);
    t.equal((await get(app, `/v1/devices/only-b?consistency=${consistency}`, a.apiKey)).status, 404, consistency);
    t.equal((await get(app, `/v1/devices/cached-b?consistency=${consistency}`, a.apiKey)).status, 404, consistency);
  }
  t.same((await get(app, '/v1/devices', a.apiKey)).body.items.map((i: { device: string }) => i.device), ['shared']);
  t.same((await get(app, '/v1/devices', b.apiKey)).body.items.map((i: { device: string }) => i.device), ['only-b', 'shared']);
  t.same((await get(app, '/v1/devices/shared/events', a.apiKey)).body.items.map((i: { id: string }) => i.id), ['a1']);
  t.same((await get(app, '/v1/devices/shared/events', b.apiKey)).body.items.map((i: { id: string }) => i.id), ['b1']);
  const seriesUrl = `/v1/devices/shared/series?value=temp&from=${ts - 60_000}&to=${ts + 60_000}&agg=count`;
  t.same((await get(app, seriesUrl, a.apiKey)).body.buckets, [{ ts: new Date(ts).toISOString(), count: 1 }]);
  t.same((await get(app, seriesUrl, b.apiKey)).body.buckets, []);
});

t.test('every /v1 route needs a valid key; probes do not', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  for (const url of ['/v1/devices', '/v1/devices/x', '/v1/devices/x/events', '/v1/devices/x/series?value=v', '/v1/devices?limit=banana']) {
    const missing = await get(app, url, undefined);
    t.equal(missing.status, 401, url);
    t.equal(missing.body.error.code, 'unauthorized');
    t.equal(missing.headers['www-authenticate'], 'Bearer');
    t.equal((await get(app, url, 'sk_not_a_key')).status, 401, url);
  }
  t.equal((await get(app, '/v1/devices/x', apiKey)).body.error.code, 'not_found');
  t.equal((await get(app, '/livez', undefined)).status, 200);
  const ready = await get(app, '/readyz', undefined);
  t.equal(ready.status, 200);
  t.same(ready.body.checks, { postgres: 'ok' });
});
