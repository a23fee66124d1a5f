import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';

export interface BuildProbeServerOptions {
  /** True once shutdown has begun (startProjector tracks it): readiness then answers 503. */
  isClosing?: () => boolean;
}

/** The projector serves no API, only /livez, /readyz and /metrics for operators; not listening yet. */
export function buildProbeServer(deps: ProjectorDeps, options: BuildProbeServerOptions = {}): FastifyInstance {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: {
      postgres: postgresCheck(deps.pool),
      queueRedis: redisCheck(deps.queueRedis),
      queueRedisPolicy: queueRedisCheck(deps.queueRedis),
      cacheRedis: redisCheck(deps.cache),
    },
    ...(options.isClosing ? { isClosing: options.isClosing } : {}),
  });
  return app;
}
