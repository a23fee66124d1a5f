import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { AppError, createPool, issueApiKey, type Config, type Pool } from '@strata/core';
import { createTenant, createTestEnvironment, freePort, type Teardownable } from '@strata/testkit';
import { buildApp } from '../src/app.ts';
import { cachedLabelsKey } from '../src/labels/write-through-labels.ts';
import { closeCommandDeps, createCommandDeps, type CommandDeps } from '../src/deps.ts';
import { writeDeviceLabels, type WriteDeviceLabelsDeps } from '../src/labels/write-device-labels.ts';

/*
 * PUT/PATCH /v1/devices/:device/labels (issue 13, SPEC "Groups"): replace and merge, effective from the
 * database's now, folded into label_versions at once under the tenant's aggregate lock; every bad body
 * a 400 naming the field that changes nothing; scopes and device-bound keys; a lock held past the lock
 * timeout a 503 with Retry-After; the label registry freed by a write.
 */

interface LabelsContext {
  app: FastifyInstance;
  deps: CommandDeps & Partial<WriteDeviceLabelsDeps>;
  db: Pool;
  tenant: { tenant: string; apiKey: string };
}

/** The command API (app.ts registers the label routes with its deps). */
async function buildLabelsApp(t: Teardownable, lockTimeoutMs = 2000, overrides: Partial<Config> = {}): Promise<LabelsContext> {
  const { config, logger } = await createTestEnvironment(t, { retentionDays: 36500, ingestMaxWaitMs: 1, ...overrides });
  // The label routes' optional deps (app.ts passes the command deps as they are): the test Redis is
  // the cache Redis too (CACHE_REDIS_URL = REDIS_URL in tests), and a lock timeout of the test's.
  const deps = Object.assign(createCommandDeps(config, { logger }), { labelLockTimeoutMs: lockTimeoutMs } as Partial<WriteDeviceLabelsDeps>);
  deps.cache ??= deps.redis;
  const app = await buildApp(deps);
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await closeCommandDeps(deps);
  });
  const db = createPool({ connectionString: config.databaseUrl, max: 4, applicationName: 'test' }, logger);
  t.teardown(() => db.end());
  const tenant = await createTenant(db, 'labels tenant');
  return { app, deps, db, tenant };
}

type Method = 'PUT' | 'PATCH';

