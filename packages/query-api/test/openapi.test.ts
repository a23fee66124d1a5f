import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { listRoutes, openapiPath, seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };



t.test('/docs/json is a valid OpenAPI 3.1 document of every route; /docs is Swagger UI', async (t) => {
  const { app } = await buildTestApp(t);
  const answer = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(answer.statusCode, 200, 'no key needed');
  const doc = answer.json() as Document;
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  t.ok(result.valid, `valid: ${JSON.stringify(result.errors)}`);
  t.equal(validator.version, '3.1');

  const routes = listRoutes(app).filter((route) => !route.url.startsWith('/docs'));
  t.ok(routes.some((route) => route.url === '/v1/devices/:device/series'), `${routes.length} routes found`);
  for (const route of routes) {
    for (const method of route.methods.filter((name) => name !== 'HEAD')) {
      const name = `${method} ${route.url}`;
      const operation = doc.paths[openapiPath(route.url)]?.[method.toLowerCase()];
      if (!t.ok(operation, `${name} is documented`) || !operation) continue;
      const statuses = Object.keys(operation.responses);
      t.ok(statuses.some((status) => status.startsWith('2')), `${name} has a success response`);
      t.ok(statuses.some((status) => /^[45]/.test(status)), `${name} has error responses`);
      for (const status of statuses) t.ok(operation.responses[status]?.content, `${name} ${status} has a body schema`);
      if (route.url.startsWith('/v1/')) {
        t.match(operation.security, [{ bearer: [] }], `${name} takes a bearer key`);
        t.ok(statuses.includes('401') && statuses.includes('429'), `${name} documents 401 and 429`);
      } else {
        t.same(operation.security, [], `${name} is public`);
      }
    }
  }
  const latest = doc.paths['/v1/devices/{device}']?.get;
  t.ok(latest?.responses['200']?.headers?.['x-read-source'], 'reads document their X-Read-* headers');
  t.ok(latest?.responses['404'], 'a missing device is a documented 404');
  t.same(doc.paths['/v1/stream']?.get?.security, [{ bearer: [] }, { accessToken: [] }], 'the stream also takes access_token');
  const listParameters = doc.paths['/v1/devices']?.get?.parameters?.map((parameter) => parameter.name) ?? [];
  t.ok(listParameters.includes('label') && listParameters.includes('x-consistency'), 'query parameters and headers are documented');

  const ui = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /^text\/html/);
  t.match(ui.body, /swagger-ui/);
});

t.test('the docs are outside the tenant scope: no rate limit, no read counted', async (t) => {
  const { app, deps } = await buildTestApp(t, { readRateLimitPerSecond: 1 });
  const { apiKey } = await newTenant(deps.pool);
  const reads = async (): Promise<string> => (await app.inject({ url: '/metrics' })).body.split('\n').filter((line) => line.startsWith('strata_query_reads_total')).join('\n');
  const before = await reads();
  for (let i = 0; i < 3; i++) {
    const docs = await app.inject({ url: '/docs/json', headers: { authorization: `Bearer ${apiKey}` } });
    t.equal(docs.statusCode, 200, 'never 429, key or not');
  }
  t.equal((await get(app, '/v1/devices', apiKey)).status, 200, "the tenant's one read a second is still there");
  t.equal((await get(app, '/v1/devices', apiKey)).status, 429, 'and the limit is on');
  const after = await reads();
  t.not(after, before, 'the read was counted');
  t.notMatch(after, /consistency="eventual"} 2/, 'the docs were not');
});

