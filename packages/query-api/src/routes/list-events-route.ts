import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../model/iso-time.ts';
import { checkNameParam } from '../params/check-name-param.ts';
import { decodeCursor } from '../params/cursor.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { parseLimit, parseTime } from '../params/parse-time.ts';
import { refuseEmptyRange } from '../params/refuse-empty-range.ts';
import { EVENTS_ORDERING, readEvents } from '../reads/read-events.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { EventsResponses } from './read-responses.ts';
import { DeviceParams, EventsQuery, ReadOptionHeaders } from './schemas.ts';
import { sendRead } from './send-read.ts';

/** `GET /v1/devices/:device/events`: raw history, newest first, keyset-paginated on (ts, event_key). */
export function registerListEventsRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/devices/:device/events',
    {
      config: { access: 'read' },
      schema: {
        tags: ['devices'],
        summary: "A device's raw history, newest first",
        params: DeviceParams,
        querystring: EventsQuery,
        headers: ReadOptionHeaders,
        response: EventsResponses,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      const from = parseTime(q.from, 'from');
      const to = parseTime(q.to, 'to');
      refuseEmptyRange(from, to);
      checkNameParam('type', q.type);
      const limit = parseLimit(q.limit, 100, 1000);
      const position = q.cursor === undefined ? undefined : decodeCursor(q.cursor, EVENTS_ORDERING, ['timestamp', 'event-key']);
      const query = {
        tenantId: request.auth.tenantId,
        device: request.params.device,
        from: from === undefined ? '-infinity' : isoTime(from),
        to: to === undefined ? 'infinity' : isoTime(to),
        type: q.type,
        before: position ? { ts: position[0] as string, eventKey: position[1] as string } : undefined,
        limit,
      };
      const { items, nextCursor, meta } = await readEvents(deps.router, query, options);
      return sendRead(deps.metrics, reply, meta, { device: request.params.device, items, nextCursor });
    },
  );
}
