import t from 'tap';
import pg from 'pg';
import { createTenant } from '@strata/testkit';
import { HELD_EVENTS_PER_TENANT } from '../src/deps.ts';
import { JSON_BYTES_PER_CHAR } from '../src/ingest/held-bytes.ts';
import { isLargeRequest } from '../src/ingest/large-body-lane.ts';
import { buildTestApp, countStaged } from './build-test-app.ts';

/*
 * Bounded memory: while PostgreSQL cannot take staging writes, the group committer holds at most
 * a tenant's share of events (50,000 by default, decision 0122) and answers that tenant 503 at once
 * past it, instead of buffering every request that arrives; its neighbours are still taken. What it
 * held is stored once PostgreSQL answers again.
 */
t.test("a stalled staging table fills a tenant's share of the committer, then its requests get 503 at once", async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  t.equal(HELD_EVENTS_PER_TENANT, 50_000, 'the default share');
  const post = (payload: unknown, apiKey = ctx.tenant.apiKey) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}` }, payload: payload as object });
  const held = async () => Number(/^strata_ingest_held_events\S* (\d+)/m.exec((await ctx.app.inject('/metrics')).body)?.[1]);
  // 400 events, ~28 KB: not large, so every request reaches the committer at once (large ones would
  // wait for their turn in the large-body lane before it, about 1 MiB of them at a time: decision 0123).
  const request = (r: number) => ({
    events: Array.from({ length: 400 }, (_, i) => ({ device: `stall-${i % 10}`, id: `${r}-${i}`, ts: 1750240800 + i, values: { v: i } })),
  });
  t.notOk(isLargeRequest(JSON.stringify(request(99)).length * JSON_BYTES_PER_CHAR), 'the bodies are not large');

  // Staging writes block behind this lock as they would behind a stalled or overloaded server.
  const locker = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE staging_events IN ACCESS EXCLUSIVE MODE');

  const answers = Array.from({ length: 125 }, (_, r) => post(request(r)));
  const deadline = Date.now() + 5000;
  while ((await held()) < 50_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await held(), 50_000, '125 requests of 400 events are held, waiting for PostgreSQL');

  const started = Date.now();
  const refused = await post(request(125));
  t.ok(Date.now() - started < 2000, 'the next one is answered at once, not when PostgreSQL answers');
  t.equal(refused.statusCode, 503, refused.body);
  t.equal(refused.json().error.code, 'unavailable');
  t.equal(refused.headers['retry-after'], '1');
  t.match(refused.json().error.message, /this tenant's earlier events are still waiting to be stored/);
  t.equal(await held(), 50_000, 'and is not held');
  const small = await post({ device: 'stall-small', id: 'x', ts: 1750240800, values: { v: 1 } });
  t.equal(small.statusCode, 503, 'past its share even one event of the tenant is refused');

  const neighbour = await createTenant(ctx.db, 'held neighbour');
  const neighbours = post(request(127), neighbour.apiKey);
  const later = Date.now() + 5000;
  while ((await held()) < 50_400 && Date.now() < later) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await held(), 50_400, "the neighbour's request is held, not refused");

  await locker.query('ROLLBACK');
  const statuses = (await Promise.all(answers)).map((response) => response.statusCode);
  t.same(statuses, new Array(125).fill(202), 'what was held is acknowledged once PostgreSQL answers');
  t.equal((await neighbours).statusCode, 202, 'so is the neighbour');
  t.equal(await countStaged(ctx.db), 50_400, 'staged exactly once; the refused requests left nothing');
  t.equal(await held(), 0);
  t.equal((await post(request(126))).statusCode, 202, 'and requests are taken again');
});
