import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { Aggregate } from '../params/parse-series-params.ts';
import { selectSeriesBuckets, type SelectSeriesBucketsQuery } from '../queries/select-series-buckets.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { bucketsJson } from './buckets-json.ts';

/**
 * One value's aggregates per bucket, in the order asked, from the rollups on the first source that
 * answers; the buckets as JSON text (decision 0099).
 */
export async function readSeries(
  router: ReadRouter,
  query: SelectSeriesBucketsQuery,
  aggregates: Aggregate[],
  options: ReadOptions,
): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  const { value: rows, meta } = await routeRead(router, options, { database: (db) => selectSeriesBuckets(db, query) });
  return { bucketsJson: bucketsJson(rows, aggregates, createBucketTimeFormatter()), meta };
}
