import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '@strata/core';
import { READ_BYTES_PER_BYTE, type HeldBytes } from './held-bytes.ts';
import { BYTES_TAKEN_APART_FROM, type IngestRateLimiter } from './ingest-rate-limiter.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Bytes of the body taken from the tenant's byte rate before it was read (its Content-Length), or 0. */
    bytesTaken: number;
    /**
     * The body's bytes are in a parser's hands (taken, owed or charged by it), or the body was refused
     * unread at its take: nothing is left to charge for it when the request ends.
     */
    bodyAccounted: boolean;
    /**
     * Bytes of the body read and not yet taken from the byte rate (OwedBytes, decision 0126): set by
     * the body's parser, taken and cleared by acceptEvents, charged when the request is answered.
     */
    owedBytes: number;
  }
}

/** The routes that take events, whose refusals strata_ingest_requests_rejected_total counts. */
export const WRITE_ROUTES = new Set(['/v1/events', '/api/v2/write', '/write']);

/** How long a held tenant's write request waits for its 429 at most. */
const HELD_ANSWER_MAX_DELAY_MS = 1000;

export interface WriteBodyAdmissionDeps {
  rateLimiter: Pick<IngestRateLimiter, 'held' | 'chargeRefused' | 'chargeOwed' | 'takeBytes'>;
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
 * - a body of BYTES_TAKEN_APART_FROM bytes or more is taken from the byte rate by its Content-Length
 *   before any of it is read: over the rate it gets 429 unread, its connection closed (decision 0126);
 *   a smaller one owes its bytes, set by its parser and taken with its events, and what a request
 *   refused before that still owes is charged as it is answered; a body that never reaches a parser
 *   (aborted, refused for its type or for MAX_BODY_BYTES) is charged what was read of it;
 */
export function registerWriteBodyAdmission(app: FastifyInstance, deps: WriteBodyAdmissionDeps): void {
  app.decorateRequest('bytesTaken', 0);
  app.decorateRequest('owedBytes', 0);
  app.decorateRequest('bodyAccounted', false);
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isWrite(request)) return done();
    const held = deps.rateLimiter.held(request.auth.tenantId);
    if (held === undefined) return done();
    setTimeout(() => done(held.refusal), Math.min(held.leftMs, HELD_ANSWER_MAX_DELAY_MS));
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (!isWrite(request)) return done(null, payload);
    const { tenantId } = request.auth;
    const declared = declaredBodyBytes(request);
    const bytes = Math.min(declared ?? deps.config.maxBodyBytes, deps.config.maxBodyBytes);
    let release: () => void;
    try {
      release = deps.heldBytes.take(tenantId, bytes * READ_BYTES_PER_BYTE);
    } catch (error) {
      return done(error as Error);
    }
    // Where the body began on the socket: what it had read, less what of the body is buffered already
    // (read with the headers). A body that never reaches a parser is charged what was read of it since.
    const readBefore = (request.raw.socket?.bytesRead ?? 0) - request.raw.readableLength;
    // Registered in the same turn as the charge: 'close' comes once the response is done or the
    // connection is gone, whatever happened in between (onSend charges what is owed first, when the
    // request is answered at all). A body that never reached a parser (aborted half-way, refused for
    // its type or for MAX_BODY_BYTES) is charged what was read of it: otherwise a flood of bodies
    // aborted before their last byte was read in full and never charged (hostile review of 0126).
    // What was read, not what was declared: headers announcing 100 MB and no body cost nothing to
    // read (second review: 23 of them at once locked their tenant out for ten minutes).
    reply.raw.once('close', () => {
      release();
      deps.rateLimiter.chargeOwed(tenantId, request);
      if (request.bodyAccounted) return;
      const read = (request.raw.socket?.bytesRead ?? readBefore) - readBefore;
      deps.rateLimiter.chargeRefused(tenantId, Math.min(read, deps.config.maxBodyBytes) - request.bytesTaken);
    });
    // Larger than MAX_BODY_BYTES is refused unread (and charged what was read, on close). Whatever its encoding: a
    // compressed body's growth is charged once it is decompressed, and /v1/events decodes nothing.
    if (declared === undefined || declared < BYTES_TAKEN_APART_FROM || declared > deps.config.maxBodyBytes) return done(null, payload);
    const taking = deps.rateLimiter.takeBytes(tenantId, declared);
    if (taking === undefined) return done(null, payload);
    taking.then(
      () => {
        request.bytesTaken = declared;
        done(null, payload);
      },
      (error: unknown) => {
        // Answered with its body unread: core's createHttpServer closes the connection.
        request.bodyAccounted = true;
        done(error as Error);
      },
    );
  });
  // Before the answer leaves, so a client's next request is counted after this one's charge.
  app.addHook('onSend', (request, _reply, payload, done) => {
    if (request.owedBytes > 0 && isWrite(request)) deps.rateLimiter.chargeOwed(request.auth.tenantId, request);
    done(null, payload);
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
