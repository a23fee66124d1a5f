import t from 'tap';
import { AppError } from '@strata/core';
import { decodeCursor, encodeCursor } from './cursor.ts';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError && error.status === 400 ? error.details?.[0]?.field : 'not a 400';
  }
  return 'no error';
};

t.test('round trip', async (t) => {
  const cursor = encodeCursor('ts:desc', ['2026-11-20 12:00:00.123456+00', 'dev-1']);
  t.match(cursor, /^[A-Za-z0-9_-]+$/);
  t.same(decodeCursor(cursor, 'ts:desc', 2), ['2026-11-20 12:00:00.123456+00', 'dev-1']);
});

t.test('foreign or broken cursors are 400 on field cursor', async (t) => {
  const cursor = encodeCursor('ts:desc', ['a', 'b']);
  for (const [input, ordering, arity] of [
    [cursor, 'ts:asc', 2],
    [cursor, 'ts:desc', 1],
    ['!!!', 'ts:desc', 2],
    [Buffer.from('{"a":1}').toString('base64url'), 'ts:desc', 2],
    [Buffer.from('["ts:desc",1,2]').toString('base64url'), 'ts:desc', 2],
  ] as const) {
    t.equal(fieldOf(() => decodeCursor(input, ordering, arity)), 'cursor');
  }
});
