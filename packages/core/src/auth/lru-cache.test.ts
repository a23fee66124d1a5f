import t from 'tap';
import { LruCache } from './lru-cache.ts';

t.test('evicts the least recently used entry, not the oldest inserted', async (t) => {
  const cache = new LruCache<string, number>(3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  t.equal(cache.get('a'), 1, 'a is used, so b is now the eldest');
  cache.set('d', 4);
  t.equal(cache.get('b'), undefined, 'b evicted');
  t.equal(cache.get('a'), 1);
  t.equal(cache.get('c'), 3);
  t.equal(cache.get('d'), 4);
  t.equal(cache.size, 3);
});

t.test('a key used between every few of 20k new keys stays; the bound holds', async (t) => {
  const cache = new LruCache<string, string>(100);
  cache.set('real', 'tenant');
  for (let i = 0; i < 20_000; i++) {
    cache.set(`spray${i}`, 'x');
    if (i % 50 === 0) t.equal(cache.get('real'), 'tenant');
  }
  t.equal(cache.get('real'), 'tenant');
  t.equal(cache.size, 100);
});

t.test('deleteWhere and clear', async (t) => {
  const cache = new LruCache<string, { key: string }>(10);
  cache.set('x', { key: 'k1' });
  cache.set('y', { key: 'k2' });
  cache.set('z', { key: 'k1' });
  cache.deleteWhere((value) => value.key === 'k1');
  t.equal(cache.size, 1);
  t.same(cache.get('y'), { key: 'k2' });
  cache.clear();
  t.equal(cache.size, 0);
  t.throws(() => new LruCache(0), RangeError);
});
