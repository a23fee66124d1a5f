import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { Aggregate } from '../params/parse-series-params.ts';
import { selectSeriesBuckets, type SelectSeriesBucketsQuery, type SeriesBucketRow } from '../queries/select-series-buckets.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';

export type SeriesBucket = Record<string, number | string>;

/** One value's aggregates per bucket, in the order asked, from the rollups on the first source that answers. */
export async function readSeries(
  router: ReadRouter,
  query: SelectSeriesBucketsQuery,
  aggregates: Aggregate[],
  options: ReadOptions,
): Promise<{ buckets: SeriesBucket[]; meta: ReadMeta }> {
  const { value: rows, meta } = await routeRead(router, options, { database: (db) => selectSeriesBuckets(db, query) });
  const formatTime = createBucketTimeFormatter();
  return { buckets: rows.map((row) => bucketOf(row, formatTime(row.ms), aggregates)), meta };
}

function bucketOf(row: SeriesBucketRow, ts: string, aggregates: Aggregate[]): SeriesBucket {
  const bucket: SeriesBucket = { ts };
  for (const aggregate of aggregates) {
    bucket[aggregate] = aggregate === 'avg' ? row.sum / row.count : Number(row[aggregate]);
  }
  return bucket;
}
