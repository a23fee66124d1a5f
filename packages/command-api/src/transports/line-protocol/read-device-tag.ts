import { NAME_RULE, badRequest, isName } from '@strata/core';

/** The tag that names the device unless a request says otherwise (`host` is the fallback per line). */
export const DEFAULT_DEVICE_TAG = 'device';

/** The `deviceTag` query parameter: which tag of each line names its device. */
export function readDeviceTag(value: unknown): string {
  if (value === undefined || value === '') return DEFAULT_DEVICE_TAG;
  if (typeof value !== 'string' || !isName(value)) {
    throw badRequest('invalid deviceTag', [{ field: 'deviceTag', reason: `must be a tag key: ${NAME_RULE}` }]);
  }
  return value;
}
