import { utcDay } from './utc-day.ts';

const DAY_MS = 86_400_000;

/**
 * The last UTC day a partition may be made for: today + the future skew the door accepts
 * (MAX_FUTURE_SKEW_MS, whole days up) + the premake horizon. Nothing accepted can lie beyond it, so
 * rows there are old or hand-made (before the door refused far-future times); they stay in DEFAULT,
 * still readable, rather than let anyone create a partition per distinct future day.
 */
export function furthestPartitionDay(nowMs: number, maxFutureSkewMs: number, premakeDaysAhead: number): string {
  return utcDay(nowMs, Math.ceil(maxFutureSkewMs / DAY_MS) + premakeDaysAhead);
}
