import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';

export interface ProbeServerOptions {
  /** The running service's own flag (service.ts): readiness answers 503 once it is set. */
  isClosing: () => boolean;
}

/** The projector serves no API, only /livez, /readyz and /metrics for operators. */
export function buildProbeServer(deps: ProjectorDeps, options: ProbeServerOptions): FastifyInstance {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: {
      postgres: postgresCheck(deps.pool),
      queueRedis: redisCheck(deps.queueRedis),
      queueRedisPolicy: queueRedisCheck(deps.queueRedis),
      cacheRedis: redisCheck(deps.cache),
    },
    isClosing: options.isClosing,
  });
  return app;
}
