import type { FastifyReply, FastifyRequest } from 'fastify';
import { encodeToken } from '@strata/core';
import type { AcceptEventsDeps } from '../../ingest/accept-events.ts';
import { acceptLineProtocol } from './accept-line-protocol.ts';
import { bodyBytes } from './prepare-line-protocol-scope.ts';
import { readDeviceTag } from './read-device-tag.ts';
import { readPrecision, type Precision } from './read-precision.ts';

/**
 * The handler of a line-protocol write route (`/api/v2/write`, `/write`), which differ only in their
 * precision names: 204 once every line is stored as a 202 would promise, with the consistency token
 * in `X-Consistency-Token` (the header query-api reads) since a 204 has no body to carry it.
 */
export function lineProtocolWriteHandler(deps: AcceptEventsDeps, precisions: ReadonlyMap<string, Precision>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const query = request.query as Record<string, unknown>;
    const options = { precision: readPrecision(query.precision, precisions), deviceTag: readDeviceTag(query.deviceTag) };
    // The request owes what its parser did not take of its bytes (decision 0126).
    const { batchId } = await acceptLineProtocol(deps, request.auth, bodyBytes(request.body), options, request);
    return reply.code(204).header('x-consistency-token', encodeToken(batchId)).send();
  };
}
