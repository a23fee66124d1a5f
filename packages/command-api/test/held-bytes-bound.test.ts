import t from 'tap';
import pg from 'pg';
import { createTenant } from '@strata/testkit';
import { heldBytesLimits } from '../src/deps.ts';
import { buildTestApp, countStaged } from './build-test-app.ts';

/*
 * Bounded memory in bytes, and a tenant's share of it (hostile review of issue 10): the held-events
 * bound alone let one-event requests of MAX_BODY_BYTES each hold gigabytes while PostgreSQL stalled.
 * Here staging is locked, a tenant sends one-event bodies of ~1 MiB until it holds its share (32 MiB
 * by default) and is answered 429 at once; its neighbour's request is still taken and, like every
 * request held, stored once PostgreSQL answers again.
 */
t.test('a stalled store: a tenant sending large bodies is held to its share of bytes, its neighbour is not refused', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const limits = heldBytesLimits(ctx.config.maxBodyBytes);
  t.equal(limits.maxHeldBytesPerTenant, 32 * 1024 * 1024, 'the default share');
  t.equal(limits.maxHeldBytes, 4 * limits.maxHeldBytesPerTenant);
  const neighbour = await createTenant(ctx.db, 'neighbour');
  const post = (apiKey: string, payload: string) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, payload });
  const gauge = async (name: string) => Number(new RegExp(`^${name}\\S* (\\d+)`, 'm').exec((await ctx.app.inject('/metrics')).body)?.[1]);
  // One event of 16 string values of 64,000 characters: 1,024,000 characters of values, ~1 MiB of body.
  const large = (n: number) => JSON.stringify({ device: 'big', id: `big-${n}`, ts: 1750240800 + n, values: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`s${i}`, String(n % 10).repeat(64_000)])) });
  const bodyChars = large(0).length;

  const locker = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE staging_events IN ACCESS EXCLUSIVE MODE');

  // Ids of one to three digits: each body is at most two characters longer than the first.
  const fit = Math.floor(limits.maxHeldBytesPerTenant / (bodyChars + 2));
  const bodies = Array.from({ length: fit }, (_, n) => large(n));
  const heldChars = bodies.reduce((sum, body) => sum + body.length, 0);
  const held = bodies.map((body) => post(ctx.tenant.apiKey, body));
  const deadline = Date.now() + 10_000;
  while ((await gauge('strata_ingest_held_bytes')) < heldChars && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await gauge('strata_ingest_held_bytes'), heldChars, `${fit} bodies of ~${bodyChars} characters are held`);

  const started = Date.now();
  const refused = await post(ctx.tenant.apiKey, large(fit));
  t.ok(Date.now() - started < 2000, 'the next one is answered at once, not when PostgreSQL answers');
  t.equal(refused.statusCode, 429, refused.body);
  t.equal(refused.json().error.code, 'rate_limited');
  t.equal(refused.headers['retry-after'], '1');
  t.match(refused.json().error.message, /still waiting to be stored/);
  t.equal(await gauge('strata_ingest_held_bytes'), heldChars, 'and is not held');

  const neighbourBodies = [large(100), JSON.stringify({ device: 'small', id: 'n1', ts: 1750240800, values: { v: 1 } })];
  const neighbours = neighbourBodies.map((body) => post(neighbour.apiKey, body));
  const expected = heldChars + neighbourBodies.reduce((sum, body) => sum + body.length, 0);
  while ((await gauge('strata_ingest_held_bytes')) < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await gauge('strata_ingest_held_bytes'), expected, "the neighbour's requests are held, not refused");

  await locker.query('ROLLBACK');
  t.same((await Promise.all(held)).map((r) => r.statusCode), new Array(fit).fill(202), "what the tenant held is acknowledged once PostgreSQL answers");
  t.same((await Promise.all(neighbours)).map((r) => r.statusCode), [202, 202], 'so is the neighbour');
  t.equal(await countStaged(ctx.db), fit + 2, 'staged exactly once; the refused request left nothing');
  t.equal(await gauge('strata_ingest_held_bytes'), 0);
  t.equal((await post(ctx.tenant.apiKey, large(fit + 1))).statusCode, 202, 'and the tenant is taken again');
});
