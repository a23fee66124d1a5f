import type { FastifyInstance } from 'fastify';
import { AppError, encodeToken } from '@strata/core';
import type { CommandDeps } from '../deps.ts';
import { readEventList } from '../ingest/read-event-list.ts';
import { validateEvents } from '../ingest/validate-events.ts';

/** Most clients fix a batch by reading the first problems; the total tells them how many remain. */
const MAX_REPORTED_ERRORS = 1000;

export function registerPostEvents(app: FastifyInstance, deps: CommandDeps): void {
  app.post('/v1/events', { config: { access: 'write' } }, async (request, reply) => {
    const { events: raw, errors: parseErrors } = readEventList(request.body);
    const { events, errors } = validateEvents(raw, parseErrors, { nowMs: deps.clock.now(), days: deps.config.retentionDays });
    if (errors.length > 0) {
      const invalid = new Set(errors.map((error) => error.index)).size;
      deps.metrics.eventsRejected.inc({ reason: 'invalid' }, raw.length);
      throw new AppError(400, 'invalid_events', `${invalid} of ${raw.length} events are invalid; nothing was stored`, {
        details: errors.slice(0, MAX_REPORTED_ERRORS),
      });
    }
    let batchId: string;
    try {
      batchId = await deps.committer.submit(request.tenantId, events);
    } catch (error) {
      deps.metrics.eventsRejected.inc({ reason: 'unavailable' }, events.length);
      throw error;
    }
    deps.metrics.eventsAccepted.inc(events.length);
    return reply.code(202).send({ accepted: events.length, token: encodeToken(batchId) });
  });
}
