import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMetricsRegistry, defineLiveWatchCommand, redisKeys, setLiveWatch, type Logger } from '@strata/core';
import { deleteKeysWithPrefix, type Teardownable } from '@strata/testkit';
import { LiveWatchHints } from '../src/cache/live-watch-hints.ts';
import { defineWriteStateCommand } from '../src/cache/write-through-states.ts';
import { createProjectorMetrics } from '../src/metrics.ts';
import { createDrainWriteThrough, type DrainWriteThrough } from '../src/processors/write-through-drain.ts';
import type { ProjectedState } from '../src/queries/project-batch.ts';

/*
 * Decision 0098's write-through under failures and races (from the hostile review of it): one
 * tenant's failed call must not cost another tenant its resend; a failed resend is counted and
 * logged as what it is; a resend is never overtaken by a later write of the same tenant.
 * Failures are Redis' own: a key of the wrong type makes one script call fail.
 */
const BASE = Date.UTC(2026, 10, 20, 12);
const state = (tenantId: string, device: string, version: number, changed: string[] = ['n']): ProjectedState => ({
  tenantId, device, ts: new Date(BASE + version).toISOString(), state: { n: { v: version, t: BASE + version } },
  updatedAt: new Date(BASE).toISOString(), version, changed,
});

async function setup(t: Teardownable, hints: LiveWatchHints = new LiveWatchHints()) {
  const prefix = `test_wtf_${process.pid}_${randomBytes(4).toString('hex')}`;
  const cache = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  defineWriteStateCommand(cache);
  defineLiveWatchCommand(cache);
  t.teardown(async () => {
    await deleteKeysWithPrefix(cache, prefix);
    cache.disconnect();
  });
  // A recorder of what the projector logs (the messages are asserted, not printed).
  const warnings: { tenantId?: string; message: string }[] = [];
  const logger = { warn: (fields: { tenantId?: string }, message: string) => warnings.push({ tenantId: fields.tenantId, message }) } as unknown as Logger;
  const metrics = createProjectorMetrics(createMetricsRegistry('projector'));
  const writeThrough: DrainWriteThrough = createDrainWriteThrough({ cache, logger, metrics, options: { prefix, ttlSeconds: 60, liveStreamMaxBytes: 1 << 20, hints } });
  const counts = async () => {
    const of = async (counter: { get(): Promise<{ values: { labels: Record<string, string | number | undefined>; value: number }[] }> }, label: string, value: string) =>
      (await counter.get()).values.find((entry) => entry.labels[label] === value)?.value ?? 0;
    return {
      written: await of(metrics.cacheWrites, 'outcome', 'written'),
      error: await of(metrics.cacheWrites, 'outcome', 'error'),
      resent: await of(metrics.liveDeltaResends, 'result', 'sent'),
      resendFailed: await of(metrics.liveDeltaResends, 'result', 'failed'),
    };
  };
  const logged = async (tenantId: string) =>
    (await cache.xrange(redisKeys.liveStream(prefix, tenantId), '-', '+')).map(([, fields]) => JSON.parse(fields[1] as string) as { device: string; version: number });
  return { prefix, cache, hints, warnings, writeThrough, counts, logged };
}

t.test("one tenant's failed call does not cost another tenant its resend", async (t) => {
  const s = await setup(t);
  await s.writeThrough([state('B', 'd', 1)]);
  t.equal(s.hints.encodeDeltas('B'), false, 'B reported unwatched');
  await setLiveWatch(s.cache, s.prefix, 'B', 300); // a client of B is answered
  await s.cache.set(redisKeys.deviceState(s.prefix, 'A', 'x'), 'not a hash'); // A's call will fail
  await s.writeThrough([state('A', 'x', 1), state('B', 'd', 2)]);
  t.equal(await s.cache.hget(redisKeys.deviceState(s.prefix, 'B', 'd'), 'v'), '2', "B's cache entry written");
  t.same((await s.logged('B')).map((m) => m.version), [2], "B's update logged for its client");
  t.same(await s.counts(), { written: 2, error: 1, resent: 1, resendFailed: 0 }, "A's state alone counted as an error");
  t.equal(s.hints.encodeDeltas('B'), true, 'B now believed watched');
  t.same(s.warnings.map((w) => w.tenantId), ['A'], "one warning, naming A's tenant");
});

