import { badRequest } from '@strata/core';
import { INTERVALS, type IntervalName } from './parse-series-params.ts';
import { parseTime } from './parse-time.ts';
import { refuseEmptyRange } from './refuse-empty-range.ts';

const MAX_BUCKETS = 10_000;
const DEFAULT_RANGE_MS = 86_400_000;
/**
 * Widening to whole buckets may pass 9999-12-31, which the events accept as a time but which then
 * prints as '+010000-…' and is refused by PostgreSQL (a 500 before); the last day is left out instead.
 */
const LAST_END_MS = Date.UTC(9999, 11, 31);

/**
 * `from` / `to` of a bucketed read (series, stats), widened to whole buckets so the first and last
 * bucket are complete, not clipped. Defaults to the last 24 hours; refuses an empty range and more
 * than 10,000 buckets (a response that size is a mistake, and a scan to match).
 */
export function parseBucketRange(
  query: { from?: string; to?: string },
  interval: IntervalName,
  now: number,
): { start: number; end: number } {
  const to = parseTime(query.to, 'to') ?? now;
  const from = parseTime(query.from, 'from') ?? to - DEFAULT_RANGE_MS;
  refuseEmptyRange(from, to);
  const width = INTERVALS[interval].ms;
  const start = Math.floor(from / width) * width;
  const end = Math.ceil(to / width) * width;
  if (end > LAST_END_MS) throw badRequest('range too late', [{ field: 'to', reason: 'must be before 9999-12-31' }]);
  if ((end - start) / width > MAX_BUCKETS) {
    throw badRequest('too many buckets', [
      { field: 'interval', reason: `from..to spans more than ${MAX_BUCKETS} ${interval} buckets; use a coarser interval or a shorter range` },
    ]);
  }
  return { start, end };
}
