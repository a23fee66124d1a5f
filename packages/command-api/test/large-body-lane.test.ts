import t from 'tap';
import { AppError } from '@strata/core';
import { LargeBodyLane } from '../src/ingest/large-body-lane.ts';

/* Decision 0123: large requests processed a budget's worth at a time per process, tenants taking turns. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** Capacity 100: a request of 100 or more goes alone. */
const lane100 = (maxWaitMs = 10_000) => new LargeBodyLane({ capacityBytes: 100, maxWaitMs });

t.test('a request of the whole capacity goes alone: the next waits until the first gives its turn back', async (t) => {
  const lane = lane100();
  const first = await lane.enter('a', 100);
  let second: (() => void) | undefined;
  void lane.enter('a', 5_000).then((release) => (second = release));
  await settle();
  t.equal(second, undefined, 'the second waits');
  t.same([lane.processing, lane.waiting], [1, 1]);
  first();
  first();
  await settle();
  t.type(second, 'function', 'and goes once the first is done, larger than the capacity as it is');
  t.same([lane.processing, lane.waiting], [1, 0], 'giving a turn back twice frees it once');
  second?.();
  t.same([lane.processing, lane.waiting], [0, 0]);
});

t.test('smaller requests share the capacity; a waiting larger one is not overtaken by smaller ones', async (t) => {
  const lane = lane100();
  const [a, b] = await Promise.all([lane.enter('a', 40), lane.enter('b', 40)]);
  t.equal(lane.processing, 2, 'two of 40 at once');
  const order: string[] = [];
  const large = lane.enter('c', 100).then((release) => (order.push('c'), release));
  const small = lane.enter('d', 10).then((release) => (order.push('d'), release));
  await settle();
  t.same([lane.processing, lane.waiting, order], [2, 2, []], 'the 100 waits, and the 10 waits behind it though it would fit');
  a();
  await settle();
  t.same(order, [], 'still no room for the 100');
  b();
  (await large)();
  (await small)();
  t.same(order, ['c', 'd'], 'the 100 first, then the 10');
  t.throws(() => lane.enter('e', -1), TypeError, 'a size that is not a non-negative integer is a bug');
  t.throws(() => lane.enter('e', Number.NaN), TypeError);
});

t.test("tenants take turns: a neighbour's request goes next, not after a busy tenant's queue", async (t) => {
  const lane = lane100();
  const order: string[] = [];
  const take = (tenant: string, n: number) =>
    lane.enter(tenant, 100).then((release) => {
      order.push(`${tenant}${n}`);
      setImmediate(release);
    });
  const held = await lane.enter('busy', 100);
  const all = [take('busy', 1), take('busy', 2), take('busy', 3), take('quiet', 1), take('other', 1), take('quiet', 2)];
  held();
  await Promise.all(all);
  t.same(order, ['quiet1', 'other1', 'busy1', 'quiet2', 'busy2', 'busy3'], 'busy had the turn just given back: the others go first, each tenant in its own order');
});

t.test('a request that waits past maxWaitMs is refused with 503, leaves the queue, and lets smaller ones behind it go', async (t) => {
  const lane = lane100(30);
  const held = await lane.enter('a', 60);
  const refused = lane.enter('b', 100).catch((error: unknown) => error);
  let small: (() => void) | undefined;
  void lane.enter('c', 30).then((release) => (small = release));
  const error = await refused;
  t.ok(error instanceof AppError && error.status === 503 && error.headers?.['retry-after'] === '1', '503 with Retry-After');
  await settle();
  t.type(small, 'function', 'the 30 that waited behind it goes: it fits beside the 60');
  t.same([lane.processing, lane.waiting], [2, 0]);
  held();
  small?.();
  t.equal(lane.processing, 0);
});

t.test('a tenant sending one request at a time gets its share of turns, not every other one', async (t) => {
  const lane = new LargeBodyLane({ capacityBytes: 100, maxWaitMs: 60_000 });
  const turns = new Map<string, number>();
  const count = (tenant: string) => turns.set(tenant, (turns.get(tenant) ?? 0) + 1);
  const held = await lane.enter('start', 100);
  // B, C and D each have 20 waiting; A has one at a time, sending the next as soon as one is done.
  const queued = ['b', 'c', 'd'].flatMap((tenant) => Array.from({ length: 20 }, () => lane.enter(tenant, 100).then((release) => (count(tenant), setImmediate(release)))));
  let done = false;
  const oneAtATime = async () => {
    while (!done) {
      const release = await lane.enter('a', 100);
      count('a');
      setImmediate(release);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const a = oneAtATime();
  held();
  await Promise.all(queued);
  done = true;
  await a;
  const share = (turns.get('a') ?? 0) / ((turns.get('a') ?? 0) + 60);
  t.ok(share <= 0.3, `A had ${turns.get('a')} turns while B, C and D had 60: ${(share * 100).toFixed(0)} %, a quarter or so, not half`);
});

t.test('the capacity must be a positive integer', async (t) => {
  for (const capacityBytes of [0, -1, 1.5, Number.NaN]) t.throws(() => new LargeBodyLane({ capacityBytes, maxWaitMs: 1 }), TypeError, `${capacityBytes}`);
});
