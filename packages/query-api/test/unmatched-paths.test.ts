import t from 'tap';
import { buildTestApp, get, newTenant } from './helpers.ts';

// Issue 9 review: answers to paths no route serves, and to paths the router itself refuses.
const { app, deps } = await buildTestApp(t);
const { apiKey } = await newTenant(deps.pool);

t.test('an unmatched /v1 path needs a valid key before it is a 404 (no route enumeration)', async (t) => {
  for (const url of ['/v1/nope', '/v1/devices/dev/nope', '/v1/admin?access_token=x']) {
    const anonymous = await get(app, url, undefined);
    t.equal(anonymous.status, 401, `${url} without a key`);
    t.equal(anonymous.body.error.code, 'unauthorized');
    t.equal((await get(app, url, 'strata_bogus')).status, 401, `${url} with a bad key`);
    const known = await get(app, url, apiKey);
    t.equal(known.status, 404, `${url} with a key`);
    t.equal(known.body.error.code, 'not_found');
    t.notMatch(known.body.error.message, /access_token/, 'the query string is not repeated');
  }
  // An existing route and a missing one answer alike without a key.
  t.equal((await get(app, '/v1/devices', undefined)).status, 401);
  // Outside /v1 nothing is secret: the probes stay public.
  t.equal((await get(app, '/nope', undefined)).status, 404);
});

t.test('router refusals use our envelope and never repeat the path', async (t) => {
  const device = 'd'.repeat(2000);
  const long = await get(app, `/v1/devices/${device}`, apiKey);
  t.equal(long.status, 414);
  t.same(long.body.error.code, 'uri_too_long');
  t.notMatch(JSON.stringify(long.body), device.slice(0, 100), 'the path is not echoed');
  t.equal(long.body.code, undefined, "not Fastify's own format");

  for (const url of ['/v1/devices/%zz', '/v1/devices/a%E0%A4%A']) {
    const bad = await get(app, url, apiKey);
    t.equal(bad.status, 400, url);
    t.equal(bad.body.error.code, 'invalid_request');
    t.equal(bad.body.error.details?.[0]?.field, 'url');
    t.notMatch(JSON.stringify(bad.body), /%zz|%E0/i, 'the path is not echoed');
    t.equal(bad.body.code, undefined, "not Fastify's own format");
  }
});
