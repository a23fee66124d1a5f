import t from 'tap';
import { gzipSync } from 'node:zlib';
import { createTenant } from '@strata/testkit';
import { connect } from 'node:net';
import { isLargeRequest } from '../src/ingest/large-body-lane.ts';
import { LARGE_BODY_LANE } from '../src/deps.ts';
import { JSON_BYTES_PER_CHAR, LINE_PROTOCOL_BYTES_PER_CHAR, READ_BYTES_PER_BYTE } from '../src/ingest/held-bytes.ts';
import { buildTestApp, lockTable, type CommandTestContext } from './build-test-app.ts';

/*
 * Decision 0123, on the real command API and PostgreSQL: large requests are processed one at a time,
 * tenants taking turns, charged to HeldBytes while they wait; small ones never wait for them, and a
 * client still sending its body holds no turn.
 */
const metric = async (ctx: CommandTestContext, pattern: RegExp) => Number(pattern.exec((await ctx.app.inject('/metrics')).body)?.[1]);
const processing = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_large_bodies\{state="processing"\S* (\d+)/m);
const waiting = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_large_bodies\{state="waiting"\S* (\d+)/m);
const heldBytes = (ctx: CommandTestContext) => metric(ctx, /^strata_ingest_held_bytes\S* (\d+)/m);
/** One event of 18 strings of 64,000 characters (the most a string value holds): ~1.15 MB of JSON, past the lane's whole capacity (it goes alone). */
const large = (device: string) => JSON.stringify({ device, id: device, ts: 1750240800, values: Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`s${i}`, String(i % 10).repeat(64_000)])) });
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

t.test('large bodies go one at a time, in turns, charged while they wait; a small body goes at once', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const quiet = await createTenant(ctx.db, 'lane neighbour');
  t.ok(large('x').length * JSON_BYTES_PER_CHAR >= LARGE_BODY_LANE.capacityBytes, 'each body takes the whole capacity');
  // The neighbour's small device is known to the key registry before the lock.
  t.equal((await post(ctx, quiet.apiKey, JSON.stringify({ device: 'known', id: 'k0', ts: 1750240800, values: { v: 0 } }))).statusCode, 202);
  const locker = await lockTable(t, ctx, 'device_state');

  const answered: string[] = [];
  const send = (apiKey: string, device: string) => post(ctx, apiKey, large(device)).then((response) => (answered.push(device), response));
  const first = send(ctx.tenant.apiKey, 'busy-1');
  t.equal(await until(() => processing(ctx), 1), 1, "the busy tenant's first body is processed (and waits at the key registry)");
  const second = send(ctx.tenant.apiKey, 'busy-2');
  t.equal(await until(() => waiting(ctx), 1), 1, 'its second waits for its turn');
  const neighbours = send(quiet.apiKey, 'quiet-1');
  t.equal(await until(() => waiting(ctx), 2), 2, "so does the neighbour's");
  t.equal(await heldBytes(ctx), ['busy-1', 'busy-2', 'quiet-1'].reduce((sum, device) => sum + large(device).length * (JSON_BYTES_PER_CHAR + READ_BYTES_PER_BYTE), 0), 'the waiting ones are charged to HeldBytes, as read and as parsed: their memory is bounded with the rest');

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
  const locker = await lockTable(t, ctx, 'device_state');
  const first = post(ctx, ctx.tenant.apiKey, large('holder'));
  t.equal(await until(() => processing(ctx), 1), 1, 'a body holds the turn');
  // ~440 KB of line protocol that gzip makes a few KB: small as sent, large once read (14 MiB of
  // estimate: it does not fit beside the holder).
  const lines = Array.from({ length: 4000 }, (_, i) => `m,host=lp-${i % 50} v=${i}i,pad="${'p'.repeat(80)}" ${1750240800 + i}`).join('\n');
  const compressed = gzipSync(lines);
  t.ok(!isLargeRequest(compressed.length * LINE_PROTOCOL_BYTES_PER_CHAR) && isLargeRequest(lines.length * LINE_PROTOCOL_BYTES_PER_CHAR), `${compressed.length} bytes sent, ${lines.length} decompressed`);
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

t.test('a client still sending its large body holds no turn: a neighbour\'s large body goes meanwhile', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const quiet = await createTenant(ctx.db, 'lane neighbour');
  const { port } = ctx.app.server.address() as { port: number };
  // Headers and the first kilobyte of a 1.1 MB body, then nothing: a slow (or hostile) sender.
  const slow = connect({ host: '127.0.0.1', port });
  t.teardown(() => slow.destroy());
  await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
  const body = large('slow');
  slow.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.tenant.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1000)}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same([await processing(ctx), await waiting(ctx)], [0, 0], 'the slow body takes no turn while it arrives');
  const started = Date.now();
  const other = await post(ctx, quiet.apiKey, large('other'));
  t.equal(other.statusCode, 202, "the neighbour's large body is stored");
  t.ok(Date.now() - started < 10_000, `without waiting for the slow sender (${Date.now() - started} ms)`);
  slow.destroy();
  t.same([await until(() => processing(ctx), 0), await until(() => waiting(ctx), 0)], [0, 0]);
});
