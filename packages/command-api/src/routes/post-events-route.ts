import type { FastifyInstance } from 'fastify';
import { encodeToken } from '@strata/core';
import { acceptEvents, type AcceptEventsDeps } from '../ingest/accept-events.ts';
import { readEventList } from '../ingest/read-event-list.ts';

export type PostEventsRouteDeps = AcceptEventsDeps;

export function registerPostEventsRoute(app: FastifyInstance, deps: PostEventsRouteDeps): void {
  app.post('/v1/events', { config: { access: 'write' } }, async (request, reply) => {
    const { events, errors } = readEventList(request.body);
    const { accepted, batchId } = await acceptEvents(deps, request.auth, events, errors);
    return reply.code(202).send({ accepted, token: encodeToken(batchId) });
  });
}
