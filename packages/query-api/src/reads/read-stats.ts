import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { selectEventCounts, type SelectEventCountsQuery } from '../queries/select-event-counts.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';

export interface StatsBucket {
  ts: string;
  counts: Record<string, number>;
}

/** The tenant's event counts per bucket and type, from the projection's counters on the first source that answers. */
export async function readStats(router: ReadRouter, query: SelectEventCountsQuery, options: ReadOptions): Promise<{ buckets: StatsBucket[]; meta: ReadMeta }> {
  const { value: rows, meta } = await routeRead(router, options, { database: (db) => selectEventCounts(db, query) });
  const formatTime = createBucketTimeFormatter();
  const buckets: StatsBucket[] = [];
  let counts: Record<string, number> = {};
  let lastMs = Number.NaN;
  for (const row of rows) {
    if (row.ms !== lastMs) {
      lastMs = row.ms;
      counts = {};
      buckets.push({ ts: formatTime(row.ms), counts });
    }
    setCount(counts, row.type, row.count);
  }
  return { buckets, meta };
}

/**
 * Event types are any names. A plain object keeps its fast shape (objects without a prototype are
 * dictionaries: building and serializing 1,440 of them took a quarter of a millisecond more), and the
 * one name that assignment would not store as an own property, `__proto__`, is defined instead.
 */
function setCount(counts: Record<string, number>, type: string, count: number): void {
  if (type === '__proto__') Object.defineProperty(counts, type, { value: count, enumerable: true, writable: true, configurable: true });
  else counts[type] = count;
}
