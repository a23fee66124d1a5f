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
    labels: {},
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
  t.same(hit.body, { ...cached, labels: {}, meta: { source: 'cache', consistency: 'cache', lagMs: 0 } });
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

t.test('labels: current versions, laid over by samples of noted minutes; cached labels on cache reads', async (t) => {
  const { app, deps, config } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'other');
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'door', ts: T0, values: { crossing: 1 } },
    { tenantId: other.tenant, device: 'door', ts: T0, values: { crossing: 1 } },
  ]);
  // Versions as fold_label_samples leaves them (written by SQL until the PUT route lands): space was
  // hall until T0 + 60 s, lobby since; a removed label (NULL value) and the other tenant's label.
  const version = (tenantId: string, label: string, from: number, to: number | null, value: string | null, lastSample = from): Promise<unknown> =>
    deps.pool.query(
      `INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
       VALUES ($1, 'door', $2, $3, coalesce($4::timestamptz, 'infinity'), $5, $6, 'a')`,
      [tenantId, label, iso(from), to === null ? null : iso(to), value, iso(lastSample)],
    );
  await version(tenant, 'space', T0 - 60_000, T0 + 60_000, 'hall');
  await version(tenant, 'space', T0 + 60_000, null, 'lobby', T0 + 90_000);
  await version(tenant, 'floor', T0 - 60_000, T0, '1');
  await version(tenant, 'floor', T0, null, null);
  await version(tenant, '__proto__', T0, null, 'x');
  await version(other.tenant, 'team', T0, null, 'red');

  for (const consistency of ['eventual', 'strong']) {
    const read = await get(app, `/v1/devices/door?consistency=${consistency}`, apiKey);
    t.equal(read.status, 200);
    t.same(read.body.labels, JSON.parse('{"__proto__": "x", "space": "lobby"}'), `${consistency}: current values, removed and ended ones left out`);
    t.ok(Object.hasOwn(read.body.labels, '__proto__'), `${consistency}: __proto__ is an own key`);
  }
  t.same((await get(app, '/v1/devices/door', other.apiKey)).body.labels, { team: 'red' }, "another tenant's labels stay its own");

  // An event's labels reach latest state with its values, before the refresher folds them: a newer
  // sample wins, an older one (before the version's last sample) does not, an equal time goes to the larger text.
  const { projectBatch } = await import('@strata/testkit');
  const labelled = (ts: number, key: string, labels: Record<string, string>) => ({ tenantId: tenant, device: 'door', ts, key, type: 'reading', values: { crossing: 1 }, labels });
  await projectBatch(deps.pool, crypto.randomUUID(), [
    labelled(T0 + 80_000, 'i:older', { space: 'garage' }),
    labelled(T0 + 90_000, 'i:tie', { space: 'atrium' }),
    labelled(T0 + 100_000, 'i:newer', { floor: '2' }),
  ]);
  const noted = await get(app, '/v1/devices/door', apiKey);
  t.same(noted.body.labels, JSON.parse('{"__proto__": "x", "floor": "2", "space": "lobby"}'), 'noted samples laid over versions (lobby > atrium on the tie)');

  // Cache: the written-through labels entry, `{}` without one, PostgreSQL when it is garbled.
  const cached = { device: 'door', ts: iso(T0), values: { crossing: 9 }, updatedAt: iso(T0) };
  await seedCache(deps.cache, config.redisPrefix, [{ tenantId: tenant, ...cached, version: 3 }]);
  t.same((await get(app, '/v1/devices/door?consistency=cache', apiKey)).body.labels, {}, 'no labels entry: none');
  const key = `${config.redisPrefix}:labels:${tenant}:door`;
  await deps.cache.set(key, JSON.stringify({ v: 5, labels: { space: 'attic' } }));
  const hit = await get(app, '/v1/devices/door?consistency=cache', apiKey);
  t.equal(hit.headers['x-read-source'], 'cache');
  t.same(hit.body.labels, { space: 'attic' });
  await deps.cache.set(key, JSON.stringify({ v: 5, labels: { space: 7 } }));
  const garbled = await get(app, '/v1/devices/door?consistency=cache', apiKey);
  t.equal(garbled.headers['x-read-source'], 'primary', 'a garbled labels entry falls back to the database');
  t.equal(garbled.body.labels.space, 'lobby');
});
