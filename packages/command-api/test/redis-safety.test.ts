import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { decodeToken } from '@strata/core';
import { startPrivateRedis } from '@strata/devstack';
import { buildTestApp } from './build-test-app.ts';
import { freePort } from '@strata/testkit';

// A Redis of our own: these tests change its memory settings, which must never touch a shared one.
const dataDir = await mkdtemp(join(tmpdir(), 'strata-redis-safety-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));
const server = await startPrivateRedis({ dataDir, port: await freePort() });
t.teardown(() => server.stop());
const redisUrl = `redis://127.0.0.1:${server.port}`;
const admin = new Redis(redisUrl);
t.teardown(() => admin.quit());

const ctx = await buildTestApp(t, { redisUrl, cacheRedisUrl: redisUrl, ingestMaxWaitMs: 1 });
const post = (payload: unknown) =>
  ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ctx.tenant.apiKey}` }, payload: payload as object });

t.test('/readyz is 503 while the queue Redis may evict', async (t) => {
  t.equal((await ctx.app.inject('/readyz')).statusCode, 200);
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  const response = await ctx.app.inject('/readyz');
  t.equal(response.statusCode, 503);
  t.match(response.json().reasons.queueRedisPolicy, /allkeys-lru.*noeviction/);
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  t.equal((await ctx.app.inject('/readyz')).statusCode, 200);
});

t.test('a full Redis gets 503, never 500 or a hang, and loses nothing acknowledged', async (t) => {
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  await admin.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));
  t.teardown(() => admin.config('SET', 'maxmemory', '0'));
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 100; i++) {
    const started = Date.now();
    const response = await post({ events: Array.from({ length: 50 }, (_, j) => ({ device: `full-${i}`, id: `${j}`, ts: 1750240800 + j, values: { s: 'x'.repeat(1000) } })) });
    t.ok(Date.now() - started < 5000, 'answered promptly');
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    if (response.statusCode === 202) accepted.push(decodeToken(response.json().token) as string);
    else if (response.statusCode === 503) {
      t.equal(response.json().error.code, 'unavailable');
      t.equal(response.headers['retry-after'], '1');
    }
    if ((statuses.get(503) ?? 0) >= 3) break;
  }
  t.same([...statuses.keys()].filter((status) => status !== 202 && status !== 503), [], `only 202 and 503: ${JSON.stringify([...statuses])}`);
  t.ok((statuses.get(503) ?? 0) >= 3, 'a full Redis refuses writes');
  t.ok(accepted.length > 0, 'writes were accepted before it filled');
  for (const batchId of accepted) {
    const job = await ctx.queue.getJob(batchId);
    if (job?.data.events.length !== 50) t.fail(`acknowledged batch ${batchId} has no job`);
  }
  const staged = await ctx.db.query<{ n: number }>(`SELECT count(DISTINCT batch_id)::int AS n FROM staging_events WHERE device LIKE 'full-%'`);
  t.equal(staged.rows[0]?.n, accepted.length, 'refused batches left nothing staged; accepted ones are all there');
  await admin.config('SET', 'maxmemory', '0');
  const after = await post({ device: 'full-after', ts: 1750240800, values: { v: 1 } });
  t.equal(after.statusCode, 202, 'writes resume once Redis has room');
});
