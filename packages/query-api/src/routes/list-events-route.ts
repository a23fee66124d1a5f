import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest, TYPE_PATTERN } from '@strata/core';
import type { Deps } from '../deps.ts';
import { decodeCursor, encodeCursor } from '../params/cursor.ts';
import { LIST_PAGE_MAX_BYTES } from '../params/list-page-max-bytes.ts';
import { parseLimit, parseTime } from '../params/parse-time.ts';
import { selectDeviceEvents } from '../queries/select-device-events.ts';
import { isoTime } from '../model/iso-time.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { DeviceParams, EventsQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

const ORDERING = 'events:desc';

/** `GET /v1/devices/:device/events`: raw history, newest first, keyset-paginated on (ts, event_key). */
export function listEventsRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/devices/:device/events', { config: { access: 'read' }, schema: { params: DeviceParams, querystring: EventsQuery } }, async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      const from = parseTime(q.from, 'from');
      const to = parseTime(q.to, 'to');
      if (from !== undefined && to !== undefined && from >= to) {
        throw badRequest('empty time range', [{ field: 'to', reason: 'must be later than from' }]);
      }
      if (q.type !== undefined && !TYPE_PATTERN.test(q.type)) {
        throw badRequest('invalid type', [{ field: 'type', reason: 'must be an event type: 1-128 characters of well-formed Unicode without U+0000' }]);
      }
      const limit = parseLimit(q.limit, 100, 1000);
      const position = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ORDERING, ['timestamp', 'event-key']);
      const query = {
        tenantId: request.auth.tenantId,
        device: request.params.device,
        from: from === undefined ? '-infinity' : isoTime(from),
        to: to === undefined ? 'infinity' : isoTime(to),
        type: q.type,
        before: position ? { ts: position[0] as string, eventKey: position[1] as string } : undefined,
        limit: limit + 1,
        maxBytes: LIST_PAGE_MAX_BYTES,
      };
      const { value: rows, meta } = await routeRead(deps, options, { database: (db) => selectDeviceEvents(db, query) });
      const fitting = rows.findIndex((row) => row.values === null);
      const page = rows.slice(0, Math.min(limit, fitting < 0 ? rows.length : fitting));
      const last = page.at(-1);
      const nextCursor = rows.length > page.length && last ? encodeCursor(ORDERING, [last.ts, last.event_key]) : null;
      const items = page.map((row) => ({
        ts: isoTime(row.ts),
        type: row.type,
        values: row.values ?? {},
        // A content digest (h:) is our bookkeeping, not the device's; only its own ids are shown.
        ...(row.event_key.startsWith('i:') ? { id: row.event_key.slice(2) } : {}),
      }));
      return sendRead(deps, reply, meta, { device: request.params.device, items, nextCursor });
    });
  };
}
