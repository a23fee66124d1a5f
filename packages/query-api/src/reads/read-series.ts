import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { Aggregate } from '../params/parse-series-params.ts';
import { selectSeriesJson, type SelectSeriesBucketsQuery } from '../queries/select-series-buckets.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

/**
 * One value's aggregates per bucket, in the order asked, from the rollups on the first source that
 * answers; the buckets as the JSON text PostgreSQL wrote (decisions 0099, 0103).
 */
export async function readSeries(
  router: ReadRouter,
  query: SelectSeriesBucketsQuery,
  aggregates: Aggregate[],
  options: ReadOptions,
): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  const { value: json, meta } = await routeRead(router, options, { database: (db) => selectSeriesJson(db, query, aggregates) });
  return { bucketsJson: json, meta };
}
