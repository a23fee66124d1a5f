const DAY_MS = 86_400_000;

/**
 * The UTC day after `day` (both YYYY-MM-DD). Day bounds are computed here, never as
 * `timestamptz + interval '1 day'` in SQL: that adds a calendar day in the session's time zone,
 * 23 or 25 hours across a daylight-saving change.
 */
export function nextUtcDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}
