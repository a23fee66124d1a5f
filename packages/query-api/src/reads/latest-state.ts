import type { EventValues } from '@strata/core';

/** A device's latest state as every read path returns it (timestamps as ISO-8601 UTC strings). */
export interface LatestState {
  device: string;
  ts: string;
  values: EventValues;
  updatedAt: string;
}

/** PostgreSQL timestamptz text (or epoch ms) as ISO-8601 UTC with milliseconds. */
export function isoTime(value: string | number | Date): string {
  return new Date(value).toISOString();
}
