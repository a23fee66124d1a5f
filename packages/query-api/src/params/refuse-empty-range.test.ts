import t from 'tap';
import { AppError } from '@strata/core';
import { refuseEmptyRange } from './refuse-empty-range.ts';

const refusal = (fn: () => void): unknown => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? { status: error.status, message: error.message, details: error.details } : 'not an AppError';
  }
  return undefined;
};

t.test('a time range must hold something when both ends are given', async (t) => {
  t.equal(refusal(() => refuseEmptyRange(undefined, 5)), undefined);
  t.equal(refusal(() => refuseEmptyRange(4, 5)), undefined);
  t.same(refusal(() => refuseEmptyRange(5, 5)), {
    status: 400,
    message: 'empty time range',
    details: [{ field: 'to', reason: 'must be later than from' }],
  });
});