function writer(ctx: LabelsContext) {
  return (method: Method, device: string, body: unknown, apiKey = ctx.tenant.apiKey) =>
    ctx.app.inject({
      method,
      url: `/v1/devices/${encodeURIComponent(device)}/labels`,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
}

async function versions(db: Pool, tenant: string, device: string) {
  const result = await db.query<{ label: string; value: string | null; from: string; to: string; origin: string }>(
    `SELECT label, value, to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS from,
            CASE WHEN valid_to = 'infinity' THEN 'infinity' ELSE to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END AS to, origin
       FROM label_versions WHERE tenant_id = $1 AND device = $2 ORDER BY label COLLATE "C", valid_from`,
    [tenant, device],
  );
  return result.rows;
}

t.test('PUT replaces, PATCH merges, effective from the database clock, visible in label_versions at once', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  const clock = async () => (await ctx.db.query<{ ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms')).rows[0]?.ms as number;
  const before = await clock();
  const first = await write('PUT', 'door-1', { labels: { space: 'lobby', floor: '1' } });
  t.equal(first.statusCode, 200, first.body);
  const one = first.json();
  t.same(one, { device: 'door-1', labels: { floor: '1', space: 'lobby' }, effectiveFrom: one.effectiveFrom });
  t.match(one.effectiveFrom, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'an ISO instant to the millisecond');
  const after = await clock();
  const at = Date.parse(one.effectiveFrom);
  t.ok(at >= Math.floor(before) && at <= after, 'the database clock (cut to the millisecond), between two readings of it');
  t.same(await versions(ctx.db, ctx.tenant.tenant, 'door-1'), [
    { label: 'floor', value: '1', from: one.effectiveFrom, to: 'infinity', origin: 'a' },
    { label: 'space', value: 'lobby', from: one.effectiveFrom, to: 'infinity', origin: 'a' },
  ], 'a device that never sent an event may be labelled; the versions are there at once');

  const second = (await write('PUT', 'door-1', { labels: { space: 'hall' } })).json();
  t.same(second.labels, { space: 'hall' }, 'PUT: a label not named becomes absent');
  t.ok(Date.parse(second.effectiveFrom) >= at);
  const stored = await versions(ctx.db, ctx.tenant.tenant, 'door-1');
  t.same(stored.map((v) => [v.label, v.value, v.to === 'infinity' ? 'now on' : v.to === second.effectiveFrom ? 'until the PUT' : v.to]), [
    ['floor', '1', 'until the PUT'],
    ['floor', null, 'now on'],
    ['space', 'lobby', 'until the PUT'],
    ['space', 'hall', 'now on'],
  ], 'the past keeps its labels: lobby and floor 1 until the second PUT');

  const merged = (await write('PATCH', 'door-1', { labels: { floor: '2', zone: 'east' } })).json();
  t.same(merged.labels, { floor: '2', space: 'hall', zone: 'east' }, 'PATCH: the others keep their value');
  const removed = (await write('PATCH', 'door-1', { labels: { zone: null, never: null } })).json();
  t.same(removed.labels, { floor: '2', space: 'hall' }, 'PATCH: null removes (a label never set stays absent)');
  const same = (await write('PATCH', 'door-1', { labels: {} })).json();
  t.same(same.labels, { floor: '2', space: 'hall' }, 'an empty PATCH changes nothing');
  const cleared = (await write('PUT', 'door-1', { labels: {} })).json();
  t.same(cleared.labels, {}, 'an empty PUT removes every label');

  const proto = await write('PUT', 'door-2', '{"labels": {"__proto__": "p", "constructor": "c"}}');
  t.equal(proto.statusCode, 200);
  t.same(JSON.parse(proto.body).labels, JSON.parse('{"__proto__": "p", "constructor": "c"}'));
  t.match(proto.body, /"__proto__":"p"/, '__proto__ is a label like any other, returned as one');
  const odd = { 'line\nbreak': 'a\nb', 'sep\u2028': '"quoted"', 'emoji 🚪': 'Köln' };
  t.same((await write('PUT', 'door-3', { labels: odd })).json().labels, odd, 'names with line breaks, quotes and non-ASCII come back whole');
  t.equal(await metricValue(ctx, 'strata_label_folds_total{source="put"}'), 5);
  t.equal(await metricValue(ctx, 'strata_label_folds_total{source="patch"}'), 3);

  // Concurrent writes of one tenant take turns on its lock: every PATCH lands, none is lost.
  const patches = await Promise.all(Array.from({ length: 12 }, (_, i) => write('PATCH', 'busy', { labels: { [`p${i}`]: `${i}` } })));
  t.same(patches.map((r) => r.statusCode), Array(12).fill(200));
  t.equal(Object.keys((await write('PATCH', 'busy', { labels: {} })).json().labels).length, 12);
});

t.test('a bad body or device is a 400 naming the field, and changes nothing', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  t.equal((await write('PUT', 'd', { labels: { keep: 'me' } })).statusCode, 200);
  const baseline = await versions(ctx.db, ctx.tenant.tenant, 'd');
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
  const cases: [Method, string, unknown, string][] = [
    ['PUT', 'd', { labels: many }, 'labels'],
    ['PATCH', 'd', { labels: many }, 'labels'],
    ['PUT', 'd', { labels: { team: 'x'.repeat(129) } }, 'labels.team'],
    ['PUT', 'd', { labels: { ['x'.repeat(129)]: 'red' } }, `labels.${'x'.repeat(129)}`],
    ['PUT', 'd', { labels: { team: 7 } }, 'labels.team'],
    ['PUT', 'd', { labels: { team: null } }, 'labels.team'],
    ['PATCH', 'd', { labels: { team: ['red'] } }, 'labels.team'],
    ['PUT', 'd', '{"labels": {"\\ud800team": "red"}}', 'labels.\ud800team'],
    ['PUT', 'd', '{"labels": {"team": "re\\ud800d"}}', 'labels.team'],
    ['PATCH', 'd', '{"labels": {"team": "re\\u0000d"}}', 'labels.team'],
    ['PUT', 'd', { labels: { team: '' } }, 'labels.team'],
    ['PUT', 'd', { labels: 'team=red' }, 'labels'],
    ['PUT', 'd', { labels: ['team'] }, 'labels'],
    ['PUT', 'd', {}, 'body'],
    ['PUT', 'd', '[]', 'body'],
    ['PUT', 'd', { labels: { team: 'red' }, label: { team: 'blue' } }, 'label'],
    ['PUT', 'bad device', { labels: { team: 'red' } }, 'device'],
    ['PATCH', 'x'.repeat(129), { labels: { team: 'red' } }, 'device'],
  ];
  for (const [method, device, body, field] of cases) {
    const response = await write(method, device, body);
    t.equal(response.statusCode, 400, `${method} ${JSON.stringify(body).slice(0, 60)}`);
    const details = response.json().error?.details as { field: string; reason: string }[] | undefined;
    t.ok(details?.some((d) => d.field === field && d.reason.length > 0), `names ${field.slice(0, 40)}: ${String(JSON.stringify(details)).slice(0, 200)}`);
  }
  const nonJson = await ctx.app.inject({ method: 'PUT', url: '/v1/devices/d/labels', headers: { authorization: `Bearer ${ctx.tenant.apiKey}`, 'content-type': 'application/json' }, payload: '{"labels":' });
  t.equal(nonJson.statusCode, 400, 'malformed JSON');
  t.same(await versions(ctx.db, ctx.tenant.tenant, 'd'), baseline, 'nothing changed');
});

t.test('a device holds at most 32 labels: a PATCH past it changes nothing', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  const full = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v']));
  t.equal((await write('PUT', 'full', { labels: full })).statusCode, 200, '32 labels are fine');
  const baseline = await versions(ctx.db, ctx.tenant.tenant, 'full');
  const over = await write('PATCH', 'full', { labels: { k32: 'v' } });
  t.equal(over.statusCode, 400);
  t.same(over.json().error.details, [{ field: 'labels', reason: 'device "full" would hold 33 labels; at most 32 are allowed (null removes one)' }]);
  t.same(await versions(ctx.db, ctx.tenant.tenant, 'full'), baseline, 'rolled back: nothing changed');
  const swap = await write('PATCH', 'full', { labels: { k0: null, k32: 'v' } });
  t.equal(swap.statusCode, 200, 'one removed and one added stays at 32');
  t.equal(Object.keys(swap.json().labels).length, 32);
});

t.test('scopes: write and all keys; a device-bound key only for its device; a read key 403; no key 401', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  const key = async (scope: 'read' | 'write' | 'all', device: string | null = null) =>
    ((await issueApiKey(ctx.db, ctx.tenant.tenant, { scope, device })) as { apiKey: string }).apiKey;
  for (const method of ['PUT', 'PATCH'] as Method[]) {
    t.equal((await write(method, 'd', { labels: { a: 'b' } }, await key('write'))).statusCode, 200, `${method} with a write key`);
    t.equal((await write(method, 'd', { labels: { a: 'b' } }, await key('all'))).statusCode, 200, `${method} with an all key`);
    const read = await write(method, 'd', { labels: { a: 'c' } }, await key('read'));
    t.equal(read.statusCode, 403, `${method} with a read key`);
    t.equal(read.json().error.code, 'forbidden');
    const bound = await key('write', 'own');
    t.equal((await write(method, 'own', { labels: { a: 'b' } }, bound)).statusCode, 200, `${method}: a bound key on its own device`);
    const other = await write(method, 'd', { labels: { a: 'stolen' } }, bound);
    t.equal(other.statusCode, 403, `${method}: a bound key on another device`);
    t.equal((await write(method, 'd', { labels: { a: 'b' } }, 'sk_wrong')).statusCode, 401);
  }
  t.notOk((await versions(ctx.db, ctx.tenant.tenant, 'd')).some((v) => v.value === 'c' || v.value === 'stolen'), 'no refused write left a trace');
  const other = await createTenant(ctx.db, 'other tenant');
  const theirs = (await write('PUT', 'd', { labels: { a: 'theirs' } }, other.apiKey)).json();
  t.same(theirs.labels, { a: 'theirs' }, "another tenant's device of the same name is its own");
  t.same((await write('PATCH', 'd', { labels: {} })).json().labels, { a: 'b' }, 'and ours is untouched');
});

