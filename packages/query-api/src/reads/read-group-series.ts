import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { GroupAggregate } from '../params/parse-group-params.ts';
import { selectGroupSeriesBuckets, type SelectGroupSeriesQuery } from '../queries/select-group-series-buckets.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { bucketsJson } from './buckets-json.ts';

/**
 * One value's aggregates per bucket over a group's members, in the order asked, from the group
 * rollups and the live tail on the first source that answers. A strong or token read on the primary
 * first waits for the tenant's acknowledged batches to be projected (decision 0104). `devices` is
 * read only when asked for: in combined buckets it costs a probe per member. The buckets as JSON
 * text (decision 0099).
 */
export async function readGroupSeries(
  router: ReadRouter,
  query: Omit<SelectGroupSeriesQuery, 'withDevices' | 'headStalenessMs'>,
  aggregates: GroupAggregate[],
  options: ReadOptions,
): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  const withDevices = aggregates.includes('devices');
  // A read that may be stale may be answered as of an open minute's head within its bound (decision
  // 0088); a strong read, or one after a token (whose events may lie past the head), is exact.
  const headStalenessMs = options.consistency === 'strong' || options.afterBatchId !== undefined ? undefined : options.maxStalenessMs;
  const { value, meta } = await routeRead(router, options, {
    database: (db) => selectGroupSeriesBuckets(db, { ...query, withDevices, headStalenessMs }),
    projected: new ProjectionBarrier(query.tenantId),
  });
  const lagMs = Math.max(meta.lagMs, Math.round(value.headLagMs ?? 0));
  return { bucketsJson: bucketsJson(value.rows, aggregates, createBucketTimeFormatter()), meta: { ...meta, lagMs } };
}
