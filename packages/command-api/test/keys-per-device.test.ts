import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { redisKeys } from '@strata/core';
import { createTenant, seedEvents } from '@strata/testkit';
import { closeCommandDeps, createCommandDeps } from '../src/deps.ts';
import { startCommandApi } from '../src/service.ts';
import { buildTestApp } from './build-test-app.ts';

/*
 * Issue 9, finding 3: a device holds at most MAX_KEYS_PER_DEVICE distinct value keys, across every
 * command-api instance and concurrent requests; another device or tenant is unaffected.
 */
const CAP = 10;

t.test('two instances and concurrent requests cannot push a device past the cap', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxKeysPerDevice: CAP });
  // A second instance of the command API on the same database and Redis.
  const deps2 = createCommandDeps(ctx.config);
  const { app: app2, stop } = await startCommandApi(deps2);
  t.teardown(async () => {
    await stop();
    await closeCommandDeps(deps2);
  });
  const other = await createTenant(ctx.db, 'other tenant');
  const post = (app: FastifyInstance, apiKey: string, payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}` }, payload: payload as object });
  const ts = Date.now() - 60_000;

  // 30 requests, each adding one new key to the same device, half through each instance, all at once.
  const responses = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      post(i % 2 === 0 ? ctx.app : app2, ctx.tenant.apiKey, { device: 'crowded', ts: ts + i, values: { [`k${i}`]: i } }),
    ),
  );
  const accepted = responses.filter((r) => r.statusCode === 202).length;
  const refused = responses.filter((r) => r.statusCode === 400);
  t.equal(accepted, CAP, `exactly ${CAP} requests got their new key in`);
  t.equal(refused.length, 30 - CAP, 'the others are refused');
  t.same(refused[0]?.json().error.details, [
    { index: 0, field: 'values', reason: `device "crowded" would hold ${CAP + 1} distinct value keys; at most ${CAP} are allowed (MAX_KEYS_PER_DEVICE)` },
  ]);
  const staged = await ctx.db.query<{ n: number }>(
    `SELECT count(DISTINCT k)::int AS n FROM staging_events, jsonb_object_keys("values") k WHERE device = 'crowded'`,
  );
  t.equal(staged.rows[0]?.n, CAP, 'staging holds exactly the cap of distinct keys');

  const held = responses.flatMap((r, i) => (r.statusCode === 202 ? [`k${i}`] : []));
  for (const app of [ctx.app, app2]) {
    const resend = await post(app, ctx.tenant.apiKey, { device: 'crowded', ts: ts + 100, values: Object.fromEntries(held.map((k) => [k, 1])) });
    t.equal(resend.statusCode, 202, 'the keys it holds can always be sent again, through either instance');
  }

  const mixed = await post(ctx.app, ctx.tenant.apiKey, {
    events: [
      { device: 'fresh', ts, values: { a: 1 } },
      { device: 'crowded', ts, values: { brandNew: 1 } },
    ],
  });
  t.equal(mixed.statusCode, 400, 'a request with one device past the cap is refused whole');
  t.same(mixed.json().error.details.map((d: { index: number; field: string }) => [d.index, d.field]), [[1, 'values']]);
  const fresh = await ctx.db.query(`SELECT 1 FROM staging_events WHERE device = 'fresh'`);
  t.equal(fresh.rowCount, 0, 'nothing of the refused request is stored');

  const wide = await post(app2, ctx.tenant.apiKey, { device: 'fresh', ts, values: Object.fromEntries(Array.from({ length: CAP }, (_, i) => [`w${i}`, i])) });
  t.equal(wide.statusCode, 202, 'another device of the tenant is unaffected, and the refused request registered nothing for it');
  const otherTenant = await post(ctx.app, other.apiKey, { device: 'crowded', ts, values: Object.fromEntries(Array.from({ length: CAP }, (_, i) => [`o${i}`, i])) });
  t.equal(otherTenant.statusCode, 202, "another tenant's device of the same name is unaffected");
  const tooWide = await post(ctx.app, other.apiKey, { device: 'wide', ts, values: Object.fromEntries(Array.from({ length: CAP + 1 }, (_, i) => [`x${i}`, i])) });
  t.equal(tooWide.statusCode, 400, 'one event alone with more keys than the cap is refused');
});

t.test('a device without a registry entry starts from the keys its stored state holds', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxKeysPerDevice: CAP });
  // Projected before the registry knew it (its Redis entry gone): only device_state holds its keys.
  const values = Object.fromEntries(Array.from({ length: CAP - 1 }, (_, i) => [`s${i}`, i]));
  await seedEvents(ctx.db, [{ tenantId: ctx.tenant.tenant, device: 'old', ts: Date.now() - 60_000, values }]);
  const post = (values: Record<string, number>) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: { device: 'old', ts: Date.now(), values } });
  t.equal((await post({ s0: 1, n1: 1, n2: 2 })).statusCode, 400, 'the 9 stored keys count: two more would make 11');
  t.equal((await post({ s0: 1, s8: 2, n1: 1 })).statusCode, 202, 'one more makes 10');
  t.equal((await post({ n2: 1 })).statusCode, 400, 'and then the device is full');
});

t.test('a batch of 10,000 devices with 20 new keys each is accepted, and the cap still holds', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxKeysPerDevice: 20 });
  const post = (payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: payload as object });
  const ts = Date.now() - 60_000;
  const values = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`value-${i}`, i]));
  // 200,000 digests once spread into one call overflowed the stack: 503 on every retry.
  const wide = await post({ events: Array.from({ length: 10_000 }, (_, i) => ({ device: `fleet-${i}`, ts, values })) });
  t.equal(wide.statusCode, 202, wide.body);
  const over = await post({ device: 'fleet-9999', ts, values: { oneMore: 1 } });
  t.equal(over.statusCode, 400, 'the registered keys count: a 21st key of a device is refused');
  t.match(over.json().error.details[0].reason, /would hold 21 distinct value keys/);
  t.equal((await post({ device: 'fleet-5', ts: ts + 1, values })).statusCode, 202, 'its 20 keys can be sent again');
});

t.test('claims of concurrent requests share registry calls, yet one request whose claim fails in Redis fails alone', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxKeysPerDevice: CAP });
  const other = await createTenant(ctx.db, 'bystander tenant');
  const redis = new Redis(ctx.config.redisUrl);
  t.teardown(() => redis.quit());
  // A registry entry of the wrong type makes the script fail (WRONGTYPE) for the request that has it.
  await redis.set(redisKeys.deviceKeys(ctx.config.redisPrefix, ctx.tenant.tenant, 'broken'), 'not a set');
  const post = (apiKey: string, payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}` }, payload: payload as object });
  const ts = Date.now() - 60_000;
  // In the middle of the burst, so it waits for a call together with others.
  const responses = await Promise.all(
    Array.from({ length: 41 }, (_, i) =>
      i === 20
        ? post(ctx.tenant.apiKey, { device: 'broken', ts, values: { a: 1 } })
        : post(i % 2 ? other.apiKey : ctx.tenant.apiKey, { device: `new-${i}`, ts, values: { a: 1, b: 2 } }),
    ),
  );
  t.equal(responses[20]?.statusCode, 503, 'the request whose entry is broken is refused');
  t.same(
    responses.filter((_, i) => i !== 20).map((r) => r.statusCode),
    Array.from({ length: 40 }, () => 202),
    'every other request, of either tenant, is accepted',
  );
  // Requests that waited together in one call still claim one by one: exactly CAP fit.
  const crowd = await Promise.all(Array.from({ length: 20 }, (_, i) => post(other.apiKey, { device: 'shared', ts, values: { [`k${i}`]: i } })));
  t.equal(crowd.filter((r) => r.statusCode === 202).length, CAP, `exactly ${CAP} of 20 concurrent new keys got in`);
  t.equal(await redis.scard(redisKeys.deviceKeys(ctx.config.redisPrefix, other.tenant, 'shared')), CAP, 'and the registry holds exactly those');
});

