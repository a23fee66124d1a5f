import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LargeBodyLane } from '../../ingest/large-body-lane.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request holds a turn of the large-body lane (given back when its response closes). */
    largeBodyTurn: boolean;
  }
}

/**
 * Waits for this request's turn in the large-body lane (decision 0123), once per request: a later call
 * returns at once. The turn is given back when the response closes, answered or abandoned; a client
 * that goes away while waiting leaves the queue.
 */
export async function takeLargeBodyTurn(lane: LargeBodyLane, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.largeBodyTurn) return;
  const abandoned = new AbortController();
  let release: (() => void) | undefined;
  let closed = false;
  reply.raw.once('close', () => {
    closed = true;
    abandoned.abort(new Error('the client went away while its body waited for its turn'));
    release?.();
  });
  const granted = await lane.enter(request.auth.tenantId, abandoned.signal);
  if (closed) granted();
  else release = granted;
  request.largeBodyTurn = true;
}
