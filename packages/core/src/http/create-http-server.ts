import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/create-logger.ts';
import { answerFrameworkError, registerErrorHandler } from '../errors/register-error-handler.ts';

/** The longest percent-encoded path parameter the router accepts (see below). */
const MAX_PARAM_LENGTH = 1536;

/** The connection limits every server gets; callers pass their Config. */
export type HttpServerLimits = Pick<
  Config,
  'httpRequestTimeoutMs' | 'httpConnectionTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpMaxConnections' | 'trustProxy'
>;

export interface HttpServerOptions {
  limits: HttpServerLimits;
  bodyLimit?: number;
  /**
   * Keep `__proto__` and `constructor` keys in JSON bodies as plain data instead of refusing the body.
   * Only for routes that copy bodies into prototype-less objects and never merge them into others
   * (command-api: value keys are names like any other, SPEC "Writing").
   */
  keepPrototypeKeys?: boolean;
}

/**
 * A Fastify instance as every Strata process wants it: our logger, our error handler, no
 * per-request log lines (at thousands of requests a second they would cost more than the work;
 * latency and status are in /metrics instead, and errors are still logged), and limits on what a
 * slow or stalled client can hold: Fastify's defaults wait forever for a body that never finishes
 * and accept connections without bound.
 */
export function createHttpServer(logger: Logger, options: HttpServerOptions): FastifyInstance {
  const { limits } = options;
  const app = Fastify({
    // pino 10's Logger type differs from the pino 9 types Fastify was built with; the object is compatible.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.keepPrototypeKeys ? { onProtoPoisoning: 'ignore', onConstructorPoisoning: 'ignore' } : {}),
    // The whole request (headers and body) must arrive within this, however slowly it trickles in.
    requestTimeout: limits.httpRequestTimeoutMs,
    // A socket with nothing read or written for this long is closed (a body that stalls half-way).
    // Long-lived responses (SSE) must write more often than this, e.g. a heartbeat comment.
    connectionTimeout: limits.httpConnectionTimeoutMs,
    keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
    // request.ip (what the failed-auth limit counts by) is the peer unless the peer is one of the
    // operator's proxies (TRUST_PROXY); then X-Forwarded-For names the client. Never trusted from
    // anyone else: a client could otherwise pick its own bucket with every request.
    ...(limits.trustProxy.length > 0 ? { trustProxy: limits.trustProxy } : {}),
    // Path parameters are names of up to 128 characters (devices, labels); Fastify's default of 100
    // answered 414 for a device of 101-128 characters that could be written. 128 code points of
    // up to 4 UTF-8 bytes, each percent-encoded as 3 characters, is 1536.
    // (A router option: the top-level spelling is deprecated in Fastify 5 and warns at every start.)
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A bad percent-escape or an over-long path segment is answered in our envelope, not Fastify's.
    frameworkErrors: answerFrameworkError,
    http: {
      // Node checks the request and header deadlines only this often (default 30 s), so a short
      // deadline would otherwise be enforced up to 30 s late.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(limits.httpRequestTimeoutMs / 4))),
      headersTimeout: Math.min(60_000, limits.httpRequestTimeoutMs),
    },
  });
  // Beyond this Node closes new connections at once instead of accepting them into memory.
  app.server.maxConnections = limits.httpMaxConnections;
  registerErrorHandler(app);
  // An answer sent before its request's body has all arrived (a 401, 404, 415, or a refusal before
  // reading) closes the connection: kept alive, Node reads and drops the rest of the body to reach the
  // next request, whatever it declared (hostile review of decision 0126: 200 MB read per 401 or 415,
  // uncharged, past MAX_BODY_BYTES).
  // Only for a request that announced a body: Node emits a request before it marks even a bodiless
  // one complete, and closing those cost InfluxDB clients' /ping a connection each (second review).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && announcesBody(request.headers)) reply.header('connection', 'close');
    done(null, payload);
  });
  return app;
}

function announcesBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length']) > 0;
}