/*
 * Issue 13: a device holds at most 32 distinct labels (EVENT_LIMITS.maxLabels), counted apart from its
 * value keys, across instances and concurrent requests, and starting from the labels it holds.
 */
t.test('labels: at most 32 a device, across instances, apart from value keys, refused as field labels', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxKeysPerDevice: CAP });
  const deps2 = createCommandDeps(ctx.config);
  const { app: app2, stop } = await startCommandApi(deps2);
  t.teardown(async () => {
    await stop();
    await closeCommandDeps(deps2);
  });
  const post = (app: FastifyInstance, payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: payload as object });
  const ts = Date.now() - 60_000;
  const responses = await Promise.all(
    Array.from({ length: 40 }, (_, i) => post(i % 2 === 0 ? ctx.app : app2, { device: 'tagged', ts: ts + i, values: { v: 1 }, labels: { [`l${i}`]: 'x' } })),
  );
  t.equal(responses.filter((r) => r.statusCode === 202).length, 32, 'exactly 32 labels got in');
  const refused = responses.filter((r) => r.statusCode === 400);
  t.equal(refused.length, 8);
  t.same(refused[0]?.json().error.details, [{ index: 0, field: 'labels', reason: 'device "tagged" would hold 33 distinct labels; at most 32 are allowed' }]);
  const staged = await ctx.db.query<{ n: number }>(
    `SELECT count(DISTINCT k)::int AS n FROM staging_events, jsonb_object_keys(labels) k WHERE device = 'tagged'`,
  );
  t.equal(staged.rows[0]?.n, 32, 'staging holds exactly 32 distinct labels');

  const held = responses.flatMap((r, i) => (r.statusCode === 202 ? [`l${i}`] : []));
  const again = await post(app2, { device: 'tagged', ts: ts + 100, values: { v: 2 }, labels: Object.fromEntries(held.map((name) => [name, 'y'])) });
  t.equal(again.statusCode, 202, 'the labels it holds can be sent again, with other values');

  const both = await post(ctx.app, { device: 'tagged', ts, values: Object.fromEntries(Array.from({ length: CAP - 1 }, (_, i) => [`n${i}`, i])), labels: { late: 'x' } });
  t.equal(both.statusCode, 400, 'new value keys within their cap, but a 33rd label: refused whole');
  t.same(both.json().error.details.map((d: { field: string }) => d.field), ['labels']);
  const values = await post(app2, { device: 'tagged', ts, values: Object.fromEntries(Array.from({ length: CAP - 1 }, (_, i) => [`w${i}`, i])) });
  t.equal(values.statusCode, 202, 'the refused request registered none of its value keys (v, w0..w8 make 10)');

  const sameNames = await post(ctx.app, { device: 'named', ts, values: Object.fromEntries(Array.from({ length: CAP }, (_, i) => [`k${i}`, i])), labels: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'x'])) });
  t.equal(sameNames.statusCode, 202, 'a label and a value key of the same name count once each, in their own cap');
  const other = await post(ctx.app, { device: 'other', ts, labels: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`z${i}`, 'x'])) });
  t.equal(other.statusCode, 202, 'another device of the tenant is unaffected');
});

