import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest, VALUE_KEY_PATTERN } from '@strata/core';
import type { Deps } from '../deps.ts';
import { INTERVALS, parseAggregates, parseInterval, type Aggregate } from '../params/parse-series-params.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { selectSeriesBuckets, type SeriesBucketRow } from '../queries/select-series-buckets.ts';
import { createBucketTimeFormatter } from '../reads/bucket-time-formatter.ts';
import { isoTime } from '../model/iso-time.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { DeviceParams, SeriesQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/**
 * `GET /v1/devices/:device/series`: aggregates per time bucket, from the rollups only (never history).
 * The range is widened to whole buckets, so the first and last bucket are complete, not clipped.
 * Buckets without data are left out rather than reported as zero counts with null averages.
 */
export function getSeriesRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/devices/:device/series', { config: { access: 'read' }, schema: { params: DeviceParams, querystring: SeriesQuery } }, async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      if (!VALUE_KEY_PATTERN.test(q.value)) {
        throw badRequest('invalid value', [{ field: 'value', reason: 'must be a value key: 1-128 characters of well-formed Unicode without U+0000' }]);
      }
      const interval = parseInterval(q.interval);
      const aggregates = parseAggregates(q.agg);
      const { start, end } = parseBucketRange(q, interval, deps.clock.now());
      const query = {
        tenantId: request.auth.tenantId,
        device: request.params.device,
        valueKey: q.value,
        interval: INTERVALS[interval].sql,
        from: isoTime(start),
        to: isoTime(end),
      };
      const { value: rows, meta } = await routeRead(deps, options, { database: (db) => selectSeriesBuckets(db, query) });
      const formatTime = createBucketTimeFormatter();
      const buckets = rows.map((row) => bucketOf(row, formatTime(row.ms), aggregates));
      return sendRead(deps, reply, meta, { device: request.params.device, value: q.value, interval, buckets });
    });
  };
}

function bucketOf(row: SeriesBucketRow, ts: string, aggregates: Aggregate[]): Record<string, number | string> {
  const bucket: Record<string, number | string> = { ts };
  for (const aggregate of aggregates) {
    bucket[aggregate] = aggregate === 'avg' ? row.sum / row.count : Number(row[aggregate]);
  }
  return bucket;
}
