/** Earliest and latest event times we accept: outside this, a timestamp is a unit or parsing mistake. */
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// RFC 3339 requires a date, a time and an offset; Date.parse alone would also accept "2026" or
// local times without offset, whose meaning depends on the server's time zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Below this a numeric timestamp is read as Unix seconds, above as milliseconds: 1e11 seconds is the
 * year 5138, while 1e11 milliseconds is March 1973, older than any device sending to us.
 */
const SECONDS_THRESHOLD = 1e11;

/** Event time as epoch milliseconds, or a reason why the input is not one. */
export function parseEventTime(input: unknown): { ms: number } | { reason: string } {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { reason: 'must be a finite number' };
    ms = Math.abs(input) < SECONDS_THRESHOLD ? input * 1000 : input;
  } else if (typeof input === 'string') {
    if (!RFC3339.test(input)) return { reason: 'must be an RFC 3339 date-time with offset, or Unix seconds/milliseconds' };
    ms = Date.parse(input);
    if (Number.isNaN(ms)) return { reason: 'is not a valid date-time' };
  } else {
    return { reason: 'must be an RFC 3339 string or a Unix timestamp number' };
  }
  ms = Math.floor(ms);
  if (ms < MIN_MS || ms > MAX_MS) return { reason: 'is outside 1970-01-01 .. 9999-12-31' };
  return { ms };
}
