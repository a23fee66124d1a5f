import t from 'tap';
import { createTenant } from '@strata/testkit';
import { buildTestApp, countStaged, type CommandTestContext } from './build-test-app.ts';

/*
 * Issue 9, hostile review: a refused body must not cost without limit. Deep nesting is refused before
 * JSON.parse (which blocks the event loop for seconds on 5 MB of `[[[[…`), invalid events count
 * against the ingest rate like valid ones, and validation stops at the report's cap.
 */

const post = (ctx: CommandTestContext, apiKey: string, payload: string, contentType = 'application/json') =>
  ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}`, 'content-type': contentType }, payload });

t.test('deeply nested bodies get 400 at once and do not stall another tenant', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const other = await createTenant(ctx.db, 'other tenant');
  const MB5 = 5 * 1024 * 1024 - 16;
  const deep = '['.repeat(MB5 / 2) + ']'.repeat(MB5 / 2);
  const deepNdjson = `{"device":"a","ts":"2026-01-01T00:00:00Z","values":{"v":1}}\n${'{"a":'.repeat(MB5 / 10)}`;
  const started = performance.now();
  const [a, b, c, valid] = await Promise.all([
    post(ctx, ctx.tenant.apiKey, deep),
    post(ctx, ctx.tenant.apiKey, deep),
    post(ctx, ctx.tenant.apiKey, deepNdjson, 'application/x-ndjson'),
    post(ctx, other.apiKey, JSON.stringify({ device: 'pump', ts: new Date().toISOString(), values: { v: 1 } })),
  ]);
  const elapsed = performance.now() - started;
  for (const response of [a, b, c]) {
    t.equal(response.statusCode, 400);
    t.same(response.json().error.details, [{ field: 'body', reason: 'nested deeper than 16 levels' }], 'the answer names the body');
  }
  t.equal(valid.statusCode, 202, "another tenant's write in parallel is accepted");
  t.ok(elapsed < 3000, `answered without parsing (${Math.round(elapsed)} ms)`);

  // Ordinary bodies past the scan threshold still pass: 2,000 events, nested as events are.
  const events = Array.from({ length: 2000 }, (_, i) => ({ device: `d${i % 10}`, ts: new Date().toISOString(), values: { v: i, s: 'x' } }));
  const large = JSON.stringify({ events });
  t.ok(large.length > 64 * 1024);
  t.equal((await post(ctx, ctx.tenant.apiKey, large)).statusCode, 202, 'a large body of normal depth is accepted');
  const ndjson = events.map((event) => JSON.stringify(event)).join('\n');
  t.equal((await post(ctx, ctx.tenant.apiKey, ndjson, 'application/x-ndjson')).statusCode, 202, 'and as NDJSON');
});

t.test('invalid events count against the ingest rate: a flood of them gets 429', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, ingestRateLimitEventsPerSecond: 100 });
  const invalid = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ device: `d${i}`, ts: 'not a date', values: { v: 1 } })));
  const first = await post(ctx, ctx.tenant.apiKey, invalid);
  t.equal(first.statusCode, 400, 'a tenant without backlog gets its one request validated');
  const second = await post(ctx, ctx.tenant.apiKey, invalid);
  t.equal(second.statusCode, 429, 'the next invalid flood is rate limited before validation');
  t.ok(Number(second.headers['retry-after']) >= 1);
  t.equal(await countStaged(ctx.db), 0);
});

t.test('validation stops at the report cap of 1,000 errors', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const invalid = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ device: `d${i}`, ts: 'not a date', values: { v: 1 } })));
  const response = await post(ctx, ctx.tenant.apiKey, invalid);
  t.equal(response.statusCode, 400);
  const { message, details } = response.json().error;
  t.equal(details.length, 1000);
  t.equal(details[0].index, 0);
  t.equal(details[999].index, 999, 'the first errors, in index order');
  t.equal(message, 'at least 1000 of 10000 events are invalid; nothing was stored');

  const ndjson = ['{"device":"a","ts":"2026-01-01T00:00:00Z","values":{"v":1}}', 'not json', '{"device":"a","ts":"nope","values":{"v":1}}', '{'].join('\n');
  const mixed = await post(ctx, ctx.tenant.apiKey, ndjson, 'application/x-ndjson');
  t.same(
    mixed.json().error.details.map((d: { index: number; field: string }) => [d.index, d.field]),
    [[1, 'event'], [2, 'ts'], [3, 'event']],
    'NDJSON parse errors and validation errors merged in index order',
  );
  t.equal(mixed.json().error.message, '3 of 4 events are invalid; nothing was stored');
});
