const DAY_MS = 86_400_000;

/**
 * The UTC day after `day` (both YYYY-MM-DD). Day bounds are computed here, never as
 * `timestamptz + interval '1 day'` in SQL: that adds a calendar day in the session's time zone,
 * 23 or 25 hours across a daylight-saving change. There is none after 9999-12-31 in this form
 * (toISOString would write +010000-01-01, which no bound literal accepts): that throws.
 */
export function nextUtcDay(day: string): string {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(next)) throw new Error(`no YYYY-MM-DD day after ${day}`);
  return next;
}
