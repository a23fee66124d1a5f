import type { FastifyInstance } from 'fastify';
import { encodeToken, errorResponses } from '@strata/core';
import { acceptEvents, type AcceptEventsDeps } from '../ingest/accept-events.ts';
import { JSON_BYTES_PER_CHAR } from '../ingest/held-bytes.ts';
import { readEventList } from '../ingest/read-event-list.ts';
import { Accepted, EventsBody, documentOnly } from './write-schemas.ts';

export type PostEventsRouteDeps = AcceptEventsDeps;

const schema = {
  tags: ['write'],
  summary: 'Write events',
  description:
    'One event, `{"events": [...]}` or NDJSON. All-or-nothing: a 400 lists every invalid event by index and field and stores nothing. ' +
    "The body is checked event by event by the handler (readEventList), not by this schema, which documents it. Over the tenant's " +
    'INGEST_RATE_LIMIT_EVENTS_PER_SECOND (counted in events) the answer is 429.',
  body: EventsBody,
  response: { 202: Accepted, ...errorResponses(400, 401, 403, 413, 415, 429, 500, 503) },
};

export function registerPostEventsRoute(app: FastifyInstance, deps: PostEventsRouteDeps): void {
  app.post('/v1/events', { config: { access: 'write' }, schema, validatorCompiler: documentOnly }, async (request, reply) => {
    // A large body's bytes were taken from the tenant's byte rate before it was parsed; a small one's
    // are owed by the request and taken with its events (decision 0126).
    const { events, errors } = readEventList(request.body);
    const { accepted, batchId } = await acceptEvents(deps, request.auth, events, request.bodyChars * JSON_BYTES_PER_CHAR, errors, request);
    return reply.code(202).send({ accepted, token: encodeToken(batchId) });
  });
}
