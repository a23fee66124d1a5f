import t from 'tap';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { createPool, issueApiKey, type Config, type Pool } from '@strata/core';
import { captureIo, createTenant, createTestEnvironment, rawHttpStatus, runOpsCli, type Teardownable } from '@strata/testkit';
import { closeCommandDeps, createCommandDeps, type CommandDeps } from '../src/deps.ts';
import { startCommandApi } from '../src/service.ts';

interface Instance {
  app: FastifyInstance;
  deps: CommandDeps;
  /** Calls of the group committer: a request that reaches the handler with a tenant ends up here. */
  submitted: string[];
  /** Statements sent through the app's own (real) pool. */
  queries: () => number;
}

async function startInstance(t: Teardownable, config: Config): Promise<Instance> {
  const deps = createCommandDeps(config);
  const submitted: string[] = [];
  const submit = deps.committer.submit.bind(deps.committer);
  deps.committer.submit = (tenantId, events, bytes) => {
    submitted.push(tenantId);
    return submit(tenantId, events, bytes);
  };
  let count = 0;
  const query = deps.pool.query.bind(deps.pool) as (...args: unknown[]) => unknown;
  (deps.pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    count += 1;
    return query(...args);
  };
  const { app, stop } = await startCommandApi(deps);
  t.teardown(async () => {
    await stop();
    await closeCommandDeps(deps);
  });
  await deps.authenticator.ready;
  return { app, deps, submitted, queries: () => count };
}

const { config, logger } = await createTestEnvironment(t, { ingestMaxWaitMs: 1 });
const db: Pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'auth-test' }, logger);
t.teardown(() => db.end());
const tenant = await createTenant(db, 'auth tenant');
const body = (device = 'pump-1') => JSON.stringify({ device, ts: new Date().toISOString(), values: { v: 1 } });
const post = (app: FastifyInstance, key: string | undefined, payload = body(), extra: Record<string, unknown> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    payload,
    ...extra,
  });

t.test('encoded and absolute-form paths without a key get 401, never reach the handler, never fail another tenant', async (t) => {
  const one = await startInstance(t, config);
  const port = (one.app.server.address() as { port: number }).port;
  const targets = ['/v1/events', '/%76%31/events', '/v%31/events', '/%76%31/%65vents', '/v1/events?x=1', 'http://h/v1/events', 'http://h/%76%31/events'];
  for (const target of targets) {
    // A valid tenant's request in the same group-commit window as the keyless one.
    const [keyless, valid] = await Promise.all([
      rawHttpStatus(port, `POST ${target} HTTP/1.1`, { 'content-type': 'application/json' }, body()),
      post(one.app, tenant.apiKey),
    ]);
    t.equal(keyless, 401, `POST ${target}`);
    t.equal(valid.statusCode, 202, `the other tenant's request beside POST ${target}`);
  }
  t.same(new Set(one.submitted), new Set([tenant.tenant]), 'only the keyed requests reached the handler');
  t.equal(await rawHttpStatus(port, 'GET /livez HTTP/1.1'), 200, 'probes are public');
  t.equal(await rawHttpStatus(port, 'GET /%6civez HTTP/1.1'), 200, 'also encoded');
  t.equal(await rawHttpStatus(port, 'GET /nowhere HTTP/1.1'), 401, 'an unknown path needs a key before it learns the 404');
  t.equal(await rawHttpStatus(port, 'GET /nowhere HTTP/1.1', { authorization: `Bearer ${tenant.apiKey}` }), 404);
});

t.test('a key of the wrong shape is refused before any lookup: 16 KB of junk makes no query', async (t) => {
  const one = await startInstance(t, config);
  const before = one.queries();
  for (const junk of ['x'.repeat(16 * 1024), `sk_${'A'.repeat(16 * 1024)}`, 'sk_short', `${tenant.apiKey}x`, '']) {
    const response = await post(one.app, junk);
    t.equal(response.statusCode, 401);
    t.equal(response.json().error.code, 'unauthorized');
  }
  t.equal(one.queries(), before, 'no statement was sent for malformed keys');
  t.equal((await post(one.app, `sk_${randomBytes(32).toString('base64url')}`)).statusCode, 401, 'a well-formed unknown key');
  t.equal(one.queries(), before + 1, 'costs exactly one lookup');
  t.equal((await post(one.app, tenant.apiKey)).statusCode, 202);
});

