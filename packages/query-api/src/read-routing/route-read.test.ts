import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { createLogger, systemClock, type Pool, type Queryable } from '@strata/core';
import type { ReadOptions } from '../model/read-options.ts';
import { Breaker } from './breaker.ts';
import type { ReadRouter } from './read-router.ts';
import type { ReplicaNode } from './replica-node.ts';
import { routeRead, type ReadPlan } from './route-read.ts';

const logger = createLogger('test', 'silent');
const options = (overrides: Partial<ReadOptions> = {}): ReadOptions => ({ consistency: 'eventual', afterBatchId: undefined, maxStalenessMs: 3000, ...overrides });
/** Databases are stand-ins: each plan below answers with the name of the one it was given. */
const db = (name: string) => ({ name }) as unknown as Queryable;
const nameOf = (queryable: Queryable) => (queryable as unknown as { name: string }).name;

/** A router over fakes: one replica `r` the router believes healthy and closed, and a cache. */
function fakeRouter(replicaBreaker = new Breaker('replica:r', { failures: 1, halfOpenAfterMs: 60_000, timeoutMs: 100 }, systemClock, logger)) {
  const registry = new Registry();
  const metrics = {
    replicaSkips: new Counter({ name: 'strata_query_replica_skips_total', help: 'skips', labelNames: ['replica', 'reason'], registers: [registry] }),
    cacheLookups: new Counter({ name: 'strata_query_cache_lookups_total', help: 'lookups', labelNames: ['result'], registers: [registry] }),
  };
  const node: ReplicaNode = {
    name: 'r',
    pool: db('replica') as unknown as Pool,
    genericPool: db('replica-generic') as unknown as Pool,
    breaker: replicaBreaker,
    probe: undefined,
  };
  const noted: string[] = [];
  const router: ReadRouter = {
    primary: db('primary'),
    primaryGeneric: db('primary-generic'),
    replicas: {
      statuses: () => [{ name: 'r', lagMs: 10, healthy: true, breaker: 'closed' }],
      node: (name) => (name === 'r' ? node : undefined),
    },
    cache: { connected: () => true, breaker: new Breaker('cache', { failures: 5, halfOpenAfterMs: 60_000, timeoutMs: 30 }, systemClock, logger) },
    metrics,
    sourceErrors: { note: (source) => noted.push(source) },
    clock: systemClock,
    // No plan here has a projection barrier (projection-wait.test.ts tests it on real servers).
    projection: { settle: () => Promise.reject(new Error('no plan of this test waits for projection')) },
  };
  const count = async (name: string, labels: Record<string, string>): Promise<number> =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { router, noted, count };
}

const byName: ReadPlan<string>['database'] = async (queryable, source) => `${nameOf(queryable)}${source.includeStaged ? '+staged' : ''}`;

t.test('the chosen source\'s includeStaged reaches the read: strong and token reads on the primary merge staging', async (t) => {
  const { router } = fakeRouter();
  t.same(await routeRead(router, options({ consistency: 'strong' }), { database: byName }), { value: 'primary+staged', meta: { source: 'primary', consistency: 'strong', lagMs: 0 } });
  t.equal((await routeRead(router, options(), { database: byName })).value, 'replica', 'eventual reads the replica, never staging');
});

t.test('a plan marked genericPlan runs on each source\'s generic-plan pool; others on the usual one', async (t) => {
  const { router } = fakeRouter();
  const generic = { database: byName, genericPlan: true };
  t.equal((await routeRead(router, options(), generic)).value, 'replica-generic');
  t.equal((await routeRead(router, options({ consistency: 'strong' }), generic)).value, 'primary-generic+staged');
  t.equal((await routeRead(router, options(), { database: byName })).value, 'replica');
  t.equal((await routeRead(router, options({ consistency: 'strong' }), { database: byName })).value, 'primary+staged');
});

t.test('cache lookups are counted by outcome; a hung cache is abandoned at the breaker\'s one deadline', async (t) => {
  const { router, noted, count } = fakeRouter();
  const read = (cache: () => Promise<string | undefined>) => routeRead(router, options({ consistency: 'cache' }), { database: byName, cache });
  t.same((await read(async () => 'cached')).meta.source, 'cache');
  t.equal((await read(async () => undefined)).value, 'replica', 'a miss moves on down the chain');
  t.equal((await read(() => Promise.reject(new Error('garbled')))).value, 'replica', 'so does a failure');
  const started = Date.now();
  t.equal((await read(() => sleep(1000).then(() => 'late'))).value, 'replica', 'and a cache that does not answer');
  t.ok(Date.now() - started < 500, `within the deadline (${Date.now() - started} ms)`);
  t.same([await count('strata_query_cache_lookups_total', { result: 'hit' }), await count('strata_query_cache_lookups_total', { result: 'miss' }), await count('strata_query_cache_lookups_total', { result: 'error' })], [1, 1, 2]);
  t.same(noted, ['cache', 'cache']);
});

t.test('a replica whose breaker opened after the chain was chosen is skipped as `breaker`, not logged as failing', async (t) => {
  const breaker = new Breaker('replica:r', { failures: 1, halfOpenAfterMs: 60_000, timeoutMs: 100 }, systemClock, logger);
  await t.rejects(breaker.execute(() => Promise.reject(new Error('connection refused'))));
  const { router, noted, count } = fakeRouter(breaker);
  t.equal((await routeRead(router, options(), { database: byName })).value, 'primary');
  t.equal(await count('strata_query_replica_skips_total', { replica: 'r', reason: 'breaker' }), 1);
  t.same(noted, []);
});

t.test('a failing replica is skipped as `error` and logged; a data exception is the client\'s 400 at once', async (t) => {
  const { router, noted, count } = fakeRouter();
  const failing: ReadPlan<string>['database'] = async (queryable, source) => {
    if (nameOf(queryable) === 'replica') throw new Error('connection reset');
    return byName(queryable, source);
  };
  t.equal((await routeRead(router, options(), { database: failing })).value, 'primary');
  t.equal(await count('strata_query_replica_skips_total', { replica: 'r', reason: 'error' }), 1);
  t.same(noted, ['replica:r']);
  const cast = Object.assign(new Error('invalid input syntax for type timestamp'), { code: '22007' });
  await t.rejects(routeRead(router, options(), { database: () => Promise.reject(cast) }), { status: 400, code: 'invalid_request' });
  t.equal(await count('strata_query_replica_skips_total', { replica: 'r', reason: 'error' }), 1, 'not counted against the replica');
});