t.test('labels: a device without a registry entry starts from the labels it holds', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  // 31 labels in force and one removed, as folds leave them; the registry (Redis) knows none of them.
  await ctx.db.query(
    `INSERT INTO label_versions (tenant_id, device, label, valid_from, value, last_sample, origin)
     SELECT $1, 'holder', 'h' || i, now() - interval '1 day', CASE WHEN i = 31 THEN NULL ELSE 'x' END, now() - interval '1 day', 'a'
       FROM generate_series(0, 31) i`,
    [ctx.tenant.tenant],
  );
  const post = (labels: Record<string, string>) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: { device: 'holder', ts: Date.now(), labels } });
  const two = await post({ h0: 'y', n1: 'x', n2: 'x' });
  t.equal(two.statusCode, 400, 'the 31 held labels count: two more would make 33');
  t.match(two.json().error.details[0].reason, /would hold 33 distinct labels/);
  t.equal((await post({ h0: 'y', h31: 'back', n1: 'x' })).statusCode, 400, 'a removed label is not held: it counts as new');
  t.equal((await post({ h5: 'y', n1: 'x' })).statusCode, 202, 'one more makes 32');
  t.equal((await post({ n2: 'x' })).statusCode, 400, 'and then the device is full');
  t.equal((await post({ h30: 'z', n1: 'w' })).statusCode, 202, 'its labels can take new values');
});
