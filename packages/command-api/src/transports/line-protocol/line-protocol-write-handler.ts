import type { FastifyReply, FastifyRequest } from 'fastify';
import { encodeToken } from '@strata/core';
import type { AcceptEventsDeps } from '../../ingest/accept-events.ts';
import { LARGE_BODY_BYTES, type LargeBodyDeps } from '../../ingest/large-body-lane.ts';
import { takeLargeBodyTurn } from '../http/take-large-body-turn.ts';
import { acceptLineProtocol } from './accept-line-protocol.ts';
import { bodyBytes } from './prepare-line-protocol-scope.ts';
import { readDeviceTag } from './read-device-tag.ts';
import { readPrecision, type Precision } from './read-precision.ts';

/**
 * The handler of a line-protocol write route (`/api/v2/write`, `/write`), which differ only in their
 * precision names: 204 once every line is stored as a 202 would promise, with the consistency token
 * in `X-Consistency-Token` (the header query-api reads) since a 204 has no body to carry it.
 */
export function lineProtocolWriteHandler(deps: AcceptEventsDeps & LargeBodyDeps, precisions: ReadonlyMap<string, Precision>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const query = request.query as Record<string, unknown>;
    const options = { precision: readPrecision(query.precision, precisions), deviceTag: readDeviceTag(query.deviceTag) };
    const bytes = bodyBytes(request.body);
    // A gzip body is judged by what it decompressed to; an uncompressed large one has its turn already.
    if (bytes.length >= LARGE_BODY_BYTES) await takeLargeBodyTurn(deps.largeBodies, request, reply);
    const { batchId } = await acceptLineProtocol(deps, request.auth, bytes, options);
    return reply.code(204).header('x-consistency-token', encodeToken(batchId)).send();
  };
}
