import { badRequest, VALUE_KEY_PATTERN } from '@strata/core';
import type { DeviceSort } from '../model/device-sort.ts';


/** `sort=device|ts|values.<key>` and `order=asc|desc`, from an allow-list only. */
export function parseDeviceSort(sort: string | undefined, order: string | undefined): DeviceSort {
  const direction = order ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') {
    throw badRequest('invalid order', [{ field: 'order', reason: 'must be asc or desc' }]);
  }
  const text = sort ?? 'device';
  if (text === 'device' || text === 'ts') return { kind: text, order: direction };
  if (text.startsWith('values.') && VALUE_KEY_PATTERN.test(text.slice('values.'.length))) {
    return { kind: 'value', key: text.slice('values.'.length), order: direction };
  }
  throw badRequest('invalid sort', [{ field: 'sort', reason: 'must be device, ts or values.<value key>' }]);
}

/** Names an ordering for cursors: a cursor only continues the ordering it was issued for. */
export function sortIdentity(sort: DeviceSort): string {
  return `${sort.kind === 'value' ? `values.${sort.key}` : sort.kind}:${sort.order}`;
}
