import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { postgresCheck, queueRedisCheck, redisCheck, registerErrorHandler, registerProbeRoutes } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';

/** The projector serves no API, only /livez, /readyz and /metrics for operators. */
export function buildProbeServer(deps: ProjectorDeps, isClosing: () => boolean): FastifyInstance {
  // pino 10's Logger type differs from the pino 9 types Fastify was built with; the object is compatible.
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, disableRequestLogging: true });
  registerErrorHandler(app);
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
