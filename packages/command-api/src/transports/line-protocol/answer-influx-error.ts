import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@strata/core';
import { BadLinesError, type LineProblem } from './bad-lines-error.ts';

/** InfluxDB 2's error codes by status, which its clients (Telegraf, the influx CLI) print. */
const INFLUX_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  413: 'request too large',
  415: 'invalid',
  429: 'too many requests',
  503: 'unavailable',
};

/** Fastify's refusals of a body, said in words a line-protocol user can act on. */
const FASTIFY_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'the body is larger than MAX_BODY_BYTES' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'send line protocol as text/plain or without a Content-Type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body' },
};

/**
 * The error handler of the InfluxDB-compatible routes: errors in the shape InfluxDB's own clients
 * parse, `{"code", "message"}` on /api/v2 and `{"error"}` on the 1.x routes, with every bad line
 * named in the message and listed under `errors` (and the first one as `line`, as InfluxDB 2 does).
 */
export function answerInfluxError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, message, lines } = describe(error, request);
  if (error instanceof AppError && error.headers) void reply.headers(error.headers);
  const v2 = request.routeOptions.url?.startsWith('/api/v2/') ?? false;
  const listed = lines ? { errors: lines } : {};
  if (v2) return reply.code(status).send({ code: INFLUX_CODES[status] ?? 'internal error', message, ...(lines?.[0] ? { line: lines[0].line } : {}), ...listed });
  return reply.code(status).send({ error: message, ...listed });
}

function describe(error: FastifyError | Error, request: FastifyRequest): { status: number; message: string; lines?: LineProblem[] } {
  if (error instanceof BadLinesError) return { status: 400, message: error.message, lines: error.lines };
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.warn({ err: error.cause ?? error }, error.message);
    const details = error.details?.map((detail) => `${detail.field} ${detail.reason}`).join('; ');
    return { status: error.status, message: details ? `${error.message}: ${details}` : error.message };
  }
  const code = (error as FastifyError).code;
  const known = code ? FASTIFY_ERRORS[code] : undefined;
  if (known) return known;
  const statusCode = (error as FastifyError).statusCode;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return { status: statusCode, message: error.message };
  request.log.error({ err: error }, 'unhandled error');
  return { status: 500, message: 'internal error' };
}
