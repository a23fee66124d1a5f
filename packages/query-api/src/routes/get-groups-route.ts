import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { decodeCursor } from '../params/cursor.ts';
import { checkLabelParam } from '../params/parse-group-params.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { parseLimit } from '../params/parse-time.ts';
import { GROUP_VALUES_ORDERING, readGroupValues } from '../reads/read-group-values.ts';
import { GroupParams, GroupValuesQuery, GroupValuesResponses } from './group-schemas.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { ReadOptionHeaders } from './schemas.ts';
import { sendRead } from './send-read.ts';

/**
 * `GET /v1/groups/:label`: the label's values with how many devices hold each now, a page at a time (a
 * tag unique per device has as many values as there are devices).
 */
export function registerGetGroupsRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/groups/:label',
    {
      config: { access: 'read' },
      schema: {
        tags: ['groups'],
        summary: "A label's values with their device counts",
        description:
          "A label's values with their device counts (current labels: PUT/PATCH at once, event labels once their minute is refreshed), in code point order, keyset-paginated (follow `nextCursor`).",
        params: GroupParams,
        querystring: GroupValuesQuery,
        headers: ReadOptionHeaders,
        response: GroupValuesResponses,
      },
    },
    async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const label = checkLabelParam('label', request.params.label, 'a label name');
      const limit = parseLimit(request.query.limit, 1000, 10_000);
      const cursor = request.query.cursor;
      const after = cursor === undefined ? undefined : decodeCursor(cursor, GROUP_VALUES_ORDERING, ['label-value'])[0];
      const query = { tenantId: request.auth.tenantId, label, limit, ...(after === undefined ? {} : { after }) };
      const { values, nextCursor, meta } = await readGroupValues(deps.router, query, options);
      return sendRead(deps.metrics, reply, meta, { label, values, nextCursor });
    },
  );
}
