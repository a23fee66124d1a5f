import t from 'tap';
import type { ValueState } from '../model/value-state.ts';
import { mergeValueState, valueStateOf, valuesOf } from './merge-value-state.ts';

t.test('newest event time wins per key, whatever the merge order', async (t) => {
  const state: ValueState = { temp: { v: 37, t: 2000 }, status: { v: 'ok', t: 1000 } };
  const late = valueStateOf({ temp: 35, battery: 80 }, 1500);
  const merged = mergeValueState(state, late);
  t.same(merged, { temp: { v: 37, t: 2000 }, status: { v: 'ok', t: 1000 }, battery: { v: 80, t: 1500 } });
  t.same(mergeValueState(late, state), merged, 'commutative');
  t.same(valuesOf(merged), { temp: 37, status: 'ok', battery: 80 });
});

t.test('equal times: the larger JSON text wins, in both orders', async (t) => {
  const a = valueStateOf({ x: 'abc', y: 9, z: null }, 5);
  const b = valueStateOf({ x: 'abd', y: 10, z: false }, 5);
  // JSON texts: '"abd"' > '"abc"'; '9' > '10' (text, not numeric order); 'null' > 'false'.
  const expected = { x: { v: 'abd', t: 5 }, y: { v: 9, t: 5 }, z: { v: null, t: 5 } };
  t.same(mergeValueState(a, b), expected);
  t.same(mergeValueState(b, a), expected);
});

t.test('text comparison follows code points (C collation), not UTF-16 units', async (t) => {
  // U+FF5E sorts below U+1F600 by code point, but above it by UTF-16 code unit.
  const merged = mergeValueState(valueStateOf({ s: '\uff5e' }, 1), valueStateOf({ s: '\u{1f600}' }, 1));
  t.equal(merged.s?.v, '\u{1f600}');
});

t.test('empty inputs', async (t) => {
  t.same(mergeValueState({}, {}), {});
  t.same(valuesOf({}), {});
});
