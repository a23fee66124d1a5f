import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';

/** The projector serves no API, only /livez, /readyz and /metrics for operators. */
export function buildProbeServer(deps: ProjectorDeps, isClosing: () => boolean): FastifyInstance {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: {
      postgres: postgresCheck(deps.pool),
      queueRedis: redisCheck(deps.queueRedis),
      queueRedisPolicy: queueRedisCheck(deps.queueRedis),
      cacheRedis: redisCheck(deps.cache),
    },
    isClosing,
  });
  return app;
}
