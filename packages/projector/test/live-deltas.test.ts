import t from 'tap';
import { randomUUID } from 'node:crypto';
import { CACHED_STATE_FIELDS, INGEST_JOB, redisKeys, type BatchEvent } from '@strata/core';
import { startTestProjector } from './start-test-projector.ts';

/*
 * Issue 9, finding 3: a device with thousands of values turned every small write into its whole
 * state on the live stream (1.5 KB of writes became 10.7 MB of Redis stream).
 */
const LIVE_STREAM_MAX_BYTES = 64 * 1024;
const BASE = Date.UTC(2026, 10, 20, 12);

t.test('live updates carry only the changed values, and the stream stays under its byte cap', async (t) => {
  const ctx = await startTestProjector(t, { liveStreamMaxBytes: LIVE_STREAM_MAX_BYTES });
  const messages = await ctx.subscribeLive();
  await ctx.watchLive(); // as query-api does while the tenant has a live client (decision 0087)

  const wide: Record<string, string> = {};
  for (let k = 0; k < 2000; k++) wide[`key${k}`] = `value-${k}-${'x'.repeat(20)}`;
  const event = (i: number, values: BatchEvent['values']): BatchEvent => ({
    tenantId: ctx.tenant, device: 'wide', key: `i:${i}`, ts: BASE + i * 1000, type: 'reading', values,
  });
  const batches = [[event(0, wide)], ...Array.from({ length: 120 }, (_, i) => [event(i + 1, { key7: `changed ${i} ${'y'.repeat(800)}` })])];
  const ids = batches.map(() => randomUUID());
  // In order, one at a time: each projection is one live update of one changed value.
  for (const [i, events] of batches.entries()) {
    await ctx.queue.add(INGEST_JOB, { batchId: ids[i]!, acceptedAt: Date.now(), events }, { jobId: ids[i]! });
    for (let n = 0; n < 400 && !(await ctx.db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [ids[i]])).rowCount; n++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  for (let n = 0; n < 200 && messages.length < batches.length; n++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(messages.length, batches.length, 'one live update per projection');

  const first = JSON.parse(messages[0]!);
  t.equal(first.truncated, true, 'an update larger than the message bound is sent as a notice to re-read');
  t.equal(first.changed, 2000);
  t.ok(messages[0]!.length < 1024, `the notice is small (${messages[0]!.length} bytes)`);
  const updates = messages.slice(1).map((message) => JSON.parse(message));
  t.ok(updates.every((u, i) => Object.keys(u.values).length === 1 && u.values.key7 === `changed ${i} ${'y'.repeat(800)}`), 'each carries only the changed value');
  t.ok(updates.every((u, i) => u.times.key7 === new Date(BASE + (i + 1) * 1000).toISOString() && u.ts === u.times.key7), '… with its event time');
  const largest = Math.max(...messages.map((message) => Buffer.byteLength(message)));
  t.ok(largest <= 1024, `no live message passes the bound (largest ${largest} bytes)`);

  const stream = redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant);
  const memory = Number(await ctx.deps.cache.call('MEMORY', 'USAGE', stream, 'SAMPLES', '0'));
  const length = await ctx.deps.cache.xlen(stream);
  const counted = Number(await ctx.deps.cache.get(redisKeys.liveStreamBytes(ctx.config.redisPrefix, ctx.tenant)));
  t.ok(length < batches.length, `the oldest entries were trimmed (${length} of ${batches.length} kept)`);
  t.ok(counted <= LIVE_STREAM_MAX_BYTES, `counted bytes under the cap (${counted})`);
  t.ok(memory <= LIVE_STREAM_MAX_BYTES, `the stream's memory is under the cap (${memory} bytes, ${length} entries)`);
  const entries = await ctx.deps.cache.xrange(stream, '-', '+');
  t.equal(entries.at(-1)?.[0], JSON.parse(messages.at(-1)!).id, 'the newest update is kept');
  const cached = JSON.parse((await ctx.deps.cache.hget(redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, 'wide'), CACHED_STATE_FIELDS.body)) as string);
  t.equal(Object.keys(cached.values).length, 2000, 'the cache keeps whole states (one key per device)');

  // A lost byte count is rebuilt from the stream, not restarted from zero.
  await ctx.deps.cache.del(redisKeys.liveStreamBytes(ctx.config.redisPrefix, ctx.tenant));
  const id = randomUUID();
  await ctx.queue.add(INGEST_JOB, { batchId: id, acceptedAt: Date.now(), events: [event(500, { key8: 'z'.repeat(900) })] }, { jobId: id });
  for (let n = 0; n < 400 && !(await ctx.db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [id])).rowCount; n++) await new Promise((r) => setTimeout(r, 10));
  const recounted = Number(await ctx.deps.cache.get(redisKeys.liveStreamBytes(ctx.config.redisPrefix, ctx.tenant)));
  t.ok(recounted > counted / 2 && recounted <= LIVE_STREAM_MAX_BYTES, `recounted (${recounted})`);
});