t.test('the response schemas keep every field the routes send', async (t) => {
  const { app, deps } = await buildTestApp(t, { retentionDays: 36500 });
  const { tenant, apiKey } = await newTenant(deps.pool);
  const T0 = Date.UTC(2026, 10, 20, 12);
  const odd = Object.assign(Object.create(null) as Record<string, unknown>, JSON.parse('{"__proto__": 1}') as object, { constructor: 'c', 'a b,c="é"': true, nul: null, big: 1e300 });
  await seedEvents(deps.pool, [
    { tenantId: tenant, device: 'band', ts: T0, key: 'i:one', values: { temp: 36.5 } },
    { tenantId: tenant, device: 'band', ts: T0 + 60_000, type: 'alarm', values: odd as Record<string, number> },
  ]);
  const meta = { source: 'primary', consistency: 'eventual', lagMs: 0 };
  const latest = await get(app, '/v1/devices/band', apiKey);
  t.same(Object.keys(latest.body.values).sort(), ['__proto__', 'a b,c="é"', 'big', 'constructor', 'nul', 'temp'], 'every value key, __proto__ too');
  t.same({ ...latest.body, updatedAt: 'u', labels: undefined }, { device: 'band', ts: new Date(T0 + 60_000).toISOString(), values: latest.body.values, updatedAt: 'u', meta, labels: undefined });
  t.equal(latest.body.values.big, 1e300);
  const list = await get(app, '/v1/devices', apiKey);
  t.same(list.body.items.map((item: { values: object }) => Object.keys(item.values).length), [6]);
  t.equal(list.body.nextCursor, null);
  const events = await get(app, '/v1/devices/band/events', apiKey);
  t.same(events.body.items.map((item: { type: string; id?: string }) => [item.type, item.id]), [['alarm', undefined], ['reading', 'one']], 'ids are kept');
  const range = `from=${new Date(T0 - 3_600_000).toISOString()}&to=${new Date(T0 + 3_600_000).toISOString()}`;
  const series = await get(app, `/v1/devices/band/series?value=temp&agg=max,count,avg&${range}`, apiKey);
  t.same(series.body.buckets, [{ ts: new Date(T0).toISOString(), max: 36.5, count: 1, avg: 36.5 }]);
  t.same(Object.keys(series.body.buckets[0]), ['ts', 'max', 'count', 'avg'], 'aggregates in the order asked');
  t.same(series.body, { device: 'band', value: 'temp', interval: '1m', buckets: series.body.buckets, meta });
  const stats = await get(app, `/v1/stats?type=alarm&${range}`, apiKey);
  t.same(stats.body, { interval: '1h', type: 'alarm', buckets: [{ ts: new Date(T0).toISOString(), counts: { alarm: 1 } }], meta });
  const state = await get(app, `/v1/devices/band/state?at=${T0 + 1000}`, apiKey);
  t.same(state.body, { device: 'band', at: new Date(T0 + 1000).toISOString(), ts: new Date(T0).toISOString(), values: { temp: 36.5 }, meta });
  const bad = await get(app, '/v1/devices?limit=0', apiKey);
  t.same(bad.body, { error: { code: 'invalid_request', message: 'invalid limit', details: [{ field: 'limit', reason: 'must be an integer from 1 to 1000' }] } });
  const replicas = await app.inject({ url: '/replicas' });
  t.same(Object.keys(replicas.json()), ['replicas', 'cache', 'maxStalenessMs']);
});

t.test('?label= on the device list is name:value, split at the first colon; anything else is a 400 naming label', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  for (const bad of ['team', ':red', 'team:', '', `${'n'.repeat(129)}:red`, `team:${'v'.repeat(129)}`, 'te%00am:red', 'team:a%00']) {
    const answer = await get(app, `/v1/devices?label=${bad}`, apiKey);
    t.equal(answer.status, 400, `label=${bad.slice(0, 20)} is refused`);
    t.equal(answer.body.error.details?.[0]?.field, 'label', 'naming label');
  }
  t.equal((await get(app, '/v1/devices?label=team:red', apiKey)).status, 200);
  t.equal((await get(app, `/v1/devices?label=${encodeURIComponent('zone:a:b c, é')}`, apiKey)).status, 200, 'a value may hold colons, spaces and any Unicode');
});
