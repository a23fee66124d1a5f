/** Earliest and latest event times we accept: outside this, a timestamp is a unit or parsing mistake. */
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// RFC 3339 requires a date, a time and an offset; anything less (a bare year, a local time without
// offset) would depend on the server's time zone. The fields are taken apart here and checked one by
// one, because Date.parse is lenient where PostgreSQL and users are not: it rolls 2026-11-31 over to
// December 1st and 2026-02-29 to March 1st, so an impossible date would be stored as another day.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Below this a numeric timestamp is read as Unix seconds, above as milliseconds: 1e11 seconds is the
 * year 5138, while 1e11 milliseconds is March 1973, older than any device sending to us.
 */
const SECONDS_THRESHOLD = 1e11;

const FORMAT_REASON = 'must be an RFC 3339 date-time with offset, or Unix seconds/milliseconds';

/** Event time as epoch milliseconds, or a reason why the input is not one. */
export function parseEventTime(input: unknown): { ms: number } | { reason: string } {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { reason: 'must be a finite number' };
    ms = Math.abs(input) < SECONDS_THRESHOLD ? input * 1000 : input;
  } else if (typeof input === 'string') {
    const parsed = parseRfc3339(input);
    if (typeof parsed === 'string') return { reason: parsed };
    ms = parsed;
  } else {
    return { reason: 'must be an RFC 3339 string or a Unix timestamp number' };
  }
  ms = Math.floor(ms);
  if (ms < MIN_MS || ms > MAX_MS) return { reason: 'is outside 1970-01-01 .. 9999-12-31' };
  return { ms };
}

/** Epoch milliseconds of an RFC 3339 date-time, or why it is not a real one. */
function parseRfc3339(text: string): number | string {
  const m = RFC3339.exec(text);
  if (!m) return FORMAT_REASON;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12) return 'has no such month';
  if (day < 1 || day > daysInMonth(year, month)) return `has no such day: ${m[1]}-${m[2]} has ${daysInMonth(year, month)} days`;
  if (hour > 23 || minute > 59) return 'has an invalid time of day';
  // RFC 3339 allows :60 for a leap second; PostgreSQL would roll it into the next minute and no clock
  // we ingest from produces one, so it is refused rather than silently moved.
  if (second > 59) return 'has an invalid time of day (seconds 00-59; leap seconds are not accepted)';
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return 'has an invalid offset';
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Milliseconds are kept; finer digits are truncated, as the stored precision is milliseconds.
  const fraction = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  // Date.UTC maps years 0-99 to 1900-1999; those are below the accepted range anyway.
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