t.test('the tenant lock: a write waits for it, and past the lock timeout answers 503 with Retry-After', async (t) => {
  const ctx = await buildLabelsApp(t, 300);
  const write = writer(ctx);
  const holder = await ctx.db.connect();
  t.teardown(() => holder.release());
  const hold = async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [ctx.tenant.tenant]);
  };
  await hold();
  const started = Date.now();
  const refused = await write('PUT', 'locked', { labels: { a: 'b' } });
  t.equal(refused.statusCode, 503, refused.body);
  t.equal(refused.headers['retry-after'], '1');
  t.ok(Date.now() - started >= 250, 'it waited for the lock first');
  t.same(await versions(ctx.db, ctx.tenant.tenant, 'locked'), [], 'nothing written');
  const other = await createTenant(ctx.db, 'unlocked tenant');
  t.equal((await write('PUT', 'locked', { labels: { a: 'b' } }, other.apiKey)).statusCode, 200, "another tenant's writes do not wait");

  const waiting = write('PATCH', 'locked', { labels: { a: 'c' } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await holder.query('COMMIT');
  const waited = await waiting;
  t.equal(waited.statusCode, 200, 'a lock released within the timeout: the write goes through');
  t.same(waited.json().labels, { a: 'c' });

});

t.test('a write frees the label registry: a device relabelled by PUT takes new event labels', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  const post = (labels: Record<string, string>) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: { device: 'tagged', ts: Date.now(), values: { v: 1 }, labels } });
  t.equal((await post(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`e${i}`, 'x'])))).statusCode, 202, '32 labels by event');
  t.equal((await post({ more: 'x' })).statusCode, 400, 'a 33rd is refused');
  t.equal((await write('PUT', 'tagged', { labels: { team: 'red' } })).statusCode, 200);
  t.equal((await post({ more: 'x' })).statusCode, 202, 'after the PUT the device holds one label, so a new one fits');
  const full = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`f${i}`, 'x']));
  t.equal((await write('PATCH', 'fresh', { labels: { ...full, team: 'red' } })).statusCode, 200, '32 labels by PATCH');
  const refused = await post2(ctx, 'fresh', { extra: 'x' });
  t.equal(refused.statusCode, 400, 'an event cannot add a 33rd to labels set by the API');
  t.equal(refused.json().error.details[0].field, 'labels');
  t.equal((await post2(ctx, 'fresh', { team: 'blue' })).statusCode, 202, 'a held label takes a new value');
});

