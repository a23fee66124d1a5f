import type { Counter } from 'prom-client';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { Aggregate } from '../params/parse-series-params.ts';
import { selectDeviceStateTag, selectSeriesBuckets, type SelectSeriesBucketsQuery } from '../queries/select-series-buckets.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import type { AnswerMemo } from './answer-memo.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { bucketsJson } from './buckets-json.ts';

const DAY_MS = 86_400_000;

/** Series answers kept for reuse while their device's history is unchanged (decision 0103). */
export interface SeriesMemo {
  answers: AnswerMemo;
  /**
   * AGGREGATE_RETENTION_DAYS: retention deletes rollups without touching a device's state, so a
   * range reaching within a day of its horizon is never kept.
   */
  aggregateRetentionDays: number;
  lookups: Counter<'result'>;
}

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
  memo: SeriesMemo | undefined,
  query: SelectSeriesBucketsQuery,
  aggregates: Aggregate[],
  options: ReadOptions,
): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  const key = memo && keepsRange(memo, query, router.clock.now()) ? memoKey(query, aggregates) : undefined;
  const kept = memo && key !== undefined ? memo.answers.get(key) : undefined;
  if (memo && key !== undefined) {
    if (kept) {
      const probe = await routeRead(router, options, { database: (db) => selectDeviceStateTag(db, query.tenantId, query.device) });
      if (probe.value === kept.tag) {
        memo.answers.use(key);
        memo.lookups.inc({ result: 'hit' });
        return { bucketsJson: kept.json, meta: probe.meta };
      }
      memo.lookups.inc({ result: 'changed' });
    } else {
      memo.lookups.inc({ result: 'miss' });
    }
  }
  const { value, meta } = await routeRead(router, options, { database: (db) => selectSeriesBuckets(db, query) });
  const json = bucketsJson(value.rows, aggregates, createBucketTimeFormatter());
  if (memo && key !== undefined && value.stateTag !== 'none') memo.answers.set(query.tenantId, key, json, value.stateTag);
  return { bucketsJson: json, meta };
}

/** The range starts more than a day inside aggregate retention's horizon. */
function keepsRange(memo: SeriesMemo, query: SelectSeriesBucketsQuery, nowMs: number): boolean {
  return Date.parse(query.from) >= nowMs - (memo.aggregateRetentionDays - 1) * DAY_MS;
}

/** Names hold no U+0000 (NAME_RULE, DEVICE_RULE), so the separator keeps every key apart; the tenant first. */
function memoKey(query: SelectSeriesBucketsQuery, aggregates: readonly Aggregate[]): string {
  return [query.tenantId, query.device, query.valueKey, query.interval, query.from, query.to, aggregates.join(',')].join('\u0000');
}
