import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './app-error.ts';

/** Fastify's own error codes that are really the client's fault, mapped to our stable codes. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
};

/**
 * Errors the router raises before any route (and so before setErrorHandler) could see the request;
 * Fastify answers them in its own format and repeats the path, which may be kilobytes long or carry
 * whatever a client put there. Passed as Fastify's `frameworkErrors` option (createHttpServer).
 * Neither answer repeats the path.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.code(414).send({ error: { code: 'uri_too_long', message: 'a path segment is longer than any name the API accepts' } });
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return reply.code(400).send({
      error: {
        code: 'invalid_request',
        message: 'request is invalid',
        details: [{ field: 'url', reason: 'holds a percent-escape that is not valid UTF-8' }],
      },
    });
  }
  // FST_ERR_ASYNC_CONSTRAINT: no route uses async constraints, so this is our bug, not the client's.
  reply.log.error({ err: error }, 'router error');
  return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
}

/**
 * The single place errors become HTTP answers: AppErrors keep their status, code and details;
 * schema failures become 400 naming the field; anything else is a 500 whose internals stay in the log.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      // A 5xx with a cause is a failure to look at; one without is a refusal by design (shutting down,
      // a bound, the projection behind) that a client can cause thousands of times a second: its
      // metric counts it, and the log has it at debug, without a stack.
      if (error.status >= 500 && error.cause !== undefined) request.log.warn({ err: error.cause }, error.message);
      else if (error.status >= 500) request.log.debug({ code: error.code }, error.message);
      if (error.headers) void reply.headers(error.headers);
      return reply.code(error.status).send({
        error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const details = fastifyError.validation.map((issue) => ({
        field: `${fastifyError.validationContext ?? 'request'}${issue.instancePath.replaceAll('/', '.') || ''}`,
        reason: issue.message ?? 'invalid',
      }));
      return reply.code(400).send({ error: { code: 'invalid_request', message: 'request is invalid', details } });
    }
    const mapped = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
    if (mapped) {
      return reply.code(mapped.status).send({ error: { code: mapped.code, message: fastifyError.message } });
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return reply
        .code(fastifyError.statusCode)
        .send({ error: { code: 'invalid_request', message: fastifyError.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler(answerNotFound);
}

/**
 * The 404 for a request no route matched. Also set inside an authenticated scope (query-api's /v1)
 * so that the scope's hooks, authentication first, run before a caller learns which paths exist.
 * The path only: the query string may carry a credential (`?access_token=` on the live stream),
 * and an answer (or a proxy's log of it) must never repeat one.
 */
export function answerNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const query = request.url.indexOf('?');
  const path = query === -1 ? request.url : request.url.slice(0, query);
  return reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${path}` } });
}
