import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { decodeCursor, type CursorPart } from '../params/cursor.ts';
import { parseLabelFilter } from '../params/parse-group-params.ts';
import { parseDeviceSort, sortIdentity } from '../params/parse-device-sort.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { parseLimit } from '../params/parse-time.ts';
import { parseWhere } from '../params/parse-where.ts';
import { readDeviceList } from '../reads/read-device-list.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { DeviceListResponses } from './read-responses.ts';
import { ListDevicesQuery, ReadOptionHeaders } from './schemas.ts';
import { sendRead } from './send-read.ts';

/** What a cursor holds for each kind of sort: the sort value, then the device that breaks ties. */
const CURSOR_PARTS = {
  device: ['device'],
  ts: ['timestamp', 'device'],
  value: ['json-scalar', 'device'],
} as const satisfies Record<string, readonly CursorPart[]>;

const schema = {
  tags: ['devices'],
  summary: 'Latest states of the tenant\'s devices',
  description:
    'Keyset-paginated (follow `nextCursor`), sortable by device, ts or a value, filterable on values and by a label. ' +
    'A key bound to one device may not list (403).',
  querystring: ListDevicesQuery,
  headers: ReadOptionHeaders,
  response: DeviceListResponses,
};

/** `GET /v1/devices`: latest states, keyset-paginated, from the source the consistency level allows. */
export function registerListDevicesRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/devices', { config: { access: 'read' }, schema }, async (request, reply) => {
    const q = request.query;
    const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
    const sort = parseDeviceSort(q.sort, q.order);
    const where = parseWhere(q.where);
    // `?label=name:value` (issue 13): a malformed one is a 400 naming `label`.
    const labelFilter = parseLabelFilter(q.label);
    const limit = parseLimit(q.limit, 100, 1000);
    const ordering = sortIdentity(sort);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ordering, CURSOR_PARTS[sort.kind]);
    const { items, nextCursor, meta } = await readDeviceList(deps.router, { tenantId: request.auth.tenantId, sort, where, after, limit, ordering, ...(labelFilter ? { labelFilter } : {}) }, options);
    return sendRead(deps.metrics, reply, meta, { items, nextCursor });
  });
}
