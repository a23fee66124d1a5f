import t from 'tap';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueApiKey } from '@strata/core';
import { createTenant, rawHttpStatus, runOpsCli, seedEvents } from '@strata/testkit';
import { buildTestApp, get } from './helpers.ts';

const { app, deps, config, port } = await buildTestApp(t);
await deps.authenticator.ready;
const tenant = await createTenant(deps.pool, 'reader');
const now = Date.now();
await seedEvents(deps.pool, [
  { tenantId: tenant.tenant, device: 'pump-1', ts: now - 60_000, values: { v: 1 } },
  { tenantId: tenant.tenant, device: 'pump-2', ts: now - 60_000, values: { v: 2 } },
]);
const from = new Date(now - 3_600_000).toISOString();
const to = new Date(now).toISOString();

/** Every /v1 route, with parameters that make a valid request for an all-scope key. */
const ROUTES = [
  '/v1/devices/pump-1',
  '/v1/devices',
  '/v1/devices/pump-1/events',
  `/v1/devices/pump-1/series?value=v&from=${from}&to=${to}&interval=1m`,
  `/v1/devices/pump-1/state?at=${to}`,
  `/v1/stats?from=${from}&to=${to}`,
  '/v1/stream?device=pump-1',
];
/** The same paths in forms a raw-URL check would miss: the router decodes them. */
const disguises = (path: string): string[] => [
  path,
  path.replace('/v1/', '/%76%31/'),
  path.replace('/v1/', '/v%31/'),
  path.replace('/v1/devices', '/v1/%64evices'),
  `http://h${path}`,
  `http://h${path.replace('/v1/', '/%76%31/')}`,
];

/** Status of a GET; a stream's 200 is read from the head and the connection dropped. */
async function status(path: string, key?: string): Promise<number> {
  return rawHttpStatus(port, `GET ${path} HTTP/1.1`, key === undefined ? {} : { authorization: `Bearer ${key}` });
}

t.test('every route, in every disguise, answers 401 without a key and 200 with one', async (t) => {
  for (const route of ROUTES) {
    for (const target of disguises(route)) t.equal(await status(target), 401, `GET ${target}`);
    // Fastify answers HEAD from the GET route; the declaration must hold there too.
    t.equal(await rawHttpStatus(port, `HEAD ${route.replace('/v1/', '/%76%31/')} HTTP/1.1`), 401, `HEAD ${route}`);
    t.equal(await status(route, `sk_${randomBytes(32).toString('base64url')}`), 401, `${route} with an unknown key`);
    t.equal(await status(route, tenant.apiKey), 200, `${route} with the tenant's key`);
  }
  t.equal(await status('/livez'), 200, 'probes stay public');
  t.equal(await status('/%72eadyz'), 200);
  t.equal(await status('/metrics'), 200);
});

t.test('a junk key costs no query, and access_token works on the stream only', async (t) => {
  let queries = 0;
  const query = deps.pool.query.bind(deps.pool) as (...args: unknown[]) => unknown;
  const pool = deps.pool as unknown as { query: (...args: unknown[]) => unknown };
  pool.query = (...args: unknown[]) => {
    queries += 1;
    return query(...args);
  };
  t.teardown(() => {
    pool.query = query;
  });
  // Through inject: over a socket, Node itself answers 431 to a 16 KB header before Fastify sees it.
  t.equal((await get(app, '/v1/devices/pump-1', 'x'.repeat(16 * 1024))).status, 401);
  t.equal((await get(app, '/v1/devices/pump-1', `sk_${'A'.repeat(16 * 1024)}`)).status, 401);
  t.equal(queries, 0, 'no statement for a malformed key');
  t.equal(await status(`/v1/stream?device=pump-1&access_token=${tenant.apiKey}`), 200);
  t.equal(await status(`/%76%31/stream?device=pump-1&access_token=${tenant.apiKey}`), 200, 'decided by the matched route');
  t.equal(await status(`/v1/devices/pump-1?access_token=${tenant.apiKey}`), 401, 'not a way in elsewhere');
});

t.test('scopes: a write key cannot read; a device-bound key reads only its device', async (t) => {
  const write = await issueApiKey(deps.pool, tenant.tenant, { scope: 'write' });
  const read = await issueApiKey(deps.pool, tenant.tenant, { scope: 'read' });
  const bound = await issueApiKey(deps.pool, tenant.tenant, { scope: 'read', device: 'pump-1' });
  for (const route of ROUTES) {
    t.equal(await status(route, write?.apiKey), 403, `write key on ${route}`);
    t.equal(await status(route, read?.apiKey), 200, `read key on ${route}`);
    t.equal(await status(route, bound?.apiKey), route === '/v1/devices' || route.startsWith('/v1/stats') ? 403 : 200, `bound key on ${route}`);
  }
  const refused = await get(app, '/v1/devices/pump-2', bound?.apiKey);
  t.equal(refused.status, 403, 'another device');
  t.equal(refused.body.error.code, 'forbidden');
  t.notMatch(JSON.stringify(refused.body), /pump-1/, 'the bound device is not named');
  t.equal(await status('/v1/devices/pump-2/events', bound?.apiKey), 403);
  t.equal(await status('/v1/stream', bound?.apiKey), 403, 'a tenant-wide stream');
  t.equal(await status('/v1/stream?device=pump-2', bound?.apiKey), 403);
});

t.test('ops key revoke refuses the key within a second and ends its open stream', async (t) => {
  const issued = await issueApiKey(deps.pool, tenant.tenant, { scope: 'read' });
  const key = issued?.apiKey as string;
  t.equal((await get(app, '/v1/devices/pump-1', key)).status, 200, 'cached');
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const stream = await fetch(`http://127.0.0.1:${port}/v1/stream?device=pump-1`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  t.equal(stream.status, 200);
  const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  const ended = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // A dropped connection is an ended stream too.
    }
    return Date.now();
  })();

  const io = { out: '', err: '' };
  const revokedAt = Date.now();
  const code = await runOpsCli(['key', 'revoke', issued?.keyId as string], config, {
    stdout: { write: (chunk: string) => (io.out += chunk) },
    stderr: { write: (chunk: string) => (io.err += chunk) },
  });
  t.equal(code, 0, io.err);
  let answer = 0;
  while (Date.now() - revokedAt < 1000) {
    answer = (await get(app, '/v1/devices/pump-1', key)).status;
    if (answer === 401) break;
    await sleep(20);
  }
  t.equal(answer, 401, `refused within 1 s (${Date.now() - revokedAt} ms)`);
  const endedAt = await Promise.race([ended, sleep(2000).then(() => Number.POSITIVE_INFINITY)]);
  t.ok(endedAt - revokedAt < 1000, `the open stream ended within 1 s (${endedAt - revokedAt} ms)`);
  t.equal((await get(app, '/v1/devices/pump-1', tenant.apiKey)).status, 200, "the tenant's other keys still work");
});
