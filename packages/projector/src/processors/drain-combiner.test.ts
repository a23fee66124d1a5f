import t from 'tap';
import { DrainCombiner } from './drain-combiner.ts';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
};

t.test('an item starts at once when a drain is free; items arriving meanwhile combine into the next drain', async (t) => {
  const drains: number[][] = [];
  const first = gate();
  const combiner = new DrainCombiner<number, string>(
    { maxInFlight: 1, maxItems: 10, maxWeight: 100 },
    async (items) => {
      drains.push(items);
      return items.map((item) => `together ${item}`);
    },
    async (item) => {
      drains.push([item]);
      if (item === 1) await first.opened;
      return `alone ${item}`;
    },
  );
  const one = combiner.submit(1, 1);
  const rest = [2, 3, 4].map((item) => combiner.submit(item, 1));
  t.same(drains, [[1]], 'the first item did not wait for company');
  first.open();
  t.equal(await one, 'alone 1');
  t.same(await Promise.all(rest), ['together 2', 'together 3', 'together 4']);
  t.same(drains, [[1], [2, 3, 4]], 'the three that waited went together');
});

t.test('drains respect the item and weight bounds', async (t) => {
  const drains: number[][] = [];
  const blocker = gate();
  const combiner = new DrainCombiner<number, number>(
    { maxInFlight: 1, maxItems: 3, maxWeight: 10 },
    async (items) => {
      drains.push(items);
      return items;
    },
    async (item) => {
      drains.push([item]);
      if (item === 0) await blocker.opened;
      return item;
    },
  );
  const all = [combiner.submit(0, 1), ...[1, 2, 3, 4].map((item) => combiner.submit(item, 1)), combiner.submit(5, 9), combiner.submit(6, 1)];
  blocker.open();
  await Promise.all(all);
  t.same(drains, [[0], [1, 2, 3], [4, 5], [6]], 'three items at most; 4 + 5 weigh 10, adding 6 would pass the bound');
});

t.test('a failed combined drain runs each item alone, each with its own outcome', async (t) => {
  const blocker = gate();
  const alone: number[] = [];
  const combiner = new DrainCombiner<number, number>(
    { maxInFlight: 1, maxItems: 10, maxWeight: 100 },
    async () => {
      throw new Error('one item poisoned the drain');
    },
    async (item) => {
      alone.push(item);
      if (item === 0) await blocker.opened;
      if (item === 2) throw new Error('item 2 is bad on its own');
      return item * 10;
    },
  );
  const zero = combiner.submit(0, 1);
  const others = [1, 2, 3].map((item) => combiner.submit(item, 1));
  blocker.open();
  t.equal(await zero, 0);
  const settled = await Promise.allSettled(others);
  t.same(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.same(settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<number>).value), [10, 30]);
  t.same(alone.sort(), [0, 1, 2, 3], 'each item ran alone after the combined drain failed');
});

t.test('several drains may run at once', async (t) => {
  let running = 0;
  let most = 0;
  const combiner = new DrainCombiner<number, number>(
    { maxInFlight: 3, maxItems: 1, maxWeight: 100 },
    async (items) => items,
    async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return item;
    },
  );
  await Promise.all(Array.from({ length: 9 }, (_, i) => combiner.submit(i, 1)));
  t.equal(most, 3);
});
