import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { redisKeys, type Redis } from '@strata/core';
import { createTestEnvironment, seedCache } from '@strata/testkit';
import { newTenant, startTestService } from './helpers.ts';

/*
 * Decision 0087: the projector logs and publishes a tenant's live updates only while its watch key
 * exists. query-api sets the key before a stream answers, renews it while the tenant has a client,
 * and lets it outlive the last client by LIVE_RESUME_SECONDS, so a client that comes back within
 * them is replayed everything it missed; after that nothing is logged until a client comes again.
 * The updates here are written by the projector's own script (seedCache), so its check is the real one.
 */

/** A raw SSE request on its own socket; resolves once the response head has arrived. */
async function openStream(port: number, apiKey: string, lastEventId?: string): Promise<{ socket: Socket; text: () => string }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => {});
  const resume = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : '';
  socket.write(`GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\n${resume}\r\n`);
  for (let i = 0; i < 500 && !text.includes('\r\n\r\n'); i++) await sleep(10);
  if (!text.startsWith('HTTP/1.1 200')) throw new Error(`stream refused: ${text}`);
  return { socket, text: () => text };
}

/** Milliseconds the tenant stays watched (the mark's deadline less Redis's clock); <= 0 when it is not. */
async function watchedFor(cache: Redis, key: string): Promise<number> {
  const [[, mark], [, time]] = (await cache.multi().get(key).time().exec()) as [[null, string | null], [null, [string, string]]];
  return Number(mark ?? 0) - (Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000));
}

/** The `data` of every update the client has received so far. */
function updates(text: string): { id: string; values: { n: number } }[] {
  return [...text.matchAll(/^id: (.+)\nevent: update\ndata: (.+)$/gm)].map((m) => ({ id: m[1] as string, ...(JSON.parse(m[2] as string) as { values: { n: number } }) }));
}

t.test('a stream marks its tenant watched before it answers; the mark outlives the last client by LIVE_RESUME_SECONDS', async (t) => {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0, liveResumeSeconds: 5 });
  const { deps, port } = await startTestService(t, config, { liveHeartbeatMs: 60_000 });
  await deps.live.hub.ready;
  const { tenant, apiKey } = await newTenant(deps.pool, 'watched');
  const other = await newTenant(deps.pool, 'unwatched');
  const watchKey = redisKeys.liveWatch(config.redisPrefix, tenant);
  const stream = redisKeys.liveStream(config.redisPrefix, tenant);
  let n = 0;
  const project = async (forTenant = tenant): Promise<void> => {
    n++;
    const at = new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString();
    await seedCache(deps.cache, config.redisPrefix, [{ tenantId: forTenant, device: 'door', ts: at, values: { n }, updatedAt: at, version: n, live: true }]);
  };

  await project();
  t.ok((await watchedFor(deps.cache, watchKey)) <= 0, 'no client yet: not watched');
  t.equal(await deps.cache.xlen(stream), 0, 'no client yet: nothing logged');

  const first = await openStream(port, apiKey);
  const left = await watchedFor(deps.cache, watchKey);
  t.ok(left > 4000 && left <= 5000, `watched as soon as the stream answered (for ${left} ms)`);
  t.equal(await deps.cache.ttl(watchKey), -1, 'the mark has no TTL (no volatile-* policy evicts it)');
  await project();
  for (let i = 0; i < 200 && updates(first.text()).length < 1; i++) await sleep(10);
  t.same(updates(first.text()).map((u) => u.values.n), [2], 'the first update after the answer arrives');

  // Renewed while the client stays (every third of the window), so the mark never lapses under it.
  await sleep(6000);
  t.ok((await watchedFor(deps.cache, watchKey)) > 2000, 'renewed while the tenant has a client');
  await project();
  for (let i = 0; i < 200 && updates(first.text()).length < 2; i++) await sleep(10);
  t.same(updates(first.text()).map((u) => u.values.n), [2, 3]);
  await project(other.tenant);
  t.equal(await deps.cache.xlen(redisKeys.liveStream(config.redisPrefix, other.tenant)), 0, 'another tenant stays unwatched');

  // The client drops; updates go on being logged inside the window, and a reconnect is replayed them.
  const lastId = updates(first.text()).at(-1)?.id as string;
  first.socket.destroy();
  for (let i = 0; i < 200 && deps.live.hub.clients > 0; i++) await sleep(10);
  await project();
  await project();
  const back = await openStream(port, apiKey, lastId);
  for (let i = 0; i < 200 && updates(back.text()).length < 2; i++) await sleep(10);
  t.same(updates(back.text()).map((u) => u.values.n), [5, 6], 'a client back within the window misses nothing');
  back.socket.destroy();
  for (let i = 0; i < 200 && deps.live.hub.clients > 0; i++) await sleep(10);

  // Past the window with no client, nothing is logged any more.
  const logged = await deps.cache.xlen(stream);
  t.ok((await watchedFor(deps.cache, watchKey)) > 4000, 'the window counts from the last client leaving');
  await sleep(5500);
  t.ok((await watchedFor(deps.cache, watchKey)) <= 0, 'the mark has lapsed');
  await project();
  t.equal(await deps.cache.xlen(stream), logged, 'past the window: nothing logged');
});

t.test('a stream ended while its tenant is being marked (key revoked, shutdown) never answers 200', async (t) => {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0 });
  const { deps, port, app } = await startTestService(t, config, { liveHeartbeatMs: 60_000 });
  await deps.live.hub.ready;
  const { tenant, apiKey } = await newTenant(deps.pool, 'racer');
  // The mark's round trip, made slow, with something ending every client while it is under way.
  const hub = deps.live.hub;
  const mark = hub.watch.bind(hub);
  let during: (() => void) | undefined;
  hub.watch = async (tenantId: string) => {
    await sleep(150);
    during?.();
    return mark(tenantId);
  };
  const status = async (): Promise<string> => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.write(`GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`);
    for (let i = 0; i < 300 && !text.includes('\r\n\r\n'); i++) await sleep(10);
    socket.destroy();
    return text.split('\r\n')[0] ?? '';
  };

  // Its key revoked while the stream is being marked (what a revocation does to open streams).
  const keys = await deps.pool.query<{ id: string }>('SELECT id FROM api_keys WHERE tenant_id = $1', [tenant]);
  during = () => {
    t.equal(hub.endKey(keys.rows[0]?.id as string, 'key revoked'), 1, 'the stream being marked is ended');
  };
  t.equal(await status(), 'HTTP/1.1 503 Service Unavailable', 'ended while being marked: 503, not a stream');
  t.equal(hub.clients, 0, 'and not left registered');

  during = undefined;
  t.equal(await status(), 'HTTP/1.1 200 OK', 'the same request without the ending: a stream');

  // Shutdown while a stream is being marked: the server closes, the client is refused.
  during = () => {
    void app.close();
  };
  const started = Date.now();
  const answered = await status();
  t.not(answered, 'HTTP/1.1 200 OK', `not answered 200 while shutting down (${answered || 'closed'})`);
  await app.close();
  t.ok(Date.now() - started < 5000, 'the server closed without waiting for that client');
});
