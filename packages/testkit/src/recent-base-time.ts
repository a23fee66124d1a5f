const DAY_MS = 86_400_000;

/**
 * 10:00 UTC yesterday: a fixed instant for one test run that is always inside the default
 * retention (events older than RETENTION_DAYS are refused) and inside the premade partitions.
 * Fixed calendar dates would start failing a month after they were written.
 */
export function recentBaseTime(now = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS - DAY_MS + 10 * 3_600_000;
}
