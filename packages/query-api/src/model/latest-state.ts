import type { EventValues, Labels } from '@strata/core';

/** A device's latest state as every read path returns it (timestamps as ISO-8601 UTC strings). */
export interface LatestState {
  device: string;
  ts: string;
  values: EventValues;
  /** The device's labels now (decision 0074), `{}` when it has none; every read sets it. */
  labels?: Labels;
  updatedAt: string;
}
