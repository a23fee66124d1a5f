import t from 'tap';
import { AppError } from '@strata/core';
import { LargeBodyLane } from '../src/ingest/large-body-lane.ts';

/* Decision 0123: large requests one at a time per process, tenants taking turns. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('one slot: the next body waits until the first gives its turn back', async (t) => {
  const lane = new LargeBodyLane({ slots: 1, maxWaitMs: 10_000 });
  const first = await lane.enter('a');
  let second: (() => void) | undefined;
  void lane.enter('a').then((release) => (second = release));
  await settle();
  t.equal(second, undefined, 'the second waits');
  t.same([lane.processing, lane.waiting], [1, 1]);
  first();
  first();
  await settle();
  t.type(second, 'function', 'and goes once the first is done');
  t.same([lane.processing, lane.waiting], [1, 0], 'giving a turn back twice frees one slot only');
  second?.();
  t.same([lane.processing, lane.waiting], [0, 0]);
});

t.test("tenants take turns: a neighbour's body goes next, not after a busy tenant's queue", async (t) => {
  const lane = new LargeBodyLane({ slots: 1, maxWaitMs: 10_000 });
  const order: string[] = [];
  const take = (tenant: string, n: number) =>
    lane.enter(tenant).then((release) => {
      order.push(`${tenant}${n}`);
      setImmediate(release);
    });
  const held = await lane.enter('busy');
  const all = [take('busy', 1), take('busy', 2), take('busy', 3), take('quiet', 1), take('other', 1), take('quiet', 2)];
  held();
  await Promise.all(all);
  t.same(order, ['quiet1', 'other1', 'busy1', 'quiet2', 'busy2', 'busy3'], 'the tenant served longest ago goes next (busy had the turn just given back), each tenant in its own order');
});

t.test('a body that waits past maxWaitMs is refused with 503 and leaves the queue', async (t) => {
  const lane = new LargeBodyLane({ slots: 1, maxWaitMs: 30 });
  const held = await lane.enter('a');
  const refused = await lane.enter('b').catch((error: unknown) => error);
  t.ok(refused instanceof AppError && refused.status === 503 && refused.headers?.['retry-after'] === '1', '503 with Retry-After');
  t.same([lane.processing, lane.waiting], [1, 0], 'not waiting any more');
  held();
  t.equal(lane.processing, 0, 'and no slot was given to it');
});

t.test('slots must be a positive integer', async (t) => {
  for (const slots of [0, -1, 1.5, Number.NaN]) t.throws(() => new LargeBodyLane({ slots, maxWaitMs: 1 }), TypeError, `${slots}`);
});

t.test('a tenant sending one body at a time gets its share of turns, not every other one', async (t) => {
  const lane = new LargeBodyLane({ slots: 1, maxWaitMs: 60_000 });
  const turns = new Map<string, number>();
  const count = (tenant: string) => turns.set(tenant, (turns.get(tenant) ?? 0) + 1);
  const held = await lane.enter('start');
  // B, C and D each have 20 waiting; A has one at a time, sending the next as soon as one is done.
  const queued = ['b', 'c', 'd'].flatMap((tenant) => Array.from({ length: 20 }, () => lane.enter(tenant).then((release) => (count(tenant), setImmediate(release)))));
  let given = 0;
  const oneAtATime = async () => {
    while (given < 40) {
      const release = await lane.enter('a');
      count('a');
      setImmediate(release);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const a = oneAtATime();
  const watch = setInterval(() => (given = [...turns.values()].reduce((sum, n) => sum + n, 0)), 0);
  held();
  await Promise.all(queued);
  given = 40;
  clearInterval(watch);
  await a;
  const share = (turns.get('a') ?? 0) / ((turns.get('a') ?? 0) + 60);
  t.ok(share <= 0.3, `A had ${turns.get('a')} turns while B, C and D had 60: ${(share * 100).toFixed(0)} %, a quarter or so, not half`);
});