t.test('a failed resend is counted and logged as live updates not logged, not as a failed cache write', async (t) => {
  const s = await setup(t);
  await s.writeThrough([state('B', 'd', 1)]);
  await setLiveWatch(s.cache, s.prefix, 'B', 300);
  // The stream key holding the wrong type: the call without deltas succeeds, the resend (which logs) fails.
  await s.cache.set(redisKeys.liveStream(s.prefix, 'B'), 'not a stream');
  await s.writeThrough([state('B', 'd', 2), state('B', 'e', 2)]);
  t.equal(await s.cache.hget(redisKeys.deviceState(s.prefix, 'B', 'e'), 'v'), '2', 'the cache was written');
  t.same(await s.counts(), { written: 3, error: 0, resent: 0, resendFailed: 1 });
  t.equal(s.warnings.length, 1);
  t.match(s.warnings[0]?.message, /live updates not logged/);
});

t.test('a resend is not overtaken by a later write of the same tenant', async (t) => {
  // A later drain's write for B starts the moment an earlier reply says B is watched (two drains in
  // flight): it must reach the stream after the resend of the older version, not before it.
  let writeThrough: DrainWriteThrough = async () => {};
  let later: Promise<void> | undefined;
  class RacingHints extends LiveWatchHints {
    override learn(tenantId: string, watched: boolean): void {
      super.learn(tenantId, watched);
      if (watched && !later) later = writeThrough([state('B', 'd', 6)]);
    }
  }
  const s = await setup(t, new RacingHints());
  writeThrough = s.writeThrough;
  await s.writeThrough([state('B', 'e', 1)]);
  await setLiveWatch(s.cache, s.prefix, 'B', 300);
  await Promise.all([s.writeThrough([state('B', 'e', 2)]), s.writeThrough([state('B', 'd', 5)])]);
  await later;
  t.same((await s.logged('B')).filter((m) => m.device === 'd').map((m) => m.version), [5, 6], 'per-device order on the live stream');
  t.equal(s.hints.settled('B'), undefined, 'no call of B left unsettled');
});

t.test('a call whose states changed nothing is not resent', async (t) => {
  const s = await setup(t);
  await s.writeThrough([state('B', 'd', 1)]);
  await setLiveWatch(s.cache, s.prefix, 'B', 300);
  await s.writeThrough([state('B', 'd', 2, [])]);
  t.same(await s.counts(), { written: 2, error: 0, resent: 0, resendFailed: 0 });
  t.same(await s.logged('B'), [], 'nothing to log');
  t.equal(s.hints.encodeDeltas('B'), true, 'the reply still taught the hint');
});

t.test('the cache Redis unreachable: the write-through settles, every state counted as an error', async (t) => {
  const s = await setup(t);
  const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, commandTimeout: 2000 });
  down.on('error', () => {});
  defineWriteStateCommand(down);
  t.teardown(() => down.disconnect());
  const metrics = createProjectorMetrics(createMetricsRegistry('projector'));
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  const writeThrough = createDrainWriteThrough({ cache: down, logger, metrics, options: { prefix: s.prefix, ttlSeconds: 60, liveStreamMaxBytes: 1 << 20, hints: new LiveWatchHints() } });
  await t.resolves(writeThrough([state('B', 'd', 1), state('C', 'd', 1)]), 'never rejects: jobs complete, the database is the truth');
  t.equal((await metrics.cacheWrites.get()).values.find((v) => v.labels.outcome === 'error')?.value, 2);
  t.equal(warnings.length, 2, 'one warning per failed call');
});
