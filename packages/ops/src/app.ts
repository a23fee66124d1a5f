import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { OpsDeps } from './deps.ts';
import { registerHealthRoute } from './routes/health-route.ts';

export interface OpsAppOptions {
  /** The running service's own flag (service.ts): readiness answers 503 once it is set. */
  isClosing: () => boolean;
}

/** The ops HTTP surface without side effects (not listening): probes, metrics and the health report. */
export function buildApp(deps: OpsDeps, options: OpsAppOptions): FastifyInstance {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: {
      postgres: postgresCheck(deps.pool),
      queueRedis: queueRedisCheck(deps.queueRedis),
      cacheRedis: redisCheck(deps.cacheRedis),
    },
    isClosing: options.isClosing,
  });
  registerHealthRoute(app, deps);
  return app;
}
