import t from 'tap';
import { encodeToken, redisKeys } from '@strata/core';
import { seedCache, seedEvents, stageEvents } from '@strata/testkit';
import { buildApp } from '../src/app.ts';
import { closeQueryDeps, createQueryDeps } from '../src/deps.ts';
import { buildTestApp, get, newTenant } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 20, 12);
const iso = (ms: number): string => new Date(ms).toISOString();

t.test('strong merges staged rows per value by event time; eventual does not', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const projectedFrom = Date.now();
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'band', ts: T0, values: { status: 'ok' } },
    { tenantId: tenant, device: 'band', ts: T0 + 2000, values: { temp: 37 } },
  ]);
  const projectedBy = Date.now();
  // Older than the projected temp, but the only carrier of battery; newer for status.
  await stageEvents(deps.pool, [
    { tenantId: tenant, device: 'band', ts: T0 + 1000, key: 'i:late', values: { temp: 35, battery: 80 } },
    { tenantId: tenant, device: 'band', ts: T0 + 1500, key: 'i:newer', values: { status: 'warn' } },
  ]);

  const strong = await get(app, '/v1/devices/band?consistency=strong', apiKey);
  t.equal(strong.status, 200);
  t.same(strong.body.values, { temp: 37, status: 'warn', battery: 80 });
  t.equal(strong.body.ts, iso(T0 + 2000));
  t.same(strong.body.meta, { source: 'primary', consistency: 'strong', lagMs: 0 });
  t.equal(strong.headers['x-read-source'], 'primary');
  t.equal(strong.headers['x-read-lag-ms'], '0');

  const eventual = await get(app, '/v1/devices/band', apiKey);
  const { updatedAt, ...rest } = eventual.body;
  t.same(rest, {
    device: 'band',
    ts: iso(T0 + 2000),
    values: { temp: 37, status: 'ok' },
    meta: { source: 'primary', consistency: 'eventual', lagMs: 0 },
  });
  // When the projection ran (the database's clock, the same machine's), not an event time.
  t.ok(Date.parse(updatedAt) >= projectedFrom - 1000 && Date.parse(updatedAt) <= projectedBy + 1000, `updatedAt ${updatedAt} is the projection's time`);
  t.equal((await get(app, '/v1/devices/band', apiKey, { 'x-consistency': 'strong' })).body.values.battery, 80, 'header form');
});

t.test('strong sees a device that exists only in staging; a token makes eventual read its writes', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const batch = await stageEvents(deps.pool, [{ tenantId: tenant, device: 'fresh', ts: T0, key: 'i:1', values: { temp: 20 } }]);
  t.equal((await get(app, '/v1/devices/fresh', apiKey)).status, 404, 'eventual: not projected yet');
  const strong = await get(app, '/v1/devices/fresh?consistency=strong', apiKey);
  t.equal(strong.status, 200);
  t.same(strong.body.values, { temp: 20 });
  t.equal(strong.body.ts, iso(T0));
  const withToken = await get(app, `/v1/devices/fresh?after=${encodeToken(batch)}`, apiKey);
  t.same(withToken.body.values, { temp: 20 });
  t.equal(withToken.body.meta.consistency, 'eventual');
  t.equal((await get(app, '/v1/devices/fresh?after=b1.bogus', apiKey)).body.error.details[0].field, 'after');
});

t.test('cache reads hit Redis first and fall back to PostgreSQL on a miss', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'a', ts: T0, values: { temp: 1 } },
    { tenantId: tenant, device: 'b', ts: T0, values: { temp: 2 } },
  ]);
  // Different from the database on purpose, so the answer shows where it came from.
  const cached = { device: 'a', ts: iso(T0 + 1), values: { temp: 100 }, updatedAt: iso(T0 + 2) };
  await seedCache(deps.cache, config.redisPrefix, [{ tenantId: tenant, ...cached, version: 7 }]);

  const hit = await get(app, '/v1/devices/a?consistency=cache', apiKey);
  t.same(hit.body, { ...cached, meta: { source: 'cache', consistency: 'cache', lagMs: 0 } });
  t.equal(hit.headers['x-read-source'], 'cache');

  const miss = await get(app, '/v1/devices/b', apiKey, { 'x-consistency': 'cache' });
  t.equal(miss.body.values.temp, 2);
  t.equal(miss.headers['x-read-source'], 'primary');
  t.equal(miss.body.meta.consistency, 'cache');

  t.equal((await get(app, '/v1/devices/a', apiKey)).body.values.temp, 1, 'eventual ignores the cache');
  const metrics = await get(app, '/metrics', undefined).catch(() => undefined);
  t.equal(metrics, undefined, '/metrics is text, not JSON');
  const text = (await app.inject({ url: '/metrics' })).body;
  t.match(text, /strata_query_cache_lookups_total\{result="hit",service="query-api"\} 1/);
  t.match(text, /strata_query_cache_lookups_total\{result="miss",service="query-api"\} 1/);
  t.match(text, /strata_query_reads_total\{source="cache",consistency="cache",service="query-api"\} 1/);
});

t.test('a broken cache entry or an unreachable cache Redis never fails the read', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'a', ts: T0, values: { temp: 1 } }]);
  // A corrupt entry on purpose (no writer produces one): the read must survive it.
  await deps.cache.hset(redisKeys.deviceState(config.redisPrefix, tenant, 'a'), { v: '1', b: '{not json' });
  const garbled = await get(app, '/v1/devices/a?consistency=cache', apiKey);
  t.equal(garbled.status, 200);
  t.equal(garbled.headers['x-read-source'], 'primary');

  // Same database, but a cache Redis nobody listens on.
  const downDeps = createQueryDeps({ ...config, cacheRedisUrl: 'redis://127.0.0.1:1' });
  const downApp = await buildApp(downDeps);
  t.teardown(async () => {
    await downApp.close();
    await closeQueryDeps(downDeps);
  });
  for (let i = 0; i < 3; i++) {
    const read = await get(downApp, '/v1/devices/a?consistency=cache', apiKey);
    t.equal(read.status, 200);
    t.equal(read.body.values.temp, 1);
    t.equal(read.headers['x-read-source'], 'primary');
  }
  const ready = await get(downApp, '/readyz', undefined);
  t.equal(ready.status, 200, 'a cache outage does not make query-api unready: cache reads fall back');
});
