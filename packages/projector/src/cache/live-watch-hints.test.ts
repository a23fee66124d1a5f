import t from 'tap';
import { LiveWatchHints } from './live-watch-hints.ts';

t.test('hints: unknown tenants are encoded; the last report wins; the oldest unwatched report is forgotten first', async (t) => {
  const hints = new LiveWatchHints(2);
  t.equal(hints.encodeDeltas('a'), true, 'never reported: encode (the safe default)');
  hints.learn('a', false);
  t.equal(hints.encodeDeltas('a'), false);
  hints.learn('a', true);
  t.equal(hints.encodeDeltas('a'), true, 'reported watched again');
  hints.learn('a', false);
  hints.learn('b', false);
  hints.learn('a', false); // reported again: now the most recent
  hints.learn('c', false);
  t.equal(hints.size, 2, 'bounded');
  t.equal(hints.encodeDeltas('b'), true, 'the least recently reported is forgotten: encoded again');
  t.equal(hints.encodeDeltas('a'), false);
  t.equal(hints.encodeDeltas('c'), false);
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new LiveWatchHints(bad), RangeError, `maxTenants ${bad}`);
});
