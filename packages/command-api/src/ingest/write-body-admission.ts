import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '@strata/core';
import { READ_BYTES_PER_BYTE, type HeldBytes } from './held-bytes.ts';
import type { IngestRateLimiter } from './ingest-rate-limiter.ts';

/** The routes that take events, whose refusals strata_ingest_requests_rejected_total counts. */
export const WRITE_ROUTES = new Set(['/v1/events', '/api/v2/write', '/write']);

/** How long a held tenant's write request waits for its 429 at most. */
const HELD_ANSWER_MAX_DELAY_MS = 1000;

export interface WriteBodyAdmissionDeps {
  rateLimiter: Pick<IngestRateLimiter, 'held' | 'chargeRefused'>;
  heldBytes: Pick<HeldBytes, 'take'>;
  config: Pick<Config, 'maxBodyBytes'>;
}

/**
 * What a write request passes before its body is read (decision 0124), on every HTTP write route
 * (line protocol's scope inherits these hooks), after authentication:
 * - a tenant held over its ingest rate is refused unread; the 429 comes when the hold ends, a second
 *   at most, and nothing of the body is read meanwhile (its connection waits in its TCP window):
 *   answered at once, a client that ignores retry-after re-sent its 1 MiB bodies 100 times a second,
 *   and reading and dropping them slowed a neighbour more than no limit at all;
 * - the body is charged to HeldBytes from its first byte read, by what it says it is (Content-Length,
 *   else MAX_BODY_BYTES), until the request is answered: bodies staged on many connections and
 *   finished at once held 1.1 GB past every bound before (second hostile review of 0124);
 * - a body refused for MAX_BODY_BYTES before it was read whole is charged its reading up to the limit.
 * The body's bytes are taken from the byte rate once read, by each transport's parser (takeBytes).
 */
export function registerWriteBodyAdmission(app: FastifyInstance, deps: WriteBodyAdmissionDeps): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isWrite(request)) return done();
    const held = deps.rateLimiter.held(request.auth.tenantId);
    if (held === undefined) return done();
    setTimeout(() => done(held.refusal), Math.min(held.leftMs, HELD_ANSWER_MAX_DELAY_MS));
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (!isWrite(request)) return done(null, payload);
    const bytes = Math.min(declaredBodyBytes(request) ?? deps.config.maxBodyBytes, deps.config.maxBodyBytes);
    let release: () => void;
    try {
      release = deps.heldBytes.take(request.auth.tenantId, bytes * READ_BYTES_PER_BYTE);
    } catch (error) {
      return done(error as Error);
    }
    // Registered in the same turn as the charge: 'close' comes once the response is done or the
    // connection is gone, whatever happened in between.
    reply.raw.once('close', release);
    done(null, payload);
  });
  app.addHook('onError', (request, _reply, error, done) => {
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' && isWrite(request)) {
      deps.rateLimiter.chargeRefused(request.auth.tenantId, deps.config.maxBodyBytes);
    }
    done();
  });
}

/** The Content-Length Fastify checks a body against; undefined for a chunked body. */
export function declaredBodyBytes(request: FastifyRequest): number | undefined {
  const declared = Number(request.headers['content-length']);
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
}

function isWrite(request: FastifyRequest): boolean {
  return WRITE_ROUTES.has(request.routeOptions.url ?? '') && Boolean(request.auth);
}
