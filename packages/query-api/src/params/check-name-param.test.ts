import t from 'tap';
import { AppError } from '@strata/core';
import { checkNameParam } from './check-name-param.ts';

const refusal = (fn: () => void): unknown => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? { status: error.status, message: error.message, details: error.details } : 'not an AppError';
  }
  return undefined;
};

t.test('name parameters: absent or a name passes; anything else is refused as the write side words it', async (t) => {
  t.equal(refusal(() => checkNameParam('type', undefined)), undefined);
  t.equal(refusal(() => checkNameParam('value', 'temp °C, room=1')), undefined);
  t.same(refusal(() => checkNameParam('type', 'a\u0000b')), {
    status: 400,
    message: 'invalid type',
    details: [{ field: 'type', reason: 'must be an event type: 1-128 characters of well-formed Unicode without U+0000' }],
  });
  t.same(refusal(() => checkNameParam('value', 'x'.repeat(129))), {
    status: 400,
    message: 'invalid value',
    details: [{ field: 'value', reason: 'must be a value key: 1-128 characters of well-formed Unicode without U+0000' }],
  });
});
