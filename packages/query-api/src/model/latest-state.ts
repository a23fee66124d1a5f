import type { EventValues } from '@strata/core';

/** A device's latest state as every read path returns it (timestamps as ISO-8601 UTC strings). */
export interface LatestState {
  device: string;
  ts: string;
  values: EventValues;
  updatedAt: string;
}
