import t from 'tap';
import { chooseSources, type ReplicaStatus } from './choose-sources.ts';
import { sourceLabel, type ReadOptions } from './consistency.ts';

const options = (overrides: Partial<ReadOptions> = {}): ReadOptions => ({
  consistency: 'eventual',
  afterBatchId: undefined,
  maxStalenessMs: 3000,
  ...overrides,
});
const labels = (chain: ReturnType<typeof chooseSources>): string[] => chain.map((c) => sourceLabel(c.source));
const replicas: ReplicaStatus[] = [
  { name: 'b', lagMs: 200, healthy: true },
  { name: 'a', lagMs: 50, healthy: true },
  { name: 'slow', lagMs: 10_000, healthy: true },
  { name: 'down', lagMs: 0, healthy: false },
];

t.test('no replicas: eventual and strong read the primary with no lag', async (t) => {
  t.same(chooseSources(options(), { cache: true, replicas: [] }), [{ source: { kind: 'primary' }, lagMs: 0 }]);
  t.same(labels(chooseSources(options({ consistency: 'strong' }), { cache: true, replicas })), ['primary']);
});

t.test('eventual prefers the least-lagged healthy replica within the bound, then the primary', async (t) => {
  const chain = chooseSources(options(), { cache: true, replicas });
  t.same(labels(chain), ['replica:a', 'replica:b', 'primary']);
  t.equal(chain[0]?.lagMs, 50);
  t.same(labels(chooseSources(options({ maxStalenessMs: 100 }), { cache: true, replicas })), ['replica:a', 'primary']);
  t.same(labels(chooseSources(options({ maxStalenessMs: 0 }), { cache: true, replicas })), ['primary']);
});

t.test('with a token only replicas that applied it themselves qualify', async (t) => {
  const withToken = [
    { name: 'a', lagMs: 10, healthy: true, appliedAfter: false },
    { name: 'b', lagMs: 20, healthy: true, appliedAfter: true },
    { name: 'c', lagMs: 5, healthy: true },
  ];
  t.same(labels(chooseSources(options({ afterBatchId: 'x' }), { cache: true, replicas: withToken })), ['replica:b', 'primary']);
});

t.test('cache goes first when available and no token was given', async (t) => {
  t.same(labels(chooseSources(options({ consistency: 'cache' }), { cache: true, replicas: [] })), ['cache', 'primary']);
  t.same(labels(chooseSources(options({ consistency: 'cache' }), { cache: false, replicas: [] })), ['primary']);
  t.same(labels(chooseSources(options({ consistency: 'cache', afterBatchId: 'x' }), { cache: true, replicas: [] })), ['primary']);
  t.same(labels(chooseSources(options({ consistency: 'cache' }), { cache: true, replicas })), [
    'cache',
    'replica:a',
    'replica:b',
    'primary',
  ]);
});
