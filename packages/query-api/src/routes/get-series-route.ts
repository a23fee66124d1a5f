import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../model/iso-time.ts';
import { checkNameParam } from '../params/check-name-param.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { INTERVALS, parseAggregates, parseInterval } from '../params/parse-series-params.ts';
import { readSeries } from '../reads/read-series.ts';
import type { KeepingReadRouteDeps } from './read-route-deps.ts';
import { SeriesResponses } from './read-responses.ts';
import { DeviceParams, ReadOptionHeaders, SeriesQuery } from './schemas.ts';
import { sendReadJson } from './send-read.ts';

/**
 * `GET /v1/devices/:device/series`: aggregates per time bucket, from the rollups only (never history).
 * The range is widened to whole buckets, so the first and last bucket are complete, not clipped.
 * Buckets without data are left out rather than reported as zero counts with null averages.
 */
export function registerGetSeriesRoute(app: FastifyInstance, deps: KeepingReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/devices/:device/series',
    {
      config: { access: 'read' },
      schema: {
        tags: ['devices'],
        summary: "A value's aggregates per time bucket",
        description: 'From the rollups, never a scan of history. Buckets without data are left out.',
        params: DeviceParams,
        querystring: SeriesQuery,
        headers: ReadOptionHeaders,
        response: SeriesResponses,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      checkNameParam('value', q.value);
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
      const { bucketsJson, meta } = await readSeries(deps.router, deps.keptAnswers, query, aggregates, options);
      return sendReadJson(deps.metrics, reply, meta, { device: request.params.device, value: q.value, interval }, { name: 'buckets', json: bucketsJson });
    },
  );
}
