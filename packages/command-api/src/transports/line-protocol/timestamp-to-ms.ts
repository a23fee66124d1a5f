import type { Precision } from './read-precision.ts';

const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * A line's timestamp (an int64 as written, already checked by the parser) as epoch milliseconds, the
 * precision Strata stores. Finer digits are cut off by slicing the text, not by dividing a double:
 * a nanosecond timestamp is beyond 2^53, where a division can round into the next millisecond.
 */
export function timestampToMs(timestamp: string, precision: Precision): number | { reason: string } {
  if (timestamp.startsWith('-')) return { reason: 'is before 1970-01-01' };
  if (precision === 'ns') return timestamp.length > 6 ? Number(timestamp.slice(0, -6)) : 0;
  if (precision === 'us') return timestamp.length > 3 ? Number(timestamp.slice(0, -3)) : 0;
  return Number(timestamp) * MS_PER_UNIT[precision];
}

/** The arrival time given to lines without a timestamp, cut to the request's precision as InfluxDB does. */
export function arrivalMs(nowMs: number, precision: Precision): number {
  if (precision === 'ns' || precision === 'us' || precision === 'ms') return nowMs;
  const unit = MS_PER_UNIT[precision];
  return Math.floor(nowMs / unit) * unit;
}