t.test('a tenant nobody watches gets no live writes; once watched, every update is logged and published', async (t) => {
  // Decision 0087: the projector logs and publishes a tenant's updates only while its watch key exists
  // (query-api keeps it while the tenant has a live client, and LIVE_RESUME_SECONDS after).
  const ctx = await startTestProjector(t);
  const messages = await ctx.subscribeLive();
  const stream = redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant);
  const cachedValue = async (device: string): Promise<unknown> =>
    JSON.parse((await ctx.deps.cache.hget(redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, device), CACHED_STATE_FIELDS.body)) as string).values.n;

  await ctx.project([{ device: 'quiet', ts: BASE, values: { n: 1 } }]);
  t.equal(await cachedValue('quiet'), 1, 'unwatched: the cache is written through');
  t.equal(await ctx.deps.cache.xlen(stream), 0, 'unwatched: nothing logged');

  // Another tenant's watch key is not this tenant's.
  await ctx.watchLive('00000000-0000-4000-8000-00000000abcd');
  await ctx.project([{ device: 'quiet', ts: BASE + 1000, values: { n: 2 } }]);
  t.equal(await ctx.deps.cache.xlen(stream), 0, "another tenant's watch key: nothing logged");

  await ctx.watchLive();
  await ctx.project([{ device: 'quiet', ts: BASE + 2000, values: { n: 3 } }, { device: 'loud', ts: BASE + 2000, values: { n: 4 } }]);
  await ctx.project([{ device: 'quiet', ts: BASE + 3000, values: { n: 5 } }]);
  for (let n = 0; n < 100 && messages.length < 3; n++) await new Promise((resolve) => setTimeout(resolve, 20));
  const entries = await ctx.deps.cache.xrange(stream, '-', '+');
  t.same(new Set(entries.map(([, fields]) => JSON.parse(fields[1] as string).values.n)), new Set([3, 4, 5]), 'watched: every update logged');
  t.same(new Set(messages.map((message) => JSON.parse(message).values.n)), new Set([3, 4, 5]), 'watched: every update published');
  t.same(messages.map((message) => JSON.parse(message).id), entries.map(([id]) => id), '… with the ids of its entries, in order');

  // A mark whose deadline has passed (epoch ms of Redis's clock) is no mark.
  const [seconds] = await ctx.deps.cache.time();
  await ctx.deps.cache.set(redisKeys.liveWatch(ctx.config.redisPrefix, ctx.tenant), String(Number(seconds) * 1000 - 1));
  await ctx.project([{ device: 'quiet', ts: BASE + 4000, values: { n: 6 } }]);
  t.equal(await cachedValue('quiet'), 6);
  t.equal(await ctx.deps.cache.xlen(stream), 3, 'the mark lapsed: nothing more logged');
  t.equal(messages.length, 3, '… nor published');
  await ctx.deps.cache.del(redisKeys.liveWatch(ctx.config.redisPrefix, ctx.tenant));
  await ctx.project([{ device: 'quiet', ts: BASE + 5000, values: { n: 7 } }]);
  t.equal(await ctx.deps.cache.xlen(stream), 3, 'no mark: nothing logged');
  await ctx.watchLive();
  t.equal(await ctx.deps.cache.ttl(redisKeys.liveWatch(ctx.config.redisPrefix, ctx.tenant)), -1, 'a mark has no TTL: no volatile-* eviction policy can pick it');
});

