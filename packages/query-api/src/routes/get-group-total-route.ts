import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { badRequest } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import { checkLabelParam, requireValueKey } from '../params/parse-group-params.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { parseTime } from '../params/parse-time.ts';
import { readGroupTotal } from '../reads/read-group-total.ts';
import { GroupTotalQuery, GroupTotalResponses, GroupValueParams } from './group-schemas.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { ReadOptionHeaders } from './schemas.ts';
import { sendRead } from './send-read.ts';

/** PostgreSQL's timestamptz ends in 294276; refused here rather than as a statement error. */
const LAST_AT_MS = Date.UTC(9999, 11, 31);

/**
 * `GET /v1/groups/:label/:labelValue/total`: the running sum of a value over the group up to and
 * including `at` (default now), exact at any instant (decision 0074): +1/−1 door crossings summed
 * per space are its occupancy.
 */
export function registerGetGroupTotalRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/groups/:label/:labelValue/total',
    {
      config: { access: 'read' },
      schema: {
        tags: ['groups'],
        summary: "A value's running total over a group at an instant",
        description: 'The running sum of a value over a group up to and including `at`.',
        params: GroupValueParams,
        querystring: GroupTotalQuery,
        headers: ReadOptionHeaders,
        response: GroupTotalResponses,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      const label = checkLabelParam('label', request.params.label, 'a label name');
      const labelValue = checkLabelParam('labelValue', request.params.labelValue, 'a label value');
      const valueKey = requireValueKey(q.value);
      const at = parseTime(q.at, 'at') ?? deps.clock.now();
      if (at >= LAST_AT_MS) throw badRequest('invalid at', [{ field: 'at', reason: 'must be before 9999-12-31' }]);
      const query = { tenantId: request.auth.tenantId, label, labelValue, valueKey, at: isoTime(at) };
      const { total, meta } = await readGroupTotal(deps.router, query, options);
      return sendRead(deps.metrics, reply, meta, { total, at: query.at });
    },
  );
}
