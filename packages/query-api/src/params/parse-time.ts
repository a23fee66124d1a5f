import { badRequest, parseEventTime } from '@strata/core';

/**
 * A time query parameter: RFC 3339 with offset, or Unix seconds / milliseconds, the same forms
 * events are written with. Query strings are text, so digits are read as the number they spell.
 */
export function parseTime(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const input = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  const parsed = parseEventTime(input);
  if ('reason' in parsed) throw badRequest(`invalid ${field}`, [{ field, reason: parsed.reason }]);
  return parsed.ms;
}

/** `limit` as an integer in 1..max (default when absent), naming the field when it is not. */
export function parseLimit(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > max) {
    throw badRequest('invalid limit', [{ field: 'limit', reason: `must be an integer from 1 to ${max}` }]);
  }
  return limit;
}