t.test('a tenant last reported unwatched gets no deltas encoded, and a client arriving meanwhile misses nothing', async (t) => {
  // Decision 0098: the script reports the watch mark on every call; while it last said "unwatched" the
  // projector sends states without deltas, and a call that finds the tenant watched after all is sent
  // again with them.
  const ctx = await startTestProjector(t);
  const messages = await ctx.subscribeLive();
  const stream = redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant);
  const counted = async (): Promise<{ encoded: number; skipped: number; resent: number }> => {
    const deltas = (await ctx.deps.metrics.liveDeltas.get()).values;
    const of = (outcome: string): number => deltas.find((value) => value.labels.outcome === outcome)?.value ?? 0;
    return { encoded: of('encoded'), skipped: of('skipped'), resent: (await ctx.deps.metrics.liveDeltaResends.get()).values.find((value) => value.labels.result === 'sent')?.value ?? 0 };
  };

  await ctx.project([{ device: 'd1', ts: BASE, values: { n: 1 } }, { device: 'd2', ts: BASE, values: { n: 1 } }]);
  t.same(await counted(), { encoded: 2, skipped: 0, resent: 0 }, 'a tenant never reported: its deltas are encoded (the script drops them)');
  await ctx.project([{ device: 'd1', ts: BASE + 1000, values: { n: 2 } }]);
  t.same(await counted(), { encoded: 2, skipped: 1, resent: 0 }, 'reported unwatched: the next drain encodes no delta');
  t.equal(await ctx.deps.cache.xlen(stream), 0, 'nothing logged');

  // A client arrives (query-api marks the tenant before answering it); the projector still believes the
  // tenant unwatched, so its next call carries no deltas, finds the mark and is sent again with them.
  await ctx.watchLive();
  await ctx.project([{ device: 'd1', ts: BASE + 2000, values: { n: 3 } }, { device: 'd2', ts: BASE + 2000, values: { n: 3 } }]);
  t.same(await counted(), { encoded: 4, skipped: 1, resent: 1 }, 'found watched: the call is sent again with its deltas (encoded then)');
  const logged = async (): Promise<unknown[]> => (await ctx.deps.cache.xrange(stream, '-', '+')).map(([, fields]) => JSON.parse(fields[1] as string).values.n);
  t.same(await logged(), [3, 3], 'the drain that found the mark is logged');
  for (let n = 0; n < 100 && messages.length < 2; n++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(messages.map((message) => JSON.parse(message).values.n), [3, 3], '… and published');
  const cached = await ctx.deps.cache.hget(redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, 'd2'), CACHED_STATE_FIELDS.body);
  t.equal(JSON.parse(cached as string).values.n, 3, 'the cache was written by the first call');

  await ctx.project([{ device: 'd2', ts: BASE + 3000, values: { n: 4 } }]);
  t.same(await counted(), { encoded: 5, skipped: 1, resent: 1 }, 'reported watched: deltas encoded again, one call');
  t.same(await logged(), [3, 3, 4]);

  // The mark lapses: the next call learns it, and the one after skips encoding again.
  await ctx.deps.cache.del(redisKeys.liveWatch(ctx.config.redisPrefix, ctx.tenant));
  await ctx.project([{ device: 'd2', ts: BASE + 4000, values: { n: 5 } }]);
  await ctx.project([{ device: 'd2', ts: BASE + 5000, values: { n: 6 } }]);
  t.same(await counted(), { encoded: 6, skipped: 2, resent: 1 });
  t.same(await logged(), [3, 3, 4], 'nothing logged once the mark lapsed');
});
