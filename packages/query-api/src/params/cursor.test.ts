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

const forged = (parts: unknown[]): string => Buffer.from(JSON.stringify(parts)).toString('base64url');

t.test('round trip', async (t) => {
  const cursor = encodeCursor('ts:desc', ['2026-11-20 12:00:00.123456+00', 'dev-1']);
  t.match(cursor, /^[A-Za-z0-9_-]+$/);
  t.same(decodeCursor(cursor, 'ts:desc', ['timestamp', 'device']), ['2026-11-20 12:00:00.123456+00', 'dev-1']);
  for (const value of ['36.6', '-2e300', '"ok"', 'true', 'null', '"\u{1f600}"']) {
    t.same(decodeCursor(encodeCursor('values.t:asc', [value, 'd']), 'values.t:asc', ['json-scalar', 'device']), [value, 'd'], value);
  }
  t.same(decodeCursor(encodeCursor('events:desc', ['2026-01-01 00:00:00+05:30', 'i:x']), 'events:desc', ['timestamp', 'event-key']), [
    '2026-01-01 00:00:00+05:30',
    'i:x',
  ]);
});

t.test('foreign or broken cursors are 400 on field cursor', async (t) => {
  const cursor = encodeCursor('ts:desc', ['2026-11-20 12:00:00+00', 'b']);
  for (const [input, ordering, parts] of [
    [cursor, 'ts:asc', ['timestamp', 'device']],
    [cursor, 'ts:desc', ['timestamp']],
    ['!!!', 'ts:desc', ['timestamp', 'device']],
    [Buffer.from('{"a":1}').toString('base64url'), 'ts:desc', ['timestamp', 'device']],
    [Buffer.from('["ts:desc",1,2]').toString('base64url'), 'ts:desc', ['timestamp', 'device']],
    [Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64url'), 'ts:desc', ['timestamp', 'device']],
  ] as const) {
    t.equal(fieldOf(() => decodeCursor(input, ordering, parts)), 'cursor');
  }
});

t.test('forged positions that PostgreSQL would refuse are 400 on cursor', async (t) => {
  const cases: [string, string[], string[]][] = [
    ['ts:desc', ['not a time', 'd'], ['timestamp', 'device']],
    ['ts:desc', ['2026-02-31 00:00:00+00', 'd'], ['timestamp', 'device']],
    ['ts:desc', ['2026-01-01 25:00:00+00', 'd'], ['timestamp', 'device']],
    ['ts:desc', ['99999-01-01 00:00:00+00', 'd'], ['timestamp', 'device']],
    ['ts:desc', ['2026-01-01 00:00:00+99', 'd'], ['timestamp', 'device']],
    ['ts:desc', ['2026-01-01 00:00:00+00', 'd\u0000'], ['timestamp', 'device']],
    ['ts:desc', ['2026-01-01 00:00:00+00', 'bad device!'], ['timestamp', 'device']],
    ['values.t:asc', ['1e999', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['1e-99999', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['{"a":1}', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['[[[[1]]]]', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['"\\u0000"', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['"\\ud800"', 'd'], ['json-scalar', 'device']],
    ['values.t:asc', ['junk', 'd'], ['json-scalar', 'device']],
    ['events:desc', ['2026-01-01 00:00:00+00', '\ud800'], ['timestamp', 'event-key']],
    ['events:desc', ['2026-01-01 00:00:00+00', ''], ['timestamp', 'event-key']],
    ['device:asc', ['\u0000'], ['device']],
  ];
  for (const [ordering, position, parts] of cases) {
    t.equal(fieldOf(() => decodeCursor(forged([ordering, ...position]), ordering, parts as never)), 'cursor', JSON.stringify(position));
  }
});
