import t from 'tap';
import type { SourceCandidate } from '../model/source-candidate.ts';
import { chooseSources, type AvailableSources, type ReplicaStatus } from './choose-sources.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { sourceLabel } from '../model/read-source.ts';

const options = (overrides: Partial<ReadOptions> = {}): ReadOptions => ({
  consistency: 'eventual',
  afterBatchId: undefined,
  maxStalenessMs: 3000,
  ...overrides,
});
const replica = (name: string, lagMs: number, overrides: Partial<ReplicaStatus> = {}): ReplicaStatus => ({
  name,
  lagMs,
  healthy: true,
  breaker: 'closed',
  ...overrides,
});
/**
 * A chain as text: `replica:a?` marks a replica that must check the token before reading;
 * `primary+staged` a source that must merge still-staged events into what it reads.
 */
const labels = (chain: SourceCandidate[]): string[] =>
  chain.map((c) => sourceLabel(c.source) + (c.verifyAfter ? '?' : '') + (c.includeStaged ? '+staged' : ''));

const fleet = [replica('b', 200), replica('a', 50), replica('slow', 10_000), replica('down', 0, { healthy: false })];

interface Case {
  name: string;
  options: Partial<ReadOptions>;
  available: AvailableSources;
  expected: string[];
}

const cases: Case[] = [
  { name: 'eventual, no replicas', options: {}, available: { cache: true, replicas: [] }, expected: ['primary'] },
  { name: 'strong never uses a replica', options: { consistency: 'strong' }, available: { cache: true, replicas: fleet }, expected: ['primary+staged'] },
  { name: 'strong never uses the cache', options: { consistency: 'strong' }, available: { cache: true, replicas: [] }, expected: ['primary+staged'] },
  { name: 'eventual: least lagged first, within the bound, unhealthy out', options: {}, available: { cache: true, replicas: fleet }, expected: ['replica:a', 'replica:b', 'primary'] },
  { name: 'eventual: a tighter bound drops the laggier replica', options: { maxStalenessMs: 100 }, available: { cache: false, replicas: fleet }, expected: ['replica:a', 'primary'] },
  { name: 'eventual: lag equal to the bound is within it', options: { maxStalenessMs: 200 }, available: { cache: false, replicas: fleet }, expected: ['replica:a', 'replica:b', 'primary'] },
  { name: 'eventual: bound 0 reads the primary', options: { maxStalenessMs: 0 }, available: { cache: false, replicas: fleet }, expected: ['primary'] },
  { name: 'eventual: unknown lag (Infinity) is never within a bound', options: { maxStalenessMs: 86_400_000 }, available: { cache: false, replicas: [replica('new', Infinity)] }, expected: ['primary'] },
  { name: 'eventual: equal lag, name breaks the tie', options: {}, available: { cache: false, replicas: [replica('z', 10), replica('y', 10)] }, expected: ['replica:y', 'replica:z', 'primary'] },
  { name: 'eventual: an open breaker rules a replica out', options: {}, available: { cache: false, replicas: [replica('a', 1, { breaker: 'open' }), replica('b', 2)] }, expected: ['replica:b', 'primary'] },
  { name: 'eventual: a half-open breaker (probe on trial) rules it out', options: {}, available: { cache: false, replicas: [replica('a', 1, { breaker: 'half-open' })] }, expected: ['primary'] },
  { name: 'token: unknown applied-ness is kept and checked on the replica', options: { afterBatchId: 'x' }, available: { cache: false, replicas: [replica('a', 10), replica('b', 20)] }, expected: ['replica:a?', 'replica:b?', 'primary+staged'] },
  { name: 'token: known applied needs no check; known not applied is out', options: { afterBatchId: 'x' }, available: { cache: false, replicas: [replica('a', 10, { appliedAfter: false }), replica('b', 20, { appliedAfter: true }), replica('c', 5)] }, expected: ['replica:c?', 'replica:b', 'primary+staged'] },
  { name: 'token: the staleness bound still applies', options: { afterBatchId: 'x', maxStalenessMs: 15 }, available: { cache: false, replicas: [replica('a', 10, { appliedAfter: true }), replica('b', 20, { appliedAfter: true })] }, expected: ['replica:a', 'primary+staged'] },
  { name: 'no token: applied-ness is irrelevant', options: {}, available: { cache: false, replicas: [replica('a', 10, { appliedAfter: false })] }, expected: ['replica:a', 'primary'] },
  { name: 'cache: first when available, then as eventual', options: { consistency: 'cache' }, available: { cache: true, replicas: fleet }, expected: ['cache', 'replica:a', 'replica:b', 'primary'] },
  { name: 'cache: unavailable (down, breaker open, or no cache for this read) reads as eventual', options: { consistency: 'cache' }, available: { cache: false, replicas: fleet }, expected: ['replica:a', 'replica:b', 'primary'] },
  { name: 'cache: a token skips the cache (it cannot be checked there)', options: { consistency: 'cache', afterBatchId: 'x' }, available: { cache: true, replicas: [replica('a', 10)] }, expected: ['replica:a?', 'primary+staged'] },
  { name: 'cache, no replicas', options: { consistency: 'cache' }, available: { cache: true, replicas: [] }, expected: ['cache', 'primary'] },
  { name: 'eventual never uses the cache', options: {}, available: { cache: true, replicas: [] }, expected: ['primary'] },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(labels(chooseSources(options(c.options), c.available)), c.expected);
  });
}

t.test('only the primary of a strong or token read merges staged events', async (t) => {
  for (const consistency of ['strong', 'eventual', 'cache'] as const) {
    for (const afterBatchId of [undefined, 'x']) {
      const chain = chooseSources(options({ consistency, afterBatchId }), { cache: true, replicas: fleet });
      const staged = chain.filter((c) => c.includeStaged).map((c) => sourceLabel(c.source));
      t.same(staged, consistency === 'strong' || afterBatchId !== undefined ? ['primary'] : [], `${consistency}, token ${afterBatchId ?? 'none'}`);
    }
  }
});

t.test('each candidate reports its own lag; the primary reports none', async (t) => {
  const chain = chooseSources(options(), { cache: false, replicas: fleet });
  t.same(chain.map((c) => c.lagMs), [50, 200, 0]);
  t.equal(chooseSources(options({ afterBatchId: 'x' }), { cache: false, replicas: [replica('a', 1)] })[0]?.verifyAfter, 'x');
});
