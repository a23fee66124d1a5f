import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Teardownable } from '@strata/testkit';
import { runPacedLoad } from '../../bench/paced-load.ts';

/*
 * The fleet phase's generator (bench/paced-load.ts) must send what a fleet sends — requests spread
 * evenly over each second, not a burst at its start — and must not let a slow service hide behind
 * the generator: a request's latency runs from the instant it was due.
 */
async function stub(t: Teardownable, answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ origin: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((request, response) => {
    arrivals.push(performance.now());
    request.resume();
    request.on('end', () => answer(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.keepAliveTimeout = 60_000;
  return { origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`, arrivals };
}

const accepted = (n: number) => (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(202, { 'content-type': 'application/json' });
  response.end(`{"accepted":${n}}`);
};

t.test('requests are spread evenly over the second, each body built once, every acknowledgement counted', async (t) => {
  const { origin, arrivals } = await stub(t, accepted(2));
  const bodies = new Set<number>();
  const result = await runPacedLoad({
    origin, path: '/v1/events', apiKey: 'k', connections: 8, rate: 200, durationS: 1, maxOutstanding: 64,
    next: (i) => {
      bodies.add(i);
      return { body: `{"i":${i}}` };
    },
  });
  t.equal(result.offered, 200);
  t.equal(result.ok, 200, 'every request answered');
  t.equal(bodies.size, 200, 'each request its own body');
  t.equal(result.acceptedEvents, 400, "every 202's accepted count summed");
  // Evenly: 10 requests per 50 ms. A burst at the second's start (autocannon's rate mode) puts all
  // 200 in the first window.
  const first = arrivals[0] as number;
  const windows = new Map<number, number>();
  for (const at of arrivals) windows.set(Math.floor((at - first) / 50), (windows.get(Math.floor((at - first) / 50)) ?? 0) + 1);
  t.ok(Math.max(...windows.values()) <= 40, `at most 40 arrivals in any 50 ms (saw ${Math.max(...windows.values())})`);
  t.ok(windows.size >= 15, `arrivals span the second (${windows.size} windows of 50 ms)`);
});

t.test('latency runs from the instant a request was due: waiting for a connection counts', async (t) => {
  // One connection answering in 100 ms, 20 requests due 20 ms apart: the last is due at 380 ms and
  // answered after ~2 s, so its latency is ~1.6 s, though the service took 100 ms for it.
  const { origin } = await stub(t, (request, response) => setTimeout(() => accepted(1)(request, response), 100));
  const result = await runPacedLoad({ origin, path: '/v1/events', apiKey: 'k', connections: 1, rate: 50, durationS: 0.4, maxOutstanding: 100, next: (i) => ({ body: `{"i":${i}}` }) });
  t.equal(result.ok, 20);
  t.ok(result.p99Ms >= 1_000, `queueing in the generator counts (p99 ${Math.round(result.p99Ms)} ms)`);
  t.ok(result.p50Ms >= 500, `for the median too (p50 ${Math.round(result.p50Ms)} ms)`);
});

t.test('a service that stops answering bounds what is outstanding: the rest is not sent, and said so', async (t) => {
  const held: (() => void)[] = [];
  const { origin, arrivals } = await stub(t, (request, response) => held.push(() => accepted(1)(request, response)));
  const load = runPacedLoad({ origin, path: '/v1/events', apiKey: 'k', connections: 3, rate: 100, durationS: 0.3, maxOutstanding: 3, next: (i) => ({ body: `{"i":${i}}` }) });
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(arrivals.length, 3, 'no more sent than maxOutstanding while none is answered');
  for (const release of held.splice(0)) release();
  const result = await load;
  t.equal(result.offered, 30);
  t.equal(result.ok, 3);
  t.equal(result.missed, 27, 'every request due meanwhile counted as not sent');
  t.equal(result.acceptedEvents, 3);
});

t.test('answers other than 2xx and dropped connections are counted apart, not as latencies', async (t) => {
  let n = 0;
  const { origin } = await stub(t, (request, response) => {
    n++;
    if (n % 3 === 0) return response.socket?.destroy();
    if (n % 3 === 1) {
      response.writeHead(429, { 'content-type': 'application/json' });
      return response.end('{"error":{"code":"rate_limited"}}');
    }
    accepted(1)(request, response);
  });
  const result = await runPacedLoad({ origin, path: '/v1/events', apiKey: 'k', connections: 1, rate: 30, durationS: 0.3, maxOutstanding: 10, next: (i) => ({ body: `{"i":${i}}` }) });
  t.equal(result.ok + result.non2xx + result.errors, 9, 'every request accounted for');
  t.ok(result.non2xx >= 1 && result.errors >= 1, `refusals (${result.non2xx}) and failures (${result.errors}) counted`);
  t.equal(result.acceptedEvents, result.ok, 'only 202s acknowledge events');
});

t.test('GET asks for each request its own path, with the key and no body', async (t) => {
  const seen: string[] = [];
  const { origin } = await stub(t, (request, response) => {
    seen.push(`${request.method} ${request.url} ${request.headers.authorization} ${request.headers['content-length'] ?? '-'}`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  const result = await runPacedLoad({ origin, path: '/unused', apiKey: 'k', method: 'GET', connections: 2, rate: 50, durationS: 0.1, maxOutstanding: 10, next: (i) => ({ path: `/v1/devices/d${i}` }) });
  t.equal(result.ok, 5);
  t.same(seen.sort(), [0, 1, 2, 3, 4].map((i) => `GET /v1/devices/d${i} Bearer k -`));
});

t.test('PUT sends each request its own body to its own path, as JSON', async (t) => {
  const seen: string[] = [];
  const { origin } = await stub(t, (request, response) => {
    seen.push(`${request.method} ${request.url} ${request.headers['content-type']} ${request.headers['content-length']}`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  const result = await runPacedLoad({ origin, path: '/unused', apiKey: 'k', method: 'PUT', connections: 2, rate: 50, durationS: 0.1, maxOutstanding: 10, next: (i) => ({ path: `/v1/devices/d${i}/labels`, body: `{"labels":{"n":"${i}"}}` }) });
  t.equal(result.ok, 5);
  t.same(seen.sort(), [0, 1, 2, 3, 4].map((i) => `PUT /v1/devices/d${i}/labels application/json 20`));
});
