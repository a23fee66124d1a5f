import type { EventValues } from './event.ts';

/**
 * An event's values as entries of a device's latest state, the form `device_state.state` holds:
 * `{"key":{"v":value,"t":epoch ms},…}`, as JSON text (decision 0107). command-api stages it beside the
 * values so the drain does not build it per event from the stored values in SQL (~13 of 69 ms of a
 * 2,000-event drain). PostgreSQL parses it into the same jsonb the drain would have built:
 * jsonb normalizes numbers and key order, so `1e+21` and `1000000000000000000000` are one value.
 *
 * Null, and the drain builds the entries itself, when `ts` is not a whole millisecond: the drain's
 * `t` is the stored timestamp (microseconds, from `to_timestamp(ms / 1000.0)`) rounded to a
 * millisecond, and only a whole millisecond is known to come back as itself. Null too for a value
 * JSON cannot write (undefined), which `JSON.stringify` of the values would drop.
 */
export function valueStateText(values: EventValues, ts: number): string | null {
  if (!Number.isInteger(ts)) return null;
  let text = '';
  for (const key of Object.keys(values)) {
    const value = JSON.stringify(values[key]);
    if (value === undefined) return null;
    text += `${text === '' ? '' : ','}${JSON.stringify(key)}:{"v":${value},"t":${ts}}`;
  }
  return `{${text}}`;
}
