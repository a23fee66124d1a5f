import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../model/iso-time.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { checkLabelParam, parseGroupAggregates, requireValueKey } from '../params/parse-group-params.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { INTERVALS, parseInterval } from '../params/parse-series-params.ts';
import { readGroupSeries } from '../reads/read-group-series.ts';
import { GroupSeriesQuery, GroupSeriesResponses, GroupValueParams } from './group-schemas.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { ReadOptionHeaders } from './schemas.ts';
import { sendReadJson } from './send-read.ts';

/**
 * `GET /v1/groups/:label/:labelValue/series`: one value's aggregates per bucket over every device
 * that held the label value at each event's time (decision 0074). Whole buckets, as a device series.
 */
export function registerGetGroupSeriesRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/groups/:label/:labelValue/series',
    {
      config: { access: 'read' },
      schema: {
        tags: ['groups'],
        summary: "A value's aggregates per bucket over a group",
        description: "Aggregates per bucket over a group's devices, each event counted under the labels its device had at the event's time.",
        params: GroupValueParams,
        querystring: GroupSeriesQuery,
        headers: ReadOptionHeaders,
        response: GroupSeriesResponses,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      const label = checkLabelParam('label', request.params.label, 'a label name');
      const labelValue = checkLabelParam('labelValue', request.params.labelValue, 'a label value');
      const valueKey = requireValueKey(q.value);
      const interval = parseInterval(q.interval);
      const aggregates = parseGroupAggregates(q.agg);
      const { start, end } = parseBucketRange(q, interval, deps.clock.now());
      const query = {
        tenantId: request.auth.tenantId,
        label,
        labelValue,
        valueKey,
        interval: INTERVALS[interval].sql,
        from: isoTime(start),
        to: isoTime(end),
      };
      const { bucketsJson, meta } = await readGroupSeries(deps.router, query, aggregates, options);
      return sendReadJson(deps.metrics, reply, meta, { label, labelValue, value: valueKey, interval }, { name: 'buckets', json: bucketsJson });
    },
  );
}
