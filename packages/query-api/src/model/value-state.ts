import type { EventValue } from '@strata/core';

/** Per value key: the value and the event time (epoch ms) it came from, as in device_state.state. */
export type ValueState = Record<string, { v: EventValue; t: number }>;

/**
 * Value keys are any names a device sends, `__proto__`, `constructor` and `toString` included, so
 * every map built here has no prototype: on a plain `{}` those keys read as Object.prototype's
 * members (`merged.toString` is a function, never undefined) and `__proto__` is not even assignable.
 */
export function emptyValueState(): ValueState {
  return Object.create(null) as ValueState;
}
