import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logging/create-logger.ts';
import { registerErrorHandler } from '../errors/register-error-handler.ts';

export interface HttpServerOptions {
  bodyLimit?: number;
}

/**
 * A Fastify instance as every Strata process wants it: our logger, our error handler, and no
 * per-request log lines (at thousands of requests a second they would cost more than the work;
 * latency and status are in /metrics instead, and errors are still logged).
 */
export function createHttpServer(logger: Logger, options: HttpServerOptions = {}): FastifyInstance {
  const app = Fastify({
    // pino 10's Logger type differs from the pino 9 types Fastify was built with; the object is compatible.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });
  registerErrorHandler(app);
  return app;
}
