import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { issueApiKey, publishKeyRevocation, redisKeys, type Config } from '@strata/core';
import { createTestEnvironment } from '@strata/testkit';
import type { QueryDeps } from '../src/deps.ts';
import { newTenant, startTestService, type TestApp } from './helpers.ts';

async function startServer(t: Parameters<typeof createTestEnvironment>[0], overrides: Partial<Config>): Promise<TestApp> {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0, ...overrides });
  const running = await startTestService(t, config, { liveHeartbeatMs: 60_000 });
  await running.deps.live.hub.ready;
  return running;
}

/** A raw HTTP/1.1 GET on its own socket; resolves with the status line's code and the socket, still open. */
async function openStream(port: number, path: string, apiKey: string): Promise<{ status: number; socket: Socket; text: () => string }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`);
  for (let i = 0; i < 500 && !text.includes('\r\n'); i++) await sleep(10);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, socket, text: () => text };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

/** What the projector's script does: append to the tenant stream, publish with the entry id. */
async function publish(deps: QueryDeps, config: Config, tenant: string, device: string, values: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify({ device, ts: new Date().toISOString(), values, updatedAt: new Date().toISOString(), version: 1 });
  const id = await deps.cache.xadd(redisKeys.liveStream(config.redisPrefix, tenant), 'MAXLEN', '~', '100', '*', 'u', body);
  await deps.cache.publish(redisKeys.liveChannel(config.redisPrefix, tenant), `{"id":"${id}",${body.slice(1)}`);
}

t.test('150 streams from one key: only STREAMS_PER_TENANT open; another tenant still gets one; a process cap answers 503', async (t) => {
  const { deps, port } = await startServer(t, { streamsPerTenant: 20, streamsTotal: 25 });
  const a = await newTenant(deps.pool, 'a');
  const b = await newTenant(deps.pool, 'b');
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  const answers = await Promise.all(
    Array.from({ length: 150 }, async () => {
      const stream = await openStream(port, '/v1/stream', a.apiKey);
      sockets.push(stream.socket);
      return stream;
    }),
  );
  const statuses = answers.map((answer) => answer.status);
  t.equal(statuses.filter((s) => s === 200).length, 20, 'exactly streamsPerTenant accepted');
  t.equal(statuses.filter((s) => s === 429).length, 130, 'the rest refused with 429');
  const refused = answers.find((answer) => answer.status === 429) as { text: () => string };
  t.match(refused.text(), /retry-after: 5/i);
  t.match(refused.text(), /too_many_streams/);
  t.equal(deps.live.hub.tenantClients(a.tenant), 20);

  const other = await openStream(port, '/v1/stream', b.apiKey);
  sockets.push(other.socket);
  t.equal(other.status, 200, 'another tenant is not affected by the first one\'s streams');

  for (let i = 0; i < 4; i++) sockets.push((await openStream(port, '/v1/stream', b.apiKey)).socket);
  t.equal(deps.live.hub.clients, 25);
  const full = await openStream(port, '/v1/stream', b.apiKey);
  sockets.push(full.socket);
  t.equal(full.status, 503, 'past STREAMS_TOTAL the process answers 503');
  t.match(full.text(), /retry-after: 5/i);

  // Closing a stream frees its place.
  answers.find((answer) => answer.status === 200)?.socket.destroy();
  await waitFor('a stream closed', () => deps.live.hub.tenantClients(a.tenant) === 19);
  const again = await openStream(port, '/v1/stream', a.apiKey);
  sockets.push(again.socket);
  t.equal(again.status, 200);
});

t.test('an unread client is disconnected once its unsent output passes the bound; a reading client keeps getting updates', async (t) => {
  const bound = 64 * 1024;
  const { deps, config, port } = await startServer(t, { streamMaxBufferBytes: bound });
  const { tenant, apiKey } = await newTenant(deps.pool);
  const stalled = await openStream(port, '/v1/stream', apiKey);
  t.teardown(() => stalled.socket.destroy());
  stalled.socket.pause(); // never reads: the kernel buffers fill, then the server's

  const reader = await openStream(port, '/v1/stream', apiKey);
  t.teardown(() => reader.socket.destroy());
  t.equal(stalled.status, 200);
  t.equal(reader.status, 200);
  let stalledClosed = false;
  stalled.socket.on('close', () => (stalledClosed = true));

  const big = 'x'.repeat(16 * 1024);
  const message = 16 * 1024 + 200;
  let published = 0;
  let maxBuffered = 0;
  while (deps.live.hub.clients === 2 && published < 20_000) {
    await publish(deps, config, tenant, 'dev', { n: published, s: big });
    published++;
    maxBuffered = Math.max(maxBuffered, deps.live.hub.bufferedBytes());
  }
  t.equal(deps.live.hub.clients, 1, `the stalled client was dropped after ${published} updates (${Math.round((published * message) / 1024)} KiB)`);
  t.ok(maxBuffered <= bound + 2 * message, `this process never held more than the bound plus a message for it (max ${maxBuffered} bytes)`);
  const ended = await deps.registry.getSingleMetricAsString('strata_query_streams_ended_total');
  t.match(ended, /reason="slow"[^}]*\} 1/);
  // The stalled socket was destroyed by the server: once read, it ends.
  stalled.socket.resume();
  await waitFor('the stalled socket sees the end', () => stalledClosed);

  await publish(deps, config, tenant, 'dev', { n: 'last' });
  await waitFor('the reader gets every update', () => reader.text().includes('"n":"last"'));
  const received = reader.text().match(/event: update/g)?.length ?? 0;
  t.equal(received, published + 1, 'the reading client got every update, the last one included');
});

t.test('device-bound keys stream only their device; revoking a key ends its open streams within a second', async (t) => {
  const { deps, config, port } = await startServer(t, {});
  const { tenant, apiKey } = await newTenant(deps.pool);
  const bound = (await issueApiKey(deps.pool, tenant, { scope: 'read', device: 'mine' }))!;

  const all = await openStream(port, '/v1/stream', bound.apiKey);
  t.teardown(() => all.socket.destroy());
  t.equal(all.status, 403, 'no device= with a device-bound key');
  const other = await openStream(port, '/v1/stream?device=theirs', bound.apiKey);
  t.teardown(() => other.socket.destroy());
  t.equal(other.status, 403, 'another device');
  t.notMatch(other.text(), /mine/, 'the bound device is not named');
  const own = await openStream(port, '/v1/stream?device=mine', bound.apiKey);
  t.teardown(() => own.socket.destroy());
  t.equal(own.status, 200, 'its own device');
  const tenantWide = await openStream(port, '/v1/stream', apiKey);
  t.teardown(() => tenantWide.socket.destroy());
  t.equal(tenantWide.status, 200);

  await publish(deps, config, tenant, 'theirs', { n: 1 });
  await publish(deps, config, tenant, 'mine', { n: 2 });
  await waitFor('the bound stream gets its device', () => own.text().includes('"device":"mine"'));
  t.notMatch(own.text(), /"device":"theirs"/);

  // The response ends (the chunked body's last chunk); the connection may stay open for another request.
  const ended = (): boolean => own.text().endsWith('\r\n0\r\n\r\n') || own.socket.destroyed;
  await deps.authenticator.ready;
  // What `ops key revoke` does after marking the key in the database.
  await deps.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [bound.keyId]);
  const revokedAt = Date.now();
  await publishKeyRevocation(deps.cache, config.redisPrefix, bound.keyId);
  const took = await waitFor('the revoked key\'s stream ends', ended, 1000);
  t.ok(Date.now() - revokedAt <= 1000, `closed ${took} ms after the revocation`);
  t.equal(deps.live.hub.clients, 1, 'the other key\'s stream stays open');
});

t.test('clients that drop before the handler runs leave no stream behind (3x the cap, some reset)', async (t) => {
  const cap = 5;
  const { deps, port } = await startServer(t, { streamsPerTenant: cap, streamsTotal: 50 });
  const a = await newTenant(deps.pool, 'a');
  const gauge = async (): Promise<number> => (await deps.metrics.streamClients.get()).values[0]?.value ?? 0;
  // Each client sends the whole request and closes at once: the socket is gone while the key is
  // still being checked, so the handler runs for a connection that no longer exists.
  const drops: Promise<void>[] = [];
  for (let i = 0; i < cap * 3; i++) {
    drops.push(
      new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(`GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.apiKey}\r\n\r\n`, () => {
            // SO_LINGER 0 (RST) for every third one, a plain close (FIN) for the rest.
            if (i % 3 === 0) socket.resetAndDestroy();
            else socket.destroy();
          });
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      }),
    );
  }
  await Promise.all(drops);
  // The handlers run after the sockets are gone (the key check awaits); give them time to run,
  // far below the connection timeout that would otherwise be the only end of a ghost.
  await sleep(1000);
  await waitFor('ghost streams ended', () => deps.live.hub.tenantClients(a.tenant) === 0, 5000).catch(() => {});
  t.equal(deps.live.hub.tenantClients(a.tenant), 0, 'no stream is held for a client that is gone');
  t.equal(await gauge(), 0, 'the gauge counts no ghosts');

  const stream = await openStream(port, '/v1/stream', a.apiKey);
  t.teardown(() => stream.socket.destroy());
  t.equal(stream.status, 200, 'the tenant can still open a stream');
  t.equal(deps.live.hub.tenantClients(a.tenant), 1);
  t.equal(await gauge(), 1, 'the gauge is the real count');
});
