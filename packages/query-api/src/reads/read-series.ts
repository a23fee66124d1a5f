import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { Aggregate } from '../params/parse-series-params.ts';
import { selectDeviceStateTag, selectSeriesBuckets, type SelectSeriesBucketsQuery } from '../queries/select-series-buckets.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { bucketsJson } from './buckets-json.ts';
import { readKeeping, type KeptAnswers } from './kept-answers.ts';

/**
 * One value's aggregates per bucket, in the order asked, from the rollups on the first source that
 * answers; the buckets as JSON text (decision 0099).
 *
 * An exact series is a function of the device's history in the range, and every drain that adds to
 * that history updates the device's state row in the same transaction. So an answer kept with the
 * state row's version and xmin, as its statement's snapshot saw them, is still the answer while a
 * snapshot taken now sees the same: a probe of one primary-key row on the source the read is routed
 * to (the same source, consistency and meta a full read would have) instead of 1,440 rows read,
 * parsed and written as JSON (decision 0103). Materializing buckets changes no answer (both ways are
 * exact), and a device without a state row is never kept (nothing would say it changed).
 */
export async function readSeries(
  router: ReadRouter,
  kept: KeptAnswers | undefined,
  query: SelectSeriesBucketsQuery,
  aggregates: Aggregate[],
  options: ReadOptions,
): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  // One barrier for the probe and the read: a strong read waits once (decision 0104).
  const projected = new ProjectionBarrier(query.tenantId, query.device);
  const { json, meta } = await readKeeping(kept, router.clock.now(), {
    kind: 'series',
    tenantId: query.tenantId,
    keyParts: [query.device, query.valueKey, query.interval, query.from, query.to, aggregates.join(',')],
    from: query.from,
    probe: () => routeRead(router, options, { database: (db) => selectDeviceStateTag(db, query.tenantId, query.device), projected }),
    read: async () => {
      const { value, meta } = await routeRead(router, options, { database: (db) => selectSeriesBuckets(db, query), projected });
      return { json: bucketsJson(value.rows, aggregates, createBucketTimeFormatter()), tag: value.stateTag, meta };
    },
  });
  return { bucketsJson: json, meta };
}
