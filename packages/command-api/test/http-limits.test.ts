import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildTestApp } from './build-test-app.ts';

/** Opens a raw socket, sends the head of a POST promising `length` bytes and the first part of its body. */
function startPost(port: number, apiKey: string, length: number, firstPart: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  socket.write(
    `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${firstPart}`,
  );
  return socket;
}

/** Resolves with what the server sent once it closes the socket; rejects if it never does. */
function closedByServer(socket: Socket, withinMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${withinMs} ms`));
    }, withinMs);
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(received);
    });
  });
}

async function listen(t: Parameters<typeof buildTestApp>[0], overrides: Parameters<typeof buildTestApp>[1]) {
  // The started service already listens, on the test environment's 127.0.0.1 and port 0.
  const ctx = await buildTestApp(t, overrides);
  const { port } = ctx.app.server.address() as AddressInfo;
  const postOk = () =>
    fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device: 'after', ts: Date.now(), values: { v: 1 } }),
    });
  return { ctx, port, postOk };
}

const body = JSON.stringify({ device: 'slow', ts: Date.now(), values: { v: 1 } });

t.test('a POST that sends half its body and stalls is cut off, and the server keeps serving', async (t) => {
  const { ctx, port, postOk } = await listen(t, { httpConnectionTimeoutMs: 500, httpRequestTimeoutMs: 30_000 });
  const socket = startPost(port, ctx.tenant.apiKey, body.length, body.slice(0, body.length / 2));
  await closedByServer(socket, 10_000);
  t.pass('the stalled connection was closed by the server');
  const response = await postOk();
  t.equal(response.status, 202, 'a well-behaved client is still served');
});

t.test('a POST that trickles its body in forever is cut off by the request deadline', async (t) => {
  const { ctx, port, postOk } = await listen(t, { httpConnectionTimeoutMs: 60_000, httpRequestTimeoutMs: 800 });
  const socket = startPost(port, ctx.tenant.apiKey, body.length + 10_000, '{');
  // One byte every 100 ms: never idle long enough for the socket timeout, never finishing.
  const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
  t.teardown(() => clearInterval(trickle));
  const answer = await closedByServer(socket, 10_000);
  clearInterval(trickle);
  t.match(answer, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout and closed');
  t.equal((await postOk()).status, 202, 'a well-behaved client is still served');
});

t.test('connections beyond the cap are refused', async (t) => {
  const { ctx, port } = await listen(t, { httpMaxConnections: 2 });
  t.equal(ctx.app.server.maxConnections, 2);
  const held = [startPost(port, ctx.tenant.apiKey, 100, '{'), startPost(port, ctx.tenant.apiKey, 100, '{')];
  t.teardown(() => held.forEach((socket) => socket.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const third = startPost(port, ctx.tenant.apiKey, 100, '{');
  const answer = await closedByServer(third, 5000);
  t.equal(answer, '', 'the third connection is closed without an answer');
});

t.test('the 404 answer never repeats the query string (it may carry a credential)', async (t) => {
  const ctx = await buildTestApp(t);
  const response = await ctx.app.inject({
    method: 'GET',
    url: '/v1/nowhere?access_token=sk_secret123&x=1',
    headers: { authorization: `Bearer ${ctx.tenant.apiKey}` },
  });
  t.equal(response.statusCode, 404);
  t.equal(response.json().error.message, 'no route GET /v1/nowhere');
  t.notMatch(response.body, /sk_secret123/);
});