t.test('the cached labels are written through after commit, newest version wins', async (t) => {
  const ctx = await buildLabelsApp(t);
  const write = writer(ctx);
  const key = cachedLabelsKey(ctx.deps.config.redisPrefix, ctx.tenant.tenant, 'cached');
  const read = async () => JSON.parse((await ctx.deps.redis.get(key)) ?? 'null');
  const put = (await write('PUT', 'cached', { labels: { space: 'lobby', floor: '1' } })).json();
  t.same(await read(), { v: Date.parse(put.effectiveFrom), labels: { floor: '1', space: 'lobby' } });
  const patched = (await write('PATCH', 'cached', { labels: { floor: null } })).json();
  t.same(await read(), { v: Date.parse(patched.effectiveFrom), labels: { space: 'lobby' } }, 'a removed label leaves the cache');
  await ctx.deps.redis.set(key, JSON.stringify({ v: 8.64e15, labels: { space: 'newer' } }));
  t.equal((await write('PATCH', 'cached', { labels: { space: 'hall' } })).statusCode, 200);
  t.same((await read()).labels, { space: 'newer' }, 'a newer version in the cache (the refresher folded later) stays');
  await ctx.deps.redis.set(key, 'garbage');
  await write('PATCH', 'cached', { labels: { zone: 'a' } });
  t.same((await read()).labels, { space: 'hall', zone: 'a' }, 'an entry not of the contract is replaced');
  await write('PUT', 'cached', '{"labels": {"__proto__": "p"}}');
  t.match(await ctx.deps.redis.get(key), /"labels":\{"__proto__": ?"p"\}/, '__proto__ cached as a plain label');
});

t.test("label writes count against the tenant's ingest rate", async (t) => {
  const ctx = await buildLabelsApp(t, 2000, { ingestRateLimitEventsPerSecond: 5 });
  const write = writer(ctx);
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
  const responses = [];
  for (let i = 0; i < 3; i++) responses.push(await write('PUT', 'looped', { labels: many }));
  const limited = responses.find((r) => r.statusCode === 429);
  t.ok(limited, `a loop of 20-label PUTs at 5 events/s is limited: ${responses.map((r) => r.statusCode).join()}`);
  t.ok(Number(limited?.headers['retry-after']) >= 1, 'with Retry-After');
  const written = responses.filter((r) => r.statusCode === 200).length;
  t.equal((await versions(ctx.db, ctx.tenant.tenant, 'looped')).length, 20 * written, 'a limited write wrote nothing (a written one adds a version per label)');
});

t.test('a database that cannot be reached is a 503 with Retry-After, never a 500', async (t) => {
  const ctx = await buildLabelsApp(t);
  const port = await freePort();
  const away = createPool({ connectionString: `postgres://postgres@127.0.0.1:${port}/nowhere`, max: 1, applicationName: 'test' }, ctx.deps.logger);
  t.teardown(() => away.end());
  const error = await writeDeviceLabels({ ...ctx.deps, pool: away }, { tenantId: ctx.tenant.tenant, device: 'd', labels: { a: 'b' }, replace: true }).catch((e: unknown) => e);
  t.ok(error instanceof AppError);
  t.equal((error as AppError).status, 503);
  t.equal((error as AppError).headers?.['retry-after'], '1');
});

function post2(ctx: LabelsContext, device: string, labels: Record<string, string>) {
  return ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: { device, ts: Date.now(), values: { v: 1 }, labels } });
}

async function metricValue(ctx: LabelsContext, series: string): Promise<number> {
  const [name, label] = series.split('{') as [string, string];
  const line = (await ctx.deps.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label.slice(0, -1)));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}