t.test('a spray of 20,000 random well-formed keys does not evict a real key', async (t) => {
  const one = await startInstance(t, config);
  t.equal((await post(one.app, tenant.apiKey)).statusCode, 202, 'the real key is cached');
  const keys = Array.from({ length: 20_000 }, () => `sk_${randomBytes(32).toString('base64url')}`);
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        await one.deps.authenticator.authenticate(`Bearer ${key}`, '198.51.100.9').catch(() => (refused += 1));
      }
    }),
  );
  t.equal(refused, keys.length);
  const before = one.queries();
  t.match(await one.deps.authenticator.authenticate(`Bearer ${tenant.apiKey}`, '203.0.113.1'), { tenantId: tenant.tenant });
  t.equal(one.queries(), before, 'the real key is still answered from the cache');
});

t.test('failed authentications are limited per client address; other addresses are not', async (t) => {
  const one = await startInstance(t, { ...config, authFailuresPerMinute: 5 });
  const attacker = '198.51.100.7';
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    statuses.push((await post(one.app, `sk_${randomBytes(32).toString('base64url')}`, body(), { remoteAddress: attacker })).statusCode);
  }
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429]);
  const limited = await post(one.app, 'junk', body(), { remoteAddress: attacker });
  t.equal(limited.statusCode, 429, 'junk too, once over the limit');
  t.ok(Number(limited.headers['retry-after']) >= 1);
  const before = one.queries();
  const other = await issueApiKey(db, tenant.tenant, { scope: 'write' });
  t.equal((await post(one.app, other?.apiKey, body(), { remoteAddress: '203.0.113.50' })).statusCode, 202, 'a correct key from another address');
  t.ok(one.queries() > before, 'that key was looked up, not refused by the limit');
});

t.test('a keyless client spraying bad keys never locks valid keys out of its address (limit on failures only)', async (t) => {
  const one = await startInstance(t, { ...config, authFailuresPerMinute: 60 });
  const shared = '198.51.100.61';
  for (let i = 0; i < 61; i++) await post(one.app, `sk_${randomBytes(32).toString('base64url')}`, body(), { remoteAddress: shared });
  const unknown = await post(one.app, `sk_${randomBytes(32).toString('base64url')}`, body(), { remoteAddress: shared });
  t.equal(unknown.statusCode, 429, 'an unknown key from the address past its limit gets 429');
  t.equal((await post(one.app, 'junk', body(), { remoteAddress: shared })).statusCode, 429, 'a malformed key too');
  const fresh = await issueApiKey(db, tenant.tenant, { scope: 'write' });
  t.equal((await post(one.app, fresh?.apiKey, body(), { remoteAddress: shared })).statusCode, 202, 'a fresh (uncached) valid key from the same address is accepted');
  t.equal((await post(one.app, fresh?.apiKey, body(), { remoteAddress: shared })).statusCode, 202, 'and again from the cache');
});

