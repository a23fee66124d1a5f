/** Daily partitions are named by ensure_event_partitions(): events_YYYYMMDD, bounds in UTC. */
const DAILY = /^events_(\d{4})(\d{2})(\d{2})$/;

export function isDailyPartitionName(name: string): boolean {
  return DAILY.test(name);
}

/** The UTC day (YYYY-MM-DD) a daily partition holds, or undefined for any other table (DEFAULT included). */
export function partitionDay(name: string): string | undefined {
  const match = DAILY.exec(name);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/** The partition name for a UTC day given as YYYY-MM-DD. */
export function partitionName(day: string): string {
  return `events_${day.replaceAll('-', '')}`;
}
