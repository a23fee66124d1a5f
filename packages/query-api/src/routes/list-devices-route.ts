import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../deps.ts';
import { decodeCursor, encodeCursor, type CursorPart } from '../params/cursor.ts';
import { LIST_PAGE_MAX_BYTES } from '../params/list-page-max-bytes.ts';
import { parseDeviceSort, sortIdentity } from '../params/parse-device-sort.ts';
import { parseLimit } from '../params/parse-time.ts';
import { parseWhere } from '../params/parse-where.ts';
import { listDeviceStates } from '../queries/list-device-states.ts';
import { isoTime } from '../model/iso-time.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { ListDevicesQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/** What a cursor holds for each kind of sort: the sort value, then the device that breaks ties. */
const CURSOR_PARTS = {
  device: ['device'],
  ts: ['timestamp', 'device'],
  value: ['json-scalar', 'device'],
} as const satisfies Record<string, readonly CursorPart[]>;

/**
 * `GET /v1/devices`: latest states, keyset-paginated, from the projection on the source the
 * consistency level allows (the cache holds single devices, so `cache` reads as `eventual`;
 * strong listing does not merge staging yet).
 */
export function listDevicesRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/devices', { config: { access: 'read' }, schema: { querystring: ListDevicesQuery } }, async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      const sort = parseDeviceSort(q.sort, q.order);
      const where = parseWhere(q.where);
      const limit = parseLimit(q.limit, 100, 1000);
      const ordering = sortIdentity(sort);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ordering, CURSOR_PARTS[sort.kind]);
      const { value: rows, meta } = await routeRead(deps, options, {
        database: (db) => listDeviceStates(db, { tenantId: request.auth.tenantId, sort, where, after, limit: limit + 1, maxBytes: LIST_PAGE_MAX_BYTES }),
      });
      const fitting = rows.findIndex((row) => row.values === null);
      const page = rows.slice(0, Math.min(limit, fitting < 0 ? rows.length : fitting));
      const last = page.at(-1);
      const nextCursor =
        rows.length > page.length && last
          ? encodeCursor(ordering, sort.kind === 'device' ? [last.device] : [last.sort_key, last.device])
          : null;
      const items = page.map((row) => ({
        device: row.device,
        ts: isoTime(row.ts),
        values: row.values ?? {},
        updatedAt: isoTime(row.updated_at),
      }));
      return sendRead(deps, reply, meta, { items, nextCursor });
    });
  };
}
