import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { redisKeys } from '@strata/core';
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

/** The `data` of every update the client has received so far. */
function updates(text: string): { id: string; values: { n: number } }[] {
  return [...text.matchAll(/^id: (.+)\nevent: update\ndata: (.+)$/gm)].map((m) => ({ id: m[1] as string, ...(JSON.parse(m[2] as string) as { values: { n: number } }) }));
}

t.test('a stream marks its tenant watched before it answers; the mark outlives the last client by LIVE_RESUME_SECONDS', async (t) => {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0, liveResumeSeconds: 2 });
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
  t.equal(await deps.cache.exists(watchKey), 0, 'no client yet: not watched');
  t.equal(await deps.cache.xlen(stream), 0, 'no client yet: nothing logged');

  const first = await openStream(port, apiKey);
  const ttl = await deps.cache.ttl(watchKey);
  t.ok(ttl > 0 && ttl <= 2, `watched as soon as the stream answered (ttl ${ttl} s)`);
  await project();
  for (let i = 0; i < 200 && updates(first.text()).length < 1; i++) await sleep(10);
  t.same(updates(first.text()).map((u) => u.values.n), [2], 'the first update after the answer arrives');

  // Renewed while the client stays (every third of the window), so the key never lapses under it.
  await sleep(2500);
  t.equal(await deps.cache.exists(watchKey), 1, 'renewed while the tenant has a client');
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
  await sleep(1000);
  t.equal(await deps.cache.exists(watchKey), 1, 'still watched a second after the last client left');
  await sleep(1500);
  t.equal(await deps.cache.exists(watchKey), 0, 'the key has lapsed');
  await project();
  t.equal(await deps.cache.xlen(stream), logged, 'past the window: nothing logged');
});
