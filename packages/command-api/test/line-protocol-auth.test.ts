import t from 'tap';
import { issueApiKey } from '@strata/core';
import { buildTestApp, countStaged } from './build-test-app.ts';

/*
 * The key of a line-protocol request, wherever InfluxDB clients put it (decision 0072): Token, Bearer,
 * Basic auth password (any user) or `p=`; only the InfluxDB routes read those places.
 */

t.test('line-protocol keys', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const key = ctx.tenant.apiKey;
  const line = (device: string) => `m,host=${device} v=1 ${BigInt(Date.now() - 60_000) * 1_000_000n}`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const post = (url: string, headers: Record<string, string>, device = 'auth') =>
    ctx.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/plain', ...headers }, payload: line(device) });

  t.test('each of the four forms, on both write routes', async (t) => {
    for (const url of ['/api/v2/write?bucket=b&org=o', '/write?db=telegraf']) {
      const forms: [string, string, Record<string, string>][] = [
        ['Token', url, { authorization: `Token ${key}` }],
        ['token (any case)', url, { authorization: `token ${key}` }],
        ['Bearer', url, { authorization: `Bearer ${key}` }],
        ['Basic password, any user', url, { authorization: basic('telegraf', key) }],
        ['Basic password, empty user', url, { authorization: basic('', key) }],
        ['p=', `${url}&u=whoever&p=${encodeURIComponent(key)}`, {}],
      ];
      for (const [name, target, headers] of forms) {
        const response = await post(target, headers);
        t.equal(response.statusCode, 204, `${url}: ${name}`);
      }
    }
  });

  t.test('a wrong, missing or misplaced key is 401 in InfluxDB\'s shape', async (t) => {
    const v2 = '/api/v2/write?bucket=b';
    const wrong = await post(v2, { authorization: 'Token sk_not_a_real_key' });
    t.equal(wrong.statusCode, 401);
    t.same(wrong.json(), { code: 'unauthorized', message: 'invalid API key' });
    const missing = await post(v2, {});
    t.equal(missing.statusCode, 401);
    t.equal(missing.json().code, 'unauthorized');
    t.match(missing.json().message, /send it as Authorization: Token <key>.*Basic auth password.*p= parameter/, 'told where these routes read the key');
    const v1 = await post('/write?db=x&p=wrong', {});
    t.equal(v1.statusCode, 401);
    t.match(v1.json(), { error: /invalid API key/ });
    const userOnly = await post(v2, { authorization: basic(key, '') });
    t.equal(userOnly.statusCode, 401, 'Basic auth takes the password; the user name is ignored');
    const garbage = await post(v2, { authorization: 'Basic %%%not-base64' });
    t.equal(garbage.statusCode, 401);
    const scheme = await post(v2, { authorization: `Digest ${key}` });
    t.equal(scheme.statusCode, 401, 'an unknown scheme is not stripped off');
  });

  t.test('the Influx key forms are read only by the Influx routes', async (t) => {
    const event = JSON.stringify({ device: 'json', ts: Date.now(), values: { v: 1 } });
    for (const [name, url, headers] of [
      ['Token', '/v1/events', { authorization: `Token ${key}` }],
      ['Basic', '/v1/events', { authorization: basic('x', key) }],
      ['p=', `/v1/events?p=${encodeURIComponent(key)}`, {}],
    ] as [string, string, Record<string, string>][]) {
      const response = await ctx.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: event });
      t.equal(response.statusCode, 401, `/v1/events refuses ${name}`);
    }
  });

  t.test('a read-scoped key is 403; a key bound to a device writes only as that device', async (t) => {
    const before = await countStaged(ctx.db);
    const read = await issueApiKey(ctx.db, ctx.tenant.tenant, { scope: 'read' });
    const refused = await post('/api/v2/write?bucket=b', { authorization: `Token ${read?.apiKey}` });
    t.equal(refused.statusCode, 403);
    t.same(refused.json(), { code: 'forbidden', message: 'this key may not write' });
    const v1 = await post(`/write?db=x&p=${encodeURIComponent(read?.apiKey ?? '')}`, {});
    t.equal(v1.statusCode, 403);
    t.match(v1.json(), { error: 'this key may not write' });
    const query = await ctx.app.inject({ method: 'POST', url: '/query?q=CREATE+DATABASE+x', headers: { authorization: `Token ${read?.apiKey}` } });
    t.equal(query.statusCode, 403, 'nor CREATE DATABASE');

    const bound = await issueApiKey(ctx.db, ctx.tenant.tenant, { scope: 'write', device: 'meter-7' });
    const other = await post('/api/v2/write?bucket=b', { authorization: `Token ${bound?.apiKey}` }, 'meter-8');
    t.equal(other.statusCode, 403);
    t.equal(other.json().message, 'this key is bound to another device');
    t.equal(await countStaged(ctx.db), before, 'nothing stored by the refused requests');
    const own = await post('/api/v2/write?bucket=b', { authorization: `Token ${bound?.apiKey}` }, 'meter-7');
    t.equal(own.statusCode, 204);
  });
});
