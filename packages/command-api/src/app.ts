import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  createHttpServer,
  registerRequestMetrics,
  AppError,
  badRequest,
  postgresCheck,
  queueRedisCheck,
  redisCheck,
  registerApiDocs,
  registerProbeRoutes,
  registerRouteAuthentication,
} from '@strata/core';
import type { CommandDeps } from './deps.ts';
import { MAX_BODY_NESTING, NESTING_SCAN_MIN_BYTES, exceedsNesting } from './ingest/exceeds-nesting.ts';
import { WRITE_ROUTES, declaredBodyBytes, registerWriteBodyAdmission } from './ingest/write-body-admission.ts';
import { COMMAND_API_DOCS } from './routes/command-api-docs.ts';
import { registerInfluxPingRoute } from './routes/influx-ping-route.ts';
import { registerPatchDeviceLabelsRoute } from './routes/patch-device-labels-route.ts';
import { registerInfluxQueryRoute } from './routes/influx-query-route.ts';
import { registerPostApiV2WriteRoute } from './routes/post-api-v2-write-route.ts';
import { registerPostEventsRoute } from './routes/post-events-route.ts';
import { registerPostWriteRoute } from './routes/post-write-route.ts';
import { registerPutDeviceLabelsRoute } from './routes/put-device-labels-route.ts';
import { prepareLineProtocolScope } from './transports/line-protocol/prepare-line-protocol-scope.ts';
import { readInfluxCredential } from './transports/line-protocol/read-influx-credential.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Characters of the JSON or NDJSON body as read (0 for other bodies): what the request's memory
     * is estimated from (ingest/held-bytes.ts).
     */
    bodyChars: number;
    /** Bytes of that body as received (0 for other bodies): what the tenant's byte rate counts (decision 0124). */
    bodyBytes: number;
  }
}


const REJECTION_REASONS: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

export interface BuildAppOptions {
  /** True once shutdown has begun (startCommandApi tracks it): new requests and readiness then get 503. */
  isClosing?: () => boolean;
}

/**
 * The command API as a Fastify instance, not listening, with nothing started: tests and
 * startCommandApi both build it here, and startCommandApi starts what it relies on.
 */
export async function buildApp(deps: CommandDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const isClosing = options.isClosing ?? (() => false);
  const app = createHttpServer(deps.logger, { limits: deps.config, bodyLimit: deps.config.maxBodyBytes, keepPrototypeKeys: true });
  // Only JSON and NDJSON are event formats; Fastify's default text/plain parser would accept junk.
  app.removeContentTypeParser('text/plain');
  // Bodies past a size where nesting could cost anything are scanned before parsing: JSON.parse of
  // 5 MB of `[[[[…` blocks the event loop for seconds, stalling every tenant's requests.
  const parseJson = app.getDefaultJsonParser('ignore', 'ignore');
  app.removeContentTypeParser('application/json');
  app.decorateRequest('bodyChars', 0);
  app.decorateRequest('bodyBytes', 0);
  // An event body's bytes not taken before it was read (write-body-admission.ts) are taken before it
  // is scanned or parsed when there are many, else owed and taken with its events (decision 0126); a
  // tenant held over its rate gets 429 unparsed, however many of its bodies arrive at once.
  const takeBytes = (request: FastifyRequest, text: string, then: () => void, done: (error: Error | null, body?: unknown) => void): void => {
    readSize(request, text);
    request.bodyAccounted = true;
    const taking = request.routeOptions.url === '/v1/events' && request.auth
      ? deps.rateLimiter.takeOrOwe(request.auth.tenantId, request.bodyBytes - request.bytesTaken, request)
      : undefined;
    if (taking === undefined) return then();
    taking.then(then, (error: unknown) => done(error as Error, undefined));
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    takeBytes(request, text, () => {
      if (text.length > NESTING_SCAN_MIN_BYTES && exceedsNesting(text, MAX_BODY_NESTING)) return done(tooDeep(), undefined);
      parseJson(request, text, done);
    }, done);
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    takeBytes(request, text, () => {
      if (text.length > NESTING_SCAN_MIN_BYTES && exceedsNesting(text, MAX_BODY_NESTING, true)) return done(tooDeep(), undefined);
      done(null, { ndjson: text });
    }, done);
  });

  // Callback hooks on the hot path: an async hook costs a promise and microtask turns per request.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (isClosing()) return done(new AppError(503, 'unavailable', 'shutting down', { headers: { connection: 'close', 'retry-after': '1' } }));
    done();
  });
  // By the matched route's declared access, never the raw URL (issue 9, finding 1).
  // InfluxDB clients send the key as `Token`, Basic auth or `p=`: only routes declaring
  // `keyFrom: 'influx'` read it there.
  registerRouteAuthentication(app, {
    authenticator: deps.authenticator,
    credentialSources: { influx: readInfluxCredential },
    missingKeyMessages: { influx: 'missing API key: send it as Authorization: Token <key> (or Bearer <key>), as the Basic auth password, or as the p= parameter' },
  });
  registerWriteBodyAdmission(app, deps);
  registerRequestMetrics(app, deps.registry);
  // Before every route: the OpenAPI document collects routes as they are registered (/docs, /docs/json; public).
  await registerApiDocs(app, { ...COMMAND_API_DOCS, plugins: { swagger, swaggerUi } });
  app.addHook('onResponse', (request, reply, done) => {
    const reason = REJECTION_REASONS[reply.statusCode];
    if (reason && WRITE_ROUTES.has(request.routeOptions.url ?? '')) deps.metrics.requestsRejected.inc({ reason });
    done();
  });

  // The ingest rate limit counts events, not requests, so it runs in the route once the body is read
  // (routes/post-events-route.ts, IngestRateLimiter); Redis-backed, per tenant, shared by every instance.

  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: { postgres: postgresCheck(deps.pool), redis: redisCheck(deps.redis), queueRedisPolicy: queueRedisCheck(deps.redis) },
    isClosing,
  });
  registerPostEventsRoute(app, deps);
  registerPutDeviceLabelsRoute(app, deps);
  registerPatchDeviceLabelsRoute(app, deps);
  // InfluxDB line protocol (decision 0072), in a scope of its own: its body parsers, error shape and
  // headers are InfluxDB's, and none of them may reach /v1/events.
  await app.register(async (scope) => {
    prepareLineProtocolScope(scope, deps.config, deps.rateLimiter);
    registerPostApiV2WriteRoute(scope, deps);
    registerPostWriteRoute(scope, deps);
    registerInfluxQueryRoute(scope);
    registerInfluxPingRoute(scope);
  });
  return app;
}

/**
 * The body's length in characters (what memory is estimated from) and in bytes as received: the
 * Content-Length Fastify has checked the body against, else (a chunked body) its UTF-8 length.
 */
function readSize(request: FastifyRequest, text: string): void {
  request.bodyChars = text.length;
  request.bodyBytes = declaredBodyBytes(request) ?? Buffer.byteLength(text);
}

function tooDeep(): Error {
  return badRequest('body is invalid', [{ field: 'body', reason: `nested deeper than ${MAX_BODY_NESTING} levels` }]);
}
