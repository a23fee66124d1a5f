import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { listRoutes, openapiPath } from '@strata/testkit';
import { buildTestApp } from './build-test-app.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, unknown> };
}
type Document = { openapi: string; info: { description: string }; paths: Record<string, Record<string, Operation>> };


t.test('/docs/json is a valid OpenAPI 3.1 document of every route, public; /docs is Swagger UI', async (t) => {
  const { app } = await buildTestApp(t);
  const answer = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(answer.statusCode, 200, 'no key needed');
  const doc = answer.json() as Document;
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  t.ok(result.valid, `valid: ${JSON.stringify(result.errors)}`);
  t.equal(validator.version, '3.1');
  t.equal(doc.openapi, '3.1.0');

  const routes = listRoutes(app).filter((route) => !route.url.startsWith('/docs'));
  t.ok(routes.length >= 8, `${routes.length} routes found`);
  for (const route of routes) {
    for (const method of route.methods.filter((name) => name !== 'HEAD')) {
      const operation = doc.paths[openapiPath(route.url)]?.[method.toLowerCase()];
      if (!t.ok(operation, `${method} ${route.url} is documented`) || !operation) continue;
      const statuses = Object.keys(operation.responses);
      t.ok(statuses.some((status) => status.startsWith('2')), `${method} ${route.url} has a success response`);
      t.ok(statuses.some((status) => /^[45]/.test(status)), `${method} ${route.url} has error responses`);
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        t.ok(operation.responses[status]?.content?.['application/json']?.schema, `${method} ${route.url} ${status} has a schema`);
      }
      t.ok(Array.isArray(operation.security), `${method} ${route.url} says what key it takes`);
    }
  }
  t.same(doc.paths['/v1/events']?.post?.security, [{ bearer: [] }]);
  t.same(doc.paths['/ping']?.get?.security, [], 'ping is public, as in InfluxDB');
  t.same(doc.paths['/write']?.post?.security, [{ influxToken: [] }, { bearer: [] }, { influxBasic: [] }, { influxQueryKey: [] }], 'Token, Bearer, Basic or p=');
  t.same(Object.keys(doc.paths['/v1/events']?.post?.requestBody?.content ?? {}), ['application/json', 'application/x-ndjson']);
  t.same(Object.keys(doc.paths['/api/v2/write']?.post?.responses ?? {}), ['204', '400', '401', '403', '413', '415', '429', '500', '503']);
  t.match(doc.info.description, /v1\/devices\/<device>\/telemetry/, 'the MQTT topic is described');

  const ui = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /^text\/html/);
  t.match(ui.body, /swagger-ui/);
  const asset = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  t.equal(asset.statusCode, 200, 'its assets need no key either');
});

t.test('the response schemas keep every field the routes send', async (t) => {
  const { app, tenant } = await buildTestApp(t, { maxBodyBytes: 4096 });
  const headers = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' };
  const ts = new Date().toISOString();
  const bad = await app.inject({ method: 'POST', url: '/v1/events', headers, payload: JSON.stringify({ events: [{ device: 'a', ts, values: {} }, { device: 'b c', ts: 'x' }] }) });
  t.equal(bad.statusCode, 400);
  t.same(
    bad.json(),
    {
      error: {
        code: 'invalid_events',
        message: '1 of 2 events are invalid; nothing was stored',
        details: [
          { index: 1, field: 'device', reason: 'must be 1-128 characters of [A-Za-z0-9._:-]' },
          { index: 1, field: 'ts', reason: 'must be an RFC 3339 date-time with offset, or Unix seconds/milliseconds' },
        ],
      },
    },
    'every detail with every field, as before the schemas',
  );
  const lines = await app.inject({ method: 'POST', url: '/api/v2/write', headers: { authorization: `Token ${tenant.apiKey}` }, payload: 'm,device=a\\ b v=1\nm v=' });
  t.equal(lines.statusCode, 400);
  const body = lines.json() as { code: string; line: number; errors: Array<Record<string, unknown>> };
  t.same(Object.keys(body), ['code', 'message', 'line', 'errors']);
  t.same(Object.keys(body.errors[0] ?? {}).sort(), ['field', 'line', 'reason']);
  t.equal(body.errors.length, 2);
  const v1 = await app.inject({ method: 'POST', url: `/write?p=${tenant.apiKey}`, payload: 'x'.repeat(5000) });
  t.same(v1.json(), { error: 'the body is larger than MAX_BODY_BYTES' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.same(ready.json(), { status: 'ok', checks: { postgres: 'ok', redis: 'ok', queueRedisPolicy: 'ok' } });
});
