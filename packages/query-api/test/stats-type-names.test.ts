import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { BatchEvent } from '@strata/core';
// The projector's own projection and refresher, through the testkit, with batch ids and refresh rounds
// under the test's control.
import { projectBatch, refreshAggregates } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

const MINUTE = 60_000;

t.test('stats keep event types named __proto__, constructor and toString, live and materialized', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
  const types = ['__proto__', 'constructor', 'toString', 'reading', '__proto__', 'hasOwnProperty'];
  const events: BatchEvent[] = types.map((type, i) => ({ tenantId: tenant, device: 'd', key: `i:${i}`, ts: minute + i * 1000, type, values: { v: i } }));
  await projectBatch(deps.pool, randomUUID(), events);
  const url = `/v1/stats?interval=1m&from=${new Date(minute).toISOString()}&to=${new Date(minute + MINUTE).toISOString()}`;
  const expected = JSON.parse('{"__proto__":2,"constructor":1,"hasOwnProperty":1,"reading":1,"toString":1}') as unknown;

  const live = await get(app, url, apiKey);
  t.equal(live.status, 200);
  t.same(live.body.buckets, [{ ts: new Date(minute).toISOString(), counts: expected }], 'from history, while the minute is noted');
  t.equal(Object.getOwnPropertyDescriptor(live.body.buckets[0].counts, '__proto__')?.value, 2, '__proto__ is an own count, not a prototype');

  while ((await refreshAggregates(deps.pool, { now: Date.now() })).minutes > 0);
  const stored = await get(app, url, apiKey);
  t.same(stored.body.buckets, live.body.buckets, 'the same once materialized');
  t.equal(Object.getOwnPropertyDescriptor(stored.body.buckets[0].counts, '__proto__')?.value, 2);
  const typed = await get(app, `${url}&type=__proto__`, apiKey);
  t.same(typed.body.buckets, [{ ts: new Date(minute).toISOString(), counts: JSON.parse('{"__proto__":2}') as unknown }], 'filtered by that type');
});
