import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createTestEnvironment, seedCache, seedEvents, type SeedEvent } from '@strata/testkit';
import type { ValueState } from '../src/model/value-state.ts';
import { mergeValueState, valueStateOf } from '../src/reads/merge-value-state.ts';
import { buildTestApp, get, newTenant, startTestService } from './helpers.ts';

t.test('state?at equals an oracle over raw history at 20 random instants', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  let seed = 7;
  const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const base = Date.UTC(2026, 10, 1);
  const events: SeedEvent[] = [];
  for (let i = 0; i < 600; i++) {
    const values: SeedEvent['values'] = {};
    if (random() < 0.8) values.temp = Math.round(random() * 1000) / 10;
    if (random() < 0.3) values.status = random() < 0.5 ? 'ok' : 'warn';
    if (i % 97 === 0) values.rare = i; // sparse: answered from windows far back
    events.push({ tenantId: tenant, device: 'band', ts: base + Math.floor(random() * 15 * 86_400_000), key: `k${i}`, values });
  }
  events.push({ tenantId: tenant, device: 'band', ts: events[5]!.ts, key: 'tie', values: { temp: 999 } }); // same instant: larger text wins
  await seedEvents(deps.pool, events);

  const oracle = (at: number): Record<string, unknown> => {
    let state: ValueState = {};
    for (const e of events) if (e.ts <= at) state = mergeValueState(state, valueStateOf(e.values, e.ts));
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.v]));
  };
  const instants = [base - 1, events[5]!.ts, ...Array.from({ length: 18 }, () => base + Math.floor(random() * 16 * 86_400_000))];
  for (const at of instants) {
    const response = await get(app, `/v1/devices/band/state?at=${new Date(at).toISOString()}`, apiKey);
    t.equal(response.status, 200);
    t.same(response.body.values, oracle(at), `at ${new Date(at).toISOString()}`);
  }
  const unknown = await get(app, '/v1/devices/nobody/state?at=2026-11-02T00:00:00Z', apiKey);
  t.equal(unknown.status, 404);
  const early = await get(app, `/v1/devices/band/state?at=${base - 1}`, apiKey);
  t.same([early.body.ts, early.body.values], [null, {}], 'nothing reported yet');
});

t.test('stats counts per bucket and type equal the raw counts', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const base = Date.UTC(2026, 10, 10, 7, 30);
  const events: SeedEvent[] = Array.from({ length: 500 }, (_, i) => ({
    tenantId: tenant,
    device: 'dev',
    ts: base + i * 397_000,
    key: `e${i}`,
    type: i % 3 === 0 ? 'door' : i % 3 === 1 ? 'tap' : 'reading',
    values: { n: i },
  }));
  // History, and the counters per minute and hour as the projector's refresher materializes them.
  await seedEvents(deps.pool, events);
  const widths: Record<string, number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
  const from = base + 1_000_000;
  const to = base + 150_000_000;
  for (const [interval, width] of Object.entries(widths)) {
    const response = await get(app, `/v1/stats?interval=${interval}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, apiKey);
    t.equal(response.status, 200);
    const start = Math.floor(from / width) * width;
    const end = Math.ceil(to / width) * width;
    const expected = new Map<string, Record<string, number>>();
    for (const e of events) {
      if (e.ts < start || e.ts >= end) continue;
      const bucket = new Date(Math.floor(e.ts / width) * width).toISOString();
      const counts = expected.get(bucket) ?? {};
      counts[e.type as string] = (counts[e.type as string] ?? 0) + 1;
      expected.set(bucket, counts);
    }
    t.same(response.body.buckets, [...expected.entries()].map(([ts, counts]) => ({ ts, counts })), `${interval}: counts equal raw counts`);
  }
  const doors = await get(app, `/v1/stats?interval=1d&type=door&from=${base}&to=${base + 3 * 86_400_000}`, apiKey);
  t.equal(doors.body.buckets.reduce((n: number, b: { counts: { door: number } }) => n + b.counts.door, 0), 167);
  t.equal((await get(app, '/v1/stats?interval=2h', apiKey)).status, 400);
});

t.test('SSE: a real EventSource gets each update of its device once, in order, across a reconnect', async (t) => {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0 });
  const { deps, port } = await startTestService(t, config, { liveHeartbeatMs: 200 });
  await deps.live.hub.ready;
  const { tenant, apiKey } = await newTenant(deps.pool);
  let version = 0;
  // A projection's live update, sent by the projector's own script: appended to the tenant stream
  // and published with the entry id.
  const publish = async (device: string, n: number): Promise<void> => {
    const state = { tenantId: tenant, device, ts: new Date(Date.UTC(2026, 10, 20) + n).toISOString(), values: { n }, updatedAt: new Date().toISOString() };
    await seedCache(deps.cache, config.redisPrefix, [{ ...state, version: ++version, live: true }]);
  };

  const heartbeat = await fetch(`http://127.0.0.1:${port}/v1/stream`, { headers: { authorization: `Bearer ${apiKey}` } });
  t.equal(heartbeat.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = heartbeat.body!.getReader();
  let text = '';
  while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
  t.match(text, /^retry: \d+\n\n/, 'reconnect advice first, then comment heartbeats');
  await reader.cancel();
  t.equal((await fetch(`http://127.0.0.1:${port}/v1/stream`)).status, 401);

  const total = 30;
  const script = fileURLToPath(new URL('./support/sse-client.ts', import.meta.url));
  const child = spawn(process.execPath, ['--experimental-eventsource', '--no-warnings', script, `http://127.0.0.1:${port}/v1/stream?device=watched&access_token=${apiKey}`, String(total)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill());
  const lines: { kind: string; id?: string; data?: { device: string; values: { n: number } } }[] = [];
  const waitFor = async (predicate: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!predicate()) throw new Error(`timed out: ${JSON.stringify(lines)}`);
  };
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
  await waitFor(() => lines.some((line) => line.kind === 'open'));
  await waitFor(() => deps.live.hub.clients === 1);
  let n = 0;
  for (; n < 10; n++) {
    await publish('watched', n);
    await publish('other', n);
  }
  await waitFor(() => lines.filter((line) => line.kind === 'update').length === 10);
  deps.live.hub.endAll('test: drop every client'); // the client reconnects after `retry` with Last-Event-ID
  for (; n < 20; n++) await publish('watched', n); // published while the client is away
  await waitFor(() => lines.filter((line) => line.kind === 'open').length === 2);
  for (; n < total; n++) await publish('watched', n);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.equal(await exited, 0);
  const updates = lines.filter((line) => line.kind === 'update');
  t.same(updates.map((u) => u.data?.values.n), Array.from({ length: total }, (_, i) => i), 'every update once, in order, none lost across the reconnect');
  t.ok(updates.every((u) => u.data?.device === 'watched'), 'only the device asked for');
  t.ok(updates.every((u, i) => i === 0 || u.id! > updates[i - 1]!.id!), 'ids are the stream ids, increasing');
});
