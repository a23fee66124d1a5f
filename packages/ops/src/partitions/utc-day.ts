const DAY_MS = 86_400_000;

/** The UTC calendar day (YYYY-MM-DD) of an instant, shifted by whole days; partitions are UTC days. */
export function utcDay(ms: number, offsetDays = 0): string {
  return new Date(ms + offsetDays * DAY_MS).toISOString().slice(0, 10);
}
