import t from 'tap';
import pg from 'pg';
import { gzipSync } from 'node:zlib';
import { createTenant, type Teardownable } from '@strata/testkit';
import { LARGE_BODY_BYTES } from '../src/ingest/large-body-lane.ts';
import { JSON_BYTES_PER_CHAR } from '../src/ingest/held-bytes.ts';
import { buildTestApp, type CommandTestContext } from './build-test-app.ts';

/*
 * Decision 0123, on the real command API and PostgreSQL: large bodies are processed one at a time,
 * tenants taking turns, and wait for their turn unread; small bodies never wait for them.
 */
const metric = async (ctx: CommandTestContext, pattern: RegExp) => Number(pattern.exec((await ctx.app.inject('/metrics')).body)?.[1]);
const processing = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_large_bodies\{state="processing"\S* (\d+)/m);
const waiting = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_large_bodies\{state="waiting"\S* (\d+)/m);
const heldBytes = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_held_bytes\S* (\d+)/m);
/** One event of 5 strings of 60,000 characters: ~300 KB, past LARGE_BODY_BYTES. */
const large = (device: string) => JSON.stringify({ device, id: device, ts: 1750240800, values: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s${i}`, String(i).repeat(60_000)])) });
const post = (ctx: CommandTestContext, apiKey: string, payload: string) =>
  ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, payload });

async function until(read: () => Promise<number>, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

/** device_state locked: a body for a device new to the key registry waits there, holding its turn. */
async function lockDeviceState(t: Teardownable, ctx: CommandTestContext): Promise<pg.Client> {
  const locker = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE device_state IN ACCESS EXCLUSIVE MODE');
  return locker;
}

t.test('large bodies go one at a time, in turns, unread while they wait; a small body goes at once', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const quiet = await createTenant(ctx.db, 'lane neighbour');
  t.ok(large('x').length >= LARGE_BODY_BYTES, 'the bodies are large');
  // The neighbour's small device is known to the key registry before the lock.
  t.equal((await post(ctx, quiet.apiKey, JSON.stringify({ device: 'known', id: 'k0', ts: 1750240800, values: { v: 0 } }))).statusCode, 202);
  const locker = await lockDeviceState(t, ctx);

  const answered: string[] = [];
  const send = (apiKey: string, device: string) => post(ctx, apiKey, large(device)).then((response) => (answered.push(device), response));
  const first = send(ctx.tenant.apiKey, 'busy-1');
  t.equal(await until(() => processing(ctx), 1), 1, "the busy tenant's first body is processed (and waits at the key registry)");
  const second = send(ctx.tenant.apiKey, 'busy-2');
  t.equal(await until(() => waiting(ctx), 1), 1, 'its second waits for its turn');
  const neighbours = send(quiet.apiKey, 'quiet-1');
  t.equal(await until(() => waiting(ctx), 2), 2, "so does the neighbour's");
  t.equal(await heldBytes(ctx), large('busy-1').length * JSON_BYTES_PER_CHAR, 'only the body being processed was read: the waiting ones hold no memory');

  const small = await post(ctx, quiet.apiKey, JSON.stringify({ device: 'known', id: 'k1', ts: 1750240801, values: { v: 1 } }));
  t.equal(small.statusCode, 202, 'a small body is taken while large ones wait');

  await locker.query('ROLLBACK');
  const statuses = (await Promise.all([first, second, neighbours])).map((response) => response.statusCode);
  t.same(statuses, [202, 202, 202], 'every large body is acknowledged');
  t.same(answered, ['busy-1', 'quiet-1', 'busy-2'], "the neighbour's body went before the busy tenant's second: tenants take turns");
  t.same([await processing(ctx), await waiting(ctx)], [0, 0], 'every turn is given back');
});

t.test('a gzip line-protocol body takes its turn by the size it decompresses to', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const locker = await lockDeviceState(t, ctx);
  const first = post(ctx, ctx.tenant.apiKey, large('holder'));
  t.equal(await until(() => processing(ctx), 1), 1, 'a body holds the turn');
  // ~440 KB of line protocol that gzip makes a few KB: small as sent, large once read.
  const lines = Array.from({ length: 4000 }, (_, i) => `m,host=lp-${i % 50} v=${i}i,pad="${'p'.repeat(80)}" ${1750240800 + i}`).join('\n');
  const compressed = gzipSync(lines);
  t.ok(compressed.length < LARGE_BODY_BYTES && lines.length >= LARGE_BODY_BYTES, `${compressed.length} bytes sent, ${lines.length} decompressed`);
  const written = ctx.app.inject({
    method: 'POST',
    url: '/api/v2/write?bucket=b&org=o&precision=s',
    headers: { authorization: `Token ${ctx.tenant.apiKey}`, 'content-encoding': 'gzip', 'content-type': 'text/plain' },
    payload: compressed,
  });
  t.equal(await until(() => waiting(ctx), 1), 1, 'it waits for the turn');
  await locker.query('ROLLBACK');
  t.same([(await first).statusCode, (await written).statusCode], [202, 204], 'then both are stored');
  t.same([await processing(ctx), await waiting(ctx)], [0, 0]);
});

t.test('a large body whose client went away while it waited gives its turn back', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const locker = await lockDeviceState(t, ctx);
  const first = post(ctx, ctx.tenant.apiKey, large('holder'));
  t.equal(await until(() => processing(ctx), 1), 1);
  const { port } = ctx.app.server.address() as { port: number };
  const body = large('leaver');
  const gone = new AbortController();
  const leaving = fetch(`http://127.0.0.1:${port}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.tenant.apiKey}`, 'content-type': 'application/json' },
    body,
    signal: gone.signal,
  }).catch((error: unknown) => error);
  t.equal(await until(() => waiting(ctx), 1), 1, 'a client over TCP waits its turn');
  gone.abort();
  t.match(await leaving, { name: 'AbortError' }, 'the client gives up');
  // Its socket is not read while it waits, so its going is seen only when its turn comes (or its wait
  // times out): its place is kept until then, and its turn ends once its request is over.
  await locker.query('ROLLBACK');
  t.equal((await first).statusCode, 202);
  t.same([await until(() => processing(ctx), 0), await until(() => waiting(ctx), 0)], [0, 0], 'no turn is left taken, no place held');
  const staged = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM staging_events WHERE device = 'leaver'");
  // Sent whole before the client left (300 KB fit in loopback's socket buffers), it is processed in its
  // turn like any request whose client stopped waiting: stored once, and a retry is deduplicated.
  t.ok((staged.rows[0]?.n ?? 0) <= 1, `stored at most once (${staged.rows[0]?.n})`);
  t.equal((await post(ctx, ctx.tenant.apiKey, large('after'))).statusCode, 202, 'and the next large body is taken at once');
});
