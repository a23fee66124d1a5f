import t from 'tap';
import { seedCache, seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

t.test('two tenants with the same device name never see each other', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const ts = Date.UTC(2026, 0, 1, 12);
  await seedEvents(deps.pool, [
    { tenantId: a.tenant, device: 'shared', ts, key: 'i:a1', values: { temp: 1 } },
    { tenantId: b.tenant, device: 'shared', ts, key: 'i:b1', values: { temp: 2 } },
    { tenantId: b.tenant, device: 'only-b', ts, values: { temp: 3 } },
  ]);
  const iso = new Date(ts).toISOString();
  await seedCache(deps.cache, config.redisPrefix, [{ tenantId: b.tenant, device: 'cached-b', ts: iso, values: { temp: 9 }, updatedAt: iso }]);

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
  t.same((await get(app, seriesUrl, b.apiKey)).body.buckets, [{ ts: new Date(ts).toISOString(), count: 1 }], "b's own reading only");
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
