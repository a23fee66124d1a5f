/** PostgreSQL timestamptz text (or epoch ms) as ISO-8601 UTC with milliseconds. */
export function isoTime(value: string | number | Date): string {
  return new Date(value).toISOString();
}
