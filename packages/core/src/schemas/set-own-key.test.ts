import t from 'tap';
import { setOwnKey } from './set-own-key.ts';

t.test('__proto__ becomes an own key that JSON writes, and the prototype stays', async (t) => {
  const map: Record<string, unknown> = {};
  setOwnKey(map, '__proto__', { polluted: true });
  setOwnKey(map, 'temp', 21.5);
  t.ok(Object.hasOwn(map, '__proto__'));
  t.equal(Object.getPrototypeOf(map), Object.prototype, 'the prototype is not replaced');
  t.equal((map as { polluted?: boolean }).polluted, undefined);
  t.same(Object.keys(map), ['__proto__', 'temp'], 'in insertion order');
  t.equal(JSON.stringify(map), '{"__proto__":{"polluted":true},"temp":21.5}');
});

t.test('a key set twice keeps the last value, __proto__ included', async (t) => {
  const map: Record<string, number> = {};
  setOwnKey(map, '__proto__', 1);
  setOwnKey(map, '__proto__', 2);
  setOwnKey(map, 'a', 1);
  setOwnKey(map, 'a', 3);
  t.equal(JSON.stringify(map), '{"__proto__":2,"a":3}');
});
