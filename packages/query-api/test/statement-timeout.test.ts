import t from 'tap';
import { systemClock } from '@strata/core';
import { Breaker } from '../src/read-routing/breaker.ts';
import { seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

// Issue 9 review: a read the database cancels for taking too long (SQLSTATE 57014) is a 503 the
// client can act on, not an `internal` 500, and it never opens a breaker.

t.test('a read that reaches the statement timeout on the primary is 503 timeout with Retry-After', async (t) => {
  const { app, deps } = await buildTestApp(t, {}, { statementTimeoutMs: 300 });
  const { tenant, apiKey } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'dev', ts: Date.now() - 1000, values: { temp: 20 } }]);
  t.equal((await get(app, '/v1/devices/dev?consistency=strong', apiKey)).status, 200, 'answers while nothing is in the way');

  // Hold the table so the read waits until its statement_timeout cancels it (as a huge read would).
  const holder = await deps.pool.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE device_state IN ACCESS EXCLUSIVE MODE');
  for (const url of ['/v1/devices/dev?consistency=strong', '/v1/devices?consistency=strong']) {
    const answer = await get(app, url, apiKey);
    t.equal(answer.status, 503, url);
    t.equal(answer.body.error.code, 'timeout');
    t.match(answer.body.error.message, /took too long/);
    t.ok(Number(answer.headers['retry-after']) > 0, 'with Retry-After');
  }
  await holder.query('ROLLBACK');
  t.equal((await get(app, '/v1/devices/dev?consistency=strong', apiKey)).status, 200, 'and answers again after');
});

t.test('statement timeouts never open a breaker; real failures still do', async (t) => {
  const { deps } = await buildTestApp(t);
  const canceled = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
  const breaker = new Breaker('replica:test', { failures: 3, halfOpenAfterMs: 60_000, timeoutMs: 1000 }, systemClock, deps.logger);
  for (let i = 0; i < 10; i++) await t.rejects(breaker.execute(() => Promise.reject(canceled)));
  t.equal(breaker.state(), 'closed', 'ten statement timeouts in a row leave the breaker closed');
  for (let i = 0; i < 3; i++) await t.rejects(breaker.execute(() => Promise.reject(new Error('connection refused'))));
  t.equal(breaker.state(), 'open', 'three real failures open it');
});
