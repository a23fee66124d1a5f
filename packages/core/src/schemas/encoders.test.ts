import t from 'tap';
import { encodeCachedState, encodeCachedValueState } from './cached-state.ts';
import { encodeLiveDelta, encodeLiveDeltaOfState, type LiveDelta } from './live-message.ts';

/*
 * The projector writes cache entries and live deltas with the fast encoders (decision 0086); readers
 * and the contract's tests know the reference ones. The two must write the same text for every state,
 * including keys JSON must escape, integer-like keys (which JavaScript orders first), `__proto__`,
 * and numbers JavaScript prints its own way.
 */
const awkward = JSON.parse(`{
  "q\\"uote": "he said \\"hi\\"\\n", "back\\\\slash": "\\\\", "ü-ß-漢字-🙂": 1e-7, "__proto__": 12345678901234567890,
  "10": -0, "2": 0.1, "{\\"x\\":1}": "{\\"v\\":0}", ",": ":", "a.b": true, "nothing": null, "": "empty key",
  "\\u0000\\u001f": "\\u2028", "big": 1e300, "small": -5e-324
}`) as Record<string, unknown>;

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
/** The state as device_state holds it, parsed as pg parses it: every key own. */
const state = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(awkward).map(([k, v], i) => [k, { v, t: T0 + (i % 3) * 1000 }])))) as Record<string, { v: unknown; t: number }>;

t.test('the cache entry: the same text from a value state as from its values', async (t) => {
  const values = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(state)) values[key] = (state[key] as { v: unknown }).v;
  const reference = encodeCachedState({ device: 'd "1"', ts: new Date(T0).toISOString(), values, updatedAt: new Date(T0 + 5).toISOString() });
  t.equal(encodeCachedValueState('d "1"', new Date(T0).toISOString(), state, new Date(T0 + 5).toISOString()), reference);
  t.ok(Object.hasOwn((JSON.parse(reference) as { values: object }).values, '__proto__'), '__proto__ is a key of the entry');
  t.equal(encodeCachedValueState('d', 'x', {}, 'y'), encodeCachedState({ device: 'd', ts: 'x', values: {}, updatedAt: 'y' }), 'no values');
});

t.test('the live delta: the same text from a value state and its changed keys as from the delta', async (t) => {
  for (const keys of [Object.keys(state), ['__proto__'], ['10', 'nothing', ''], [Object.keys(state)[3] as string]]) {
    const values = Object.create(null) as Record<string, unknown>;
    const times = Object.create(null) as Record<string, string>;
    let newest = -Infinity;
    for (const key of keys) {
      const entry = state[key] as { v: unknown; t: number };
      values[key] = entry.v;
      times[key] = new Date(entry.t).toISOString();
      newest = Math.max(newest, entry.t);
    }
    const delta: LiveDelta = { device: 'dev\\ice', ts: new Date(newest).toISOString(), values: values as LiveDelta['values'], times, updatedAt: new Date(T0 + 9).toISOString(), version: 42 };
    const fast = encodeLiveDeltaOfState('dev\\ice', state, keys, new Date(T0 + 9).toISOString(), 42);
    t.equal(fast, encodeLiveDelta(delta), `keys ${JSON.stringify(keys)}`);
    t.equal(fast, encodeLiveDelta(JSON.parse(fast) as LiveDelta), 'and it reads back to itself');
  }
});