t.test('TRUST_PROXY: X-Forwarded-For decides the bucket only when the peer is a trusted proxy', async (t) => {
  const one = await startInstance(t, { ...config, authFailuresPerMinute: 3, trustProxy: ['10.0.0.0/8'] });
  const bad = () => `sk_${randomBytes(32).toString('base64url')}`;
  const viaProxy = (client: string) => ({ remoteAddress: '10.1.2.3', headers: { 'content-type': 'application/json', authorization: `Bearer ${bad()}`, 'x-forwarded-for': client } });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await one.app.inject({ method: 'POST', url: '/v1/events', payload: body(), ...viaProxy('203.0.113.77') })).statusCode);
  t.same(statuses, [401, 401, 401, 429], 'the forwarded client is limited');
  const other = await one.app.inject({ method: 'POST', url: '/v1/events', payload: body(), ...viaProxy('203.0.113.78') });
  t.equal(other.statusCode, 401, 'another client behind the same proxy has its own bucket');

  // From an untrusted peer the header is ignored: rotating it does not escape the peer's bucket.
  const direct: number[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await one.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: body(),
      remoteAddress: '192.0.2.44',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bad()}`, 'x-forwarded-for': `203.0.113.${100 + i}` },
    });
    direct.push(response.statusCode);
  }
  t.same(direct, [401, 401, 401, 429], 'an untrusted peer is counted by its own address');

  const plain = await startInstance(t, { ...config, authFailuresPerMinute: 3 });
  const untrusted: number[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await plain.app.inject({ method: 'POST', url: '/v1/events', payload: body(), ...viaProxy(`203.0.113.${150 + i}`) });
    untrusted.push(response.statusCode);
  }
  t.same(untrusted, [401, 401, 401, 429], 'with TRUST_PROXY empty (the default) no proxy is trusted');
});

t.test('scopes: a read key cannot write; a device-bound key writes only as its device', async (t) => {
  const one = await startInstance(t, config);
  const read = await issueApiKey(db, tenant.tenant, { scope: 'read' });
  const write = await issueApiKey(db, tenant.tenant, { scope: 'write' });
  const bound = await issueApiKey(db, tenant.tenant, { scope: 'write', device: 'pump-1' });
  const refused = await post(one.app, read?.apiKey);
  t.equal(refused.statusCode, 403);
  t.equal(refused.json().error.code, 'forbidden');
  t.equal((await post(one.app, write?.apiKey)).statusCode, 202);
  t.equal((await post(one.app, bound?.apiKey, body('pump-1'))).statusCode, 202, 'as its own device');
  const other = await post(one.app, bound?.apiKey, body('pump-2'));
  t.equal(other.statusCode, 403, 'as another device');
  t.notMatch(other.body, /pump-1/, 'the bound device is not named');
  const mixed = JSON.stringify({ events: [JSON.parse(body('pump-1')), JSON.parse(body('pump-2'))] });
  t.equal((await post(one.app, bound?.apiKey, mixed)).statusCode, 403, 'one foreign device in a batch refuses the batch');
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM staging_events WHERE device = 'pump-2'");
  t.equal(rows[0]?.n, 0, 'nothing was stored as the other device');
});

t.test('ops key revoke is effective within a second on every process', async (t) => {
  const [one, two] = [await startInstance(t, config), await startInstance(t, config)];
  const issued = await issueApiKey(db, tenant.tenant, { scope: 'all' });
  const key = issued?.apiKey as string;
  t.equal((await post(one.app, key)).statusCode, 202, 'cached on instance one');
  t.equal((await post(two.app, key)).statusCode, 202, 'cached on instance two');

  const listIo = captureIo();
  t.equal(await runOpsCli(['key', 'list', tenant.tenant], config, listIo), 0);
  const listed = listIo.out().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const entry = listed.find((row) => row.keyId === issued?.keyId);
  t.match(entry, { scope: 'all', device: null, revokedAt: null });
  t.ok(entry?.lastUsedAt, 'last use is recorded');
  t.notMatch(listIo.out(), /sk_/, 'no secrets listed');

  const revokeIo = captureIo();
  const revokedAt = Date.now();
  t.equal(await runOpsCli(['key', 'revoke', issued?.keyId as string], config, revokeIo), 0, revokeIo.err());
  t.ok((JSON.parse(revokeIo.out()) as { processesNotified: number }).processesNotified >= 2, 'both processes heard it');
  for (const instance of [one, two]) {
    let status = 0;
    while (Date.now() - revokedAt < 1000) {
      status = (await post(instance.app, key)).statusCode;
      if (status === 401) break;
      await sleep(20);
    }
    t.equal(status, 401, `refused within 1 s (after ${Date.now() - revokedAt} ms)`);
  }
  t.equal((await post(one.app, tenant.apiKey)).statusCode, 202, 'the tenant\'s other keys still work');
  const listedAfter = captureIo();
  await runOpsCli(['key', 'list', tenant.tenant], config, listedAfter);
  t.match(listedAfter.out(), new RegExp(`"keyId":"${issued?.keyId}".*"revokedAt":"\\d{4}-`));
  const unknown = captureIo();
  t.equal(await runOpsCli(['key', 'revoke', '6f1c1a52-1111-4a4a-9b9b-000000000000'], config, unknown), 1);
  t.match(unknown.err(), /no key/);
});

t.test('ops tenant key --scope --device prints the key and refuses bad options', async (t) => {
  const io = captureIo();
  t.equal(await runOpsCli(['tenant', 'key', tenant.tenant, '--scope', 'write', '--device', 'pump-9'], config, io), 0, io.err());
  const issued = JSON.parse(io.out()) as Record<string, unknown>;
  t.same(Object.keys(issued), ['keyId', 'apiKey', 'scope', 'device']);
  t.match(issued, { scope: 'write', device: 'pump-9' });
  for (const bad of [['--scope', 'admin'], ['--device', 'a b'], ['--scope']]) {
    const badIo = captureIo();
    t.equal(await runOpsCli(['tenant', 'key', tenant.tenant, ...bad], config, badIo), 2, bad.join(' '));
    t.equal(badIo.out(), '');
  }
});
