import { badRequest } from '@strata/core';

/** A time range must hold something: `from` (inclusive) before `to` (exclusive), when both are given. */
export function refuseEmptyRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && from >= to) {
    throw badRequest('empty time range', [{ field: 'to', reason: 'must be later than from' }]);
  }
}
