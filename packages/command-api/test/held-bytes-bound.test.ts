import t from 'tap';
import { createTenant } from '@strata/testkit';
import { heldBytesLimits } from '../src/deps.ts';
import { JSON_BYTES_PER_CHAR, READ_BYTES_PER_BYTE } from '../src/ingest/held-bytes.ts';
import { buildTestApp, countStaged, lockTable, type CommandTestContext } from './build-test-app.ts';
import { rawHttpRequest } from './raw-http-request.ts';

/*
 * Bounded memory in bytes, and a tenant's share of it (decision 0120): the held-events bound alone let
 * one-event requests of MAX_BODY_BYTES each hold gigabytes while PostgreSQL stalled, and requests
 * waiting before the group commit (the key registry reading device_state) were not counted at all.
 */
const post = (ctx: CommandTestContext, apiKey: string, payload: string) =>
  ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, payload });
const gauge = async (ctx: CommandTestContext, name: string) => Number(new RegExp(`^${name}\\S* (\\d+)`, 'm').exec((await ctx.app.inject('/metrics')).body)?.[1]);
/** What an ASCII JSON body is charged a character once parsed: its estimate, and its bytes as read. */
const PER_CHAR = JSON_BYTES_PER_CHAR + READ_BYTES_PER_BYTE;
/** One event of 16 string values of 64,000 characters: ~1 MiB of body. */
const large = (n: number, device = 'big') =>
  JSON.stringify({ device, id: `big-${n}`, ts: 1750240800 + n, values: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`s${i}`, String(n % 10).repeat(64_000)])) });

async function waitFor(read: () => Promise<number>, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (value < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

t.test('a stalled store: a tenant sending large bodies is held to its share, its neighbour is not refused', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const limits = heldBytesLimits(ctx.config.maxBodyBytes);
  t.equal(limits.maxBytesPerTenant, 256 * 1024 * 1024, 'the default share');
  t.equal(limits.maxBytes, 4 * limits.maxBytesPerTenant);
  const neighbour = await createTenant(ctx.db, 'neighbour');
  const locker = await lockTable(t, ctx, 'staging_events');

  // Ids of one or two digits: each body is at most one character longer than the first.
  const fit = Math.floor(limits.maxBytesPerTenant / ((large(0).length + 1) * PER_CHAR));
  const bodies = Array.from({ length: fit }, (_, n) => large(n));
  const charged = bodies.reduce((sum, body) => sum + body.length * PER_CHAR, 0);
  const held = bodies.map((body) => post(ctx, ctx.tenant.apiKey, body));
  t.equal(await waitFor(() => gauge(ctx, 'strata_ingest_held_bytes'), charged), charged, `${fit} bodies of ~1 MiB are held, charged ${PER_CHAR} bytes a character (as read, and as parsed)`);

  const started = Date.now();
  const refused = await post(ctx, ctx.tenant.apiKey, large(fit));
  t.ok(Date.now() - started < 2000, 'the next one is answered at once, not when PostgreSQL answers');
  t.equal(refused.statusCode, 503, refused.body);
  t.equal(refused.json().error.code, 'unavailable');
  t.equal(refused.headers['retry-after'], '1');
  t.match(refused.json().error.message, /this tenant's earlier requests are still waiting to be stored/);
  t.equal(await gauge(ctx, 'strata_ingest_held_bytes'), charged, 'and is not held');

  const neighbourBodies = [large(100), JSON.stringify({ device: 'small', id: 'n1', ts: 1750240800, values: { v: 1 } })];
  const neighbours = neighbourBodies.map((body) => post(ctx, neighbour.apiKey, body));
  const expected = charged + neighbourBodies.reduce((sum, body) => sum + body.length * PER_CHAR, 0);
  t.equal(await waitFor(() => gauge(ctx, 'strata_ingest_held_bytes'), expected), expected, "the neighbour's requests are held, not refused");

  await locker.query('ROLLBACK');
  t.same((await Promise.all(held)).map((r) => r.statusCode), new Array(fit).fill(202), 'what the tenant held is acknowledged once PostgreSQL answers');
  t.same((await Promise.all(neighbours)).map((r) => r.statusCode), [202, 202], 'so is the neighbour');
  t.equal(await countStaged(ctx.db), fit + 2, 'staged exactly once; the refused request left nothing');
  t.equal(await gauge(ctx, 'strata_ingest_held_bytes'), 0);
  t.equal((await post(ctx, ctx.tenant.apiKey, large(fit + 1))).statusCode, 202, 'and the tenant is taken again');
});

t.test('requests waiting before the group commit are charged too', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  // A device new to the key registry is seeded from device_state: locked, the request waits there,
  // before the committer (where the first version of the bound started counting).
  const locker = await lockTable(t, ctx, 'device_state');
  const bodies = [large(1, 'new-a'), large(2, 'new-b')];
  const answers = bodies.map((body) => post(ctx, ctx.tenant.apiKey, body));
  const charged = bodies.reduce((sum, body) => sum + body.length * PER_CHAR, 0);
  t.equal(await waitFor(() => gauge(ctx, 'strata_ingest_held_bytes'), charged), charged, 'both are charged while they wait for the registry');
  t.equal(await gauge(ctx, 'strata_ingest_held_events'), 0, 'none has reached the committer');
  await locker.query('ROLLBACK');
  const statuses = (await Promise.all(answers)).map((r) => r.statusCode);
  t.ok(statuses.every((status) => status === 202 || status === 503), `answered (${statuses.join(', ')})`);
  t.equal(await gauge(ctx, 'strata_ingest_held_bytes'), 0, 'and given back when answered, whatever the answer');
});

t.test('bodies being read are charged by their Content-Length: staged bodies hold no more than the share', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const limits = heldBytesLimits(ctx.config.maxBodyBytes);
  const neighbour = await createTenant(ctx.db, 'staging neighbour');
  const { port } = ctx.app.server.address() as { port: number };
  // Headers announcing MAX_BODY_BYTES and no body yet: a client staging bodies to finish them at once
  // (second hostile review of decision 0124: 150 of them held 1.1 GB).
  const declared = ctx.config.maxBodyBytes;
  const fit = Math.floor(limits.maxBytesPerTenant / (declared * READ_BYTES_PER_BYTE));
  const open = async () => {
    const { socket, head } = await rawHttpRequest((fn) => t.teardown(fn), port, `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.tenant.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{`);
    return { socket, answer: head };
  };
  const staged = [];
  for (let i = 0; i < fit; i++) staged.push(await open());
  const charged = fit * declared * READ_BYTES_PER_BYTE;
  t.equal(await waitFor(() => gauge(ctx, 'strata_ingest_held_bytes'), charged), charged, `${fit} staged bodies are charged what they announce, twice (chunks and string)`);
  const over = await open();
  const refusal = await Promise.race([over.answer, new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 5000))]);
  t.match(refusal, /^HTTP\/1\.1 503/, 'the next one is refused before its body is sent');
  t.match(refusal, /retry-after: 1/i);
  t.equal((await post(ctx, neighbour.apiKey, JSON.stringify({ device: 'n', id: 'n1', ts: 1750240800, values: { v: 1 } }))).statusCode, 202, 'the neighbour is not refused');
  for (const { socket } of staged) socket.destroy();
  t.equal(await waitFor(async () => -(await gauge(ctx, 'strata_ingest_held_bytes')), 0), 0, 'a client that goes away gives its charge back');
  t.equal((await post(ctx, ctx.tenant.apiKey, JSON.stringify({ device: 't', id: 't1', ts: 1750240800, values: { v: 1 } }))).statusCode, 202, 'and the tenant is taken again');
});
