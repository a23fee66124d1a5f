import type { EventValue, EventValues } from '@strata/core';
import { emptyValueState, type ValueState } from '../model/value-state.ts';

function emptyValues(): EventValues {
  return Object.create(null) as EventValues;
}

/**
 * TypeScript twin of the SQL function merge_value_state (migration 0004): per key, the newer event
 * time wins; on equal times the larger JSON text of the value wins, so the result never depends on
 * the order rows are merged in. Text is compared by UTF-8 bytes, which is the database's C collation.
 * (Numbers written by JavaScript print the same in JSON and in jsonb, so the texts agree.)
 */
export function mergeValueState(older: ValueState, newer: ValueState): ValueState {
  const merged = emptyValueState();
  for (const [key, entry] of Object.entries(older)) merged[key] = entry;
  for (const [key, incoming] of Object.entries(newer)) {
    const current = merged[key];
    if (current === undefined || wins(incoming, current)) merged[key] = incoming;
  }
  return merged;
}

/** The state an event contributes: each of its values stamped with the event's time. */
export function valueStateOf(values: EventValues, tsMs: number): ValueState {
  const state = emptyValueState();
  for (const [key, v] of Object.entries(values)) state[key] = { v, t: tsMs };
  return state;
}

/** The plain value map readers see (device_state.values is the same projection in SQL). */
export function valuesOf(state: ValueState): EventValues {
  const values = emptyValues();
  for (const [key, entry] of Object.entries(state)) values[key] = entry.v;
  return values;
}

function wins(candidate: { v: EventValue; t: number }, current: { v: EventValue; t: number }): boolean {
  if (candidate.t !== current.t) return candidate.t > current.t;
  return Buffer.compare(Buffer.from(JSON.stringify(candidate.v)), Buffer.from(JSON.stringify(current.v))) > 0;
}
